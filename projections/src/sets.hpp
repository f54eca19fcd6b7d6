#pragma once
// One generation of a projection together with its in-memory side: what queries read and what
// the projector (or a rebuild) writes. A set is swapped as a whole (shared_ptr), so a query that
// started on the old copy finishes on it.

#include <rocksdb/db.h>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "db.hpp"
#include "fold.hpp"
#include "memory_views.hpp"
#include "tenant_index.hpp"

namespace tenant::projections::detail {

struct tenants_set {
  generation_ptr gen;
  mutable std::shared_mutex mu;  // guards index
  tenant_index index;
  std::unique_ptr<view_cache> cache;
  std::atomic<std::uint64_t> checkpoint{0};

  rocksdb::ColumnFamilyHandle* rows() const { return gen->cfs[0]; }
  rocksdb::ColumnFamilyHandle* index_cf() const { return gen->cfs[1]; }
};

struct members_set {
  generation_ptr gen;
  mutable std::shared_mutex mu;  // guards index
  membership_index index;
  std::atomic<std::uint64_t> checkpoint{0};

  rocksdb::ColumnFamilyHandle* cf() const { return gen->cfs[0]; }
};

/// Loads the in-memory side of a generation from its column families and its checkpoint.
result<std::shared_ptr<tenants_set>> load_tenants(projections_db& db, generation_ptr gen,
                                                  std::size_t cache_entries,
                                                  std::uint64_t hash_seed);
result<std::shared_ptr<members_set>> load_members(projections_db& db, generation_ptr gen);

/// A tenant row (null: none): the cache first, then RocksDB (blocking, or memory-only with
/// `no_io`, which then reports errc::would_block).
result<tenant_view_ptr> read_row_ptr(const tenants_set& set, const uuid16& id, bool no_io);

/// Folds `events` into the given sets (either may be null): events at or below a set's
/// checkpoint are skipped for it. One WriteBatch with every row and every checkpoint; then the
/// in-memory indexes and caches; then the checkpoints are published.
std::error_code fold_into(projections_db& db, const std::vector<decoded_event>& events,
                          tenants_set* tenants, members_set* members, bool sync);

}  // namespace tenant::projections::detail
