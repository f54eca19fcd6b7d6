#pragma once
/// The query side of tenantd: projections folded from the event log and the queries the API
/// serves from them.
///
/// Projections (each rebuildable on its own, see rebuild()):
///   "tenants"      tenant views, the list/search index and events_recorded;
///   "memberships"  API user -> tenants it belongs to and its current tenant.
/// Usage reports (`tenant.usage`) and API call counters are not folded from the log: they live
/// beside the projections and a rebuild never touches them.
///
/// Ownership: owns `<path>` (a RocksDB database of its own), one projector thread and, during an
/// online rebuild, one rebuild thread. Borrows the event store, which must outlive it.
///
/// Threading: every member is thread-safe. Members marked "non-blocking" never do I/O and take
/// only short locks: call them on io_context threads. The others may read RocksDB: call them on
/// a blocking pool.
///
/// Lifecycle: open() (rebuilds the in-memory indexes from the database: about a second per
/// 500k tenants; never from the log) -> start() (projector thread follows the store from the
/// projections' checkpoints) -> queries -> stop() (joins threads, completes pending waiters with
/// `false`) -> destroy. Queries work before start() (as of the checkpoints) and after stop().
///
/// Exactly-once: each projector batch writes its rows and every projection's checkpoint in one
/// RocksDB WriteBatch, so after a crash the projector resumes at the checkpoint, never skipping or
/// re-applying an event. An event that does not decode stalls the projection (reported in
/// status().error, retried) rather than being skipped.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::projections {

/// Clock of the API call counters (UTC day and month); injectable for tests.
using clock_fn = std::function<domain::clock_time()>;

struct read_model_options {
  std::string path;                            ///< <data-dir>/projections; created if missing
  domain::plan_limits limits{};                ///< seat_limit of usage views (DESIGN.md defaults)
  std::size_t view_cache_entries = 65'536;     ///< recently read or written tenant views
  std::size_t block_cache_bytes = 128u << 20;  ///< RocksDB block cache of the projections DB
  std::size_t batch_events = 2'048;            ///< most events the projector folds per batch
  /// API call counters are persisted at most this long after they change (a crash loses at most
  /// this much of them).
  std::chrono::milliseconds counters_flush_interval{1'000};
  /// How often an idle projector wakes to expire waiters and flush counters.
  std::chrono::milliseconds idle_tick{50};
  clock_fn clock;  ///< empty = system clock
  /// Open the database as a secondary (read-only) instance: queries as of open, no projector,
  /// every write fails with errc::read_only. Works while tenantd holds the database (verify).
  bool read_only = false;
  /// Test hook (fault-injection tests only): the projections database's files fail as on a full
  /// disk while `fault->fail_writes` is true (see eventstore::write_fault).
  std::shared_ptr<eventstore::write_fault> fault;
};

/// Called once with true when the projections reached the position, false on the deadline or
/// stop(). Runs on the projector thread (or inline in wait_for_position): post to your own
/// executor, do not block.
using position_handler = std::function<void(bool reached)>;

class read_model {
 public:
  /// Opens or creates the database and loads the in-memory indexes. errc::locked when another
  /// process holds the database read-write.
  static result<std::unique_ptr<read_model>> open(eventstore::event_store& store,
                                                  read_model_options options);
  virtual ~read_model() = default;

  /// Starts the projector thread (and resumes an interrupted online rebuild). Once.
  virtual void start() = 0;
  /// Joins the threads; pending waiters get false. Idempotent.
  virtual void stop() = 0;

  // ---- tenant views ----

  /// Non-blocking: from the view cache, else RocksDB's memtables and block cache only.
  virtual lookup try_find(const domain::tenant_id& id) const = 0;
  /// Blocking: the view, or nullptr when there is no such tenant.
  virtual result<tenant_view_ptr> find(const domain::tenant_id& id) const = 0;
  /// Non-blocking: whether the tenant exists (in the index).
  virtual bool exists(const domain::tenant_id& id) const = 0;

  // ---- lists (the in-memory index) ----

  /// Non-blocking. Always equals list_ids(q).total for the same state of the index.
  virtual std::uint64_t count(const list_query& q) const = 0;
  /// Non-blocking: the page's ids in creation order, plus the total.
  virtual id_page list_ids(const list_query& q) const = 0;
  /// Blocking: list_ids plus the views (a tenant whose view changed in between is shown as it
  /// is now).
  virtual result<view_page> list(const list_query& q) const = 0;
  /// Non-blocking: list(q) from memory only (the index, then each view from the view cache or
  /// RocksDB's memory); nullopt when a view would need a read from disk (call list() then).
  /// The default is list_ids() plus try_find() for each id.
  virtual std::optional<view_page> try_list(const list_query& q) const;

  // ---- usage ----

  /// Blocking (reads the tenant view); nullopt when there is no such tenant.
  virtual result<std::optional<usage_view>> usage(const domain::tenant_id& id) const = 0;
  /// Non-blocking: seats in use from the last usage report (0 before any), for plan changes.
  virtual std::uint32_t seats_in_use(const domain::tenant_id& id) const = 0;
  /// Blocking and durable (synced): the `tenant.usage` consumer's entry point. Idempotent: a
  /// report whose observed_at is older than the stored one is ignored (returns false), an equal
  /// or newer one replaces it (true). Works for tenants not (yet) projected.
  virtual result<bool> apply_usage(const domain::tenant_id& id, std::uint32_t seats_in_use,
                                   std::uint64_t storage_bytes, domain::clock_time observed_at) = 0;
  /// Non-blocking: counts one API call of the tenant (persisted in the background).
  virtual void record_api_call(const domain::tenant_id& id) = 0;

  // ---- memberships ----

  /// Non-blocking: whether `user` belongs to `tenant` (created it or switched to it).
  virtual bool may_touch(const domain::user_id& user, const domain::tenant_id& tenant) const = 0;
  /// Non-blocking: the tenants `user` belongs to, sorted by id.
  virtual std::vector<domain::tenant_id> tenants_of(const domain::user_id& user) const = 0;
  /// Non-blocking: the tenant `user` created or switched to last.
  virtual std::optional<domain::tenant_id> current_tenant(const domain::user_id& user) const = 0;

  // ---- read-your-writes ----

  /// Non-blocking: the position every query projection has reached.
  virtual std::uint64_t position() const = 0;
  /// Non-blocking: calls `done(true)` once position() >= n (inline when already so), or
  /// `done(false)` at `deadline` (within idle_tick) or on stop().
  virtual void wait_for_position(std::uint64_t n, std::chrono::steady_clock::time_point deadline,
                                 position_handler done) = 0;

  // ---- operations ----

  /// Non-blocking: checkpoint, lag and rebuild progress of each projection.
  virtual std::vector<projection_status> status() const = 0;
  /// Non-blocking: every projection within `max_lag` of the store's head (for /readyz).
  virtual bool caught_up(std::uint64_t max_lag = 0) const = 0;
  /// Online rebuild (POST /admin/projections/{name}/rebuild): "tenants", "memberships" or
  /// "all". Folds the log into a shadow copy on a thread of its own while queries are served
  /// from the current copy, then swaps it in atomically once caught up. Returns at once:
  /// errc::busy when that projection is already rebuilding, errc::unknown_projection.
  virtual std::error_code rebuild(std::string_view name) = 0;
};

/// Names accepted by rebuild() and `tenantctl replay --projection` besides "all".
std::vector<std::string> projection_names();

}  // namespace tenant::projections
