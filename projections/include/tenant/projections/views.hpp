#pragma once
/// The read models served to the API: plain values, safe to copy between threads. A
/// `tenant_view_ptr` is immutable once published, so it may be shared by any number of threads
/// without locks.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenant/domain/tenant.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::projections {

/// The tenant resource of both APIs: every field of DESIGN.md's tenant (id, name, status, plan,
/// admin_email, domain, settings, address, city, country_code, country_name, post_code,
/// description, is_trashed, group_id, group_name, subscription {plan, status, trial_ends_at,
/// cancelled_at}, created_at, updated_at, version) is in `state`:
///   state.id, state.profile.*, state.country_name, state.status, state.is_trashed(),
///   state.subscription.*, state.created_at, state.updated_at, state.version (= the ETag).
/// `state.seen_payment_ids` is always empty in a view (payment idempotency is the aggregate's
/// business, not the query side's, and the set grows without bound).
/// Bytes computed from a view's fields and nothing else (the API's JSON renderings of the
/// tenant), made on first use and kept with the view: a published view never changes, so they
/// never go stale, and a tenant on many list pages is rendered once per version instead of once
/// per page. Thread-safe without locks (the first thread to store a slot wins; a racing one
/// frees its copy). A copy or an assignment of a view starts empty, and equality ignores them.
class derived_bytes {
 public:
  static constexpr std::size_t slot_count = 4;
  derived_bytes() = default;
  derived_bytes(const derived_bytes&) noexcept {}
  derived_bytes& operator=(const derived_bytes&) noexcept {
    clear();
    return *this;
  }
  ~derived_bytes() { clear(); }
  friend bool operator==(const derived_bytes&, const derived_bytes&) { return true; }

  /// The bytes stored in `slot` (< slot_count), or nullptr.
  const std::string* get(std::size_t slot) const {
    return slots_[slot].load(std::memory_order_acquire);
  }
  /// Stores `bytes` in `slot` unless it is already set; returns what the slot holds.
  const std::string& set(std::size_t slot, std::string bytes) const {
    auto* mine = new std::string(std::move(bytes));
    const std::string* expected = nullptr;
    if (slots_[slot].compare_exchange_strong(expected, mine, std::memory_order_acq_rel))
      return *mine;
    delete mine;
    return *expected;
  }

 private:
  // Only ever called with the object exclusively owned (destruction, assignment): a slot read
  // empty is empty, and most are (four locked exchanges per row showed in the profile of the
  // replay freeing its rows).
  void clear() noexcept {
    for (auto& s : slots_)
      if (s.load(std::memory_order_relaxed) != nullptr)
        delete s.exchange(nullptr, std::memory_order_acq_rel);
  }
  mutable std::array<std::atomic<const std::string*>, slot_count> slots_{};
};

struct tenant_view {
  domain::tenant_state state;
  std::uint64_t created_position = 0;  ///< global position of TenantCreated (list order)
  std::uint64_t last_position = 0;     ///< global position of the stream's last event folded
  derived_bytes rendered;              ///< the API's renderings of `state` (api/tenant_json)
  friend bool operator==(const tenant_view&, const tenant_view&) = default;
};
using tenant_view_ptr = std::shared_ptr<const tenant_view>;

/// Outcome of a non-blocking lookup.
enum class lookup_status : std::uint8_t {
  found,        ///< `view` is set
  not_found,    ///< no such tenant (as of the projection's position)
  would_block,  ///< the row is neither cached nor in RocksDB's memory: use the blocking call
};
struct lookup {
  lookup_status status = lookup_status::not_found;
  tenant_view_ptr view;
};

/// GET /tenants and /tenants/count. Filters combine with AND; absent = no filter.
struct list_query {
  /// Whole name, case-insensitive (ICU full case folding of both sides, surrounding
  /// whitespace ignored).
  std::optional<std::string> name;
  /// Every word of the query (ICU word boundaries, case-folded) must be a prefix of some word
  /// of the description. A query without any word (only spaces or punctuation) matches every
  /// tenant here; the HTTP routes refuse one that is not only spaces (422).
  std::optional<std::string> description;
  std::optional<domain::tenant_status> status;  ///< `none` matches nothing
  std::optional<domain::plan_tier> plan;
  /// The tenants the caller may see (non-admin callers); nullopt = every tenant (admin). Ids
  /// of unknown tenants and duplicates are ignored.
  std::optional<std::vector<domain::tenant_id>> visible;
  std::uint64_t page = 1;       ///< from 1 (0 is treated as 1; the API answers 422 first)
  std::uint64_t per_page = 10;  ///< 1..100 (clamped; the API answers 422 first)
};

/// One page of ids, in creation order, and the number of matches over all pages.
struct id_page {
  std::vector<domain::tenant_id> ids;
  std::uint64_t total = 0;
};

/// One page of views, in creation order, and the number of matches over all pages.
struct view_page {
  std::vector<tenant_view_ptr> items;
  std::uint64_t total = 0;
};

/// GET /tenants/{id}/usage (DESIGN.md "Kafka": the usage response).
struct usage_view {
  domain::tenant_id tenant_id;
  domain::plan_tier plan = domain::plan_tier::starter;
  std::uint32_t seats_in_use = 0;           ///< last `tenant.usage` report; 0 before any
  std::optional<std::uint32_t> seat_limit;  ///< the plan's limit; nullopt = unlimited (null)
  std::uint64_t storage_bytes = 0;
  std::uint64_t api_calls_today = 0;              ///< UTC day of the read model's clock
  std::uint64_t api_calls_month = 0;              ///< UTC calendar month
  std::uint64_t events_recorded = 0;              ///< events in the tenant's stream (= its version)
  std::optional<domain::clock_time> observed_at;  ///< of the last usage report; null before any
  /// seats_in_use / seat_limit * 100 (may exceed 100); nullopt when unlimited.
  std::optional<double> seats_percent_used;
  friend bool operator==(const usage_view&, const usage_view&) = default;
};

/// Progress of a rebuild into a shadow copy.
struct rebuild_status {
  std::uint64_t generation = 0;  ///< of the shadow copy
  std::uint64_t checkpoint = 0;  ///< position the shadow copy has reached
  bool online = true;            ///< false: left by an interrupted offline `tenantctl replay`
  friend bool operator==(const rebuild_status&, const rebuild_status&) = default;
};

/// One projection or process manager, for /metrics and /admin/status.
struct projection_status {
  std::string name;  ///< "tenants", "memberships", "provisioning"
  std::string kind;  ///< "projection" or "process_manager"
  std::uint64_t checkpoint = 0;
  std::uint64_t head = 0;  ///< the event store's head when sampled
  std::uint64_t lag = 0;   ///< head - checkpoint (0 when ahead)
  std::uint64_t generation = 0;
  std::optional<rebuild_status> rebuild;
  /// Why the projection is stalled (an event that does not decode, storage errors); empty when
  /// healthy. A stalled projection retries; it never skips an event.
  std::string error;
};

}  // namespace tenant::projections
