#pragma once
// The in-memory halves of the memberships projection and of the view cache. Neither is
// synchronised on its own except view_cache (sharded mutexes): membership_index is guarded by
// its owner's shared_mutex.

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keys.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::projections::detail {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// API user -> tenants (sorted) and current tenant.
class membership_index {
 public:
  struct entry {
    std::vector<uuid16> tenants;  // sorted
    std::optional<uuid16> current;
    friend bool operator==(const entry&, const entry&) = default;
  };

  /// Adds `tenant` to the user's set; `make_current` also makes it the current tenant.
  void add(std::string_view user, const uuid16& tenant, bool make_current);
  bool contains(std::string_view user, const uuid16& tenant) const;
  const entry* find(std::string_view user) const;
  std::size_t users() const { return users_.size(); }
  const auto& all() const { return users_; }

 private:
  std::unordered_map<std::string, entry, string_hash, std::equal_to<>> users_;
};

/// A bounded LRU of tenant views, sharded by tenant. The projector put()s every view it writes;
/// readers fill misses with fill(), which is dropped if the projector wrote to the shard since
/// the reader's lookup (its `epoch`), so a reader can never cache a view older than the stored
/// one.
class view_cache {
 public:
  explicit view_cache(std::size_t capacity);
  /// The cached view or nullptr; `epoch` receives the shard's write epoch for fill().
  tenant_view_ptr get(const uuid16& id, std::uint64_t* epoch = nullptr);
  void fill(const uuid16& id, tenant_view_ptr view, std::uint64_t epoch);
  void put(const uuid16& id, tenant_view_ptr view);
  void clear();

 private:
  static constexpr std::size_t shard_count = 16;
  struct shard {
    std::mutex mu;
    std::list<std::pair<uuid16, tenant_view_ptr>> lru;  // front = most recent
    std::unordered_map<uuid16, std::list<std::pair<uuid16, tenant_view_ptr>>::iterator, uuid16_hash>
        map;
    std::uint64_t epoch = 0;
  };
  shard& shard_of(const uuid16& id) { return shards_[uuid16_hash{}(id) % shard_count]; }
  void insert_locked(shard& s, const uuid16& id, tenant_view_ptr view);

  std::size_t per_shard_;
  shard shards_[shard_count];
};

}  // namespace tenant::projections::detail
