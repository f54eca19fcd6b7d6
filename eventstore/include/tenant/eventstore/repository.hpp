#pragma once
/// The tenant aggregate repository: runs a command as load -> domain::decide -> append with the
/// loaded version as expected version, retrying on a concurrency conflict, and snapshots the
/// state every N events so that long streams load fast.
///
/// Ownership: holds a reference to the event store, which must outlive it; owns a small thread
/// pool (blocking loads run there, never on the caller's thread) and an LRU cache of recently
/// used tenant states. Several repositories may share one store: a cached state is used only
/// while the store's in-memory stream head still matches it.
///
/// Threading: every member is safe to call from any thread. `execute` never blocks (an Asio
/// coroutine may call it and wait for the handler): when the tenant is in memory (a new stream,
/// a cached state) it decides and submits the append on the caller's thread, CPU work only;
/// anything that reads the store runs on the pool. The handler runs exactly once, and while the
/// repository runs never inside `execute`: on a repository pool thread or on the store's writer
/// or sync thread. It must be quick and must not block (post to your own executor). The `load*`
/// members are blocking: call them off io_context threads.
///
/// Lifecycle: construct, use, `stop()` (or destroy): queued work completes, later `execute`
/// calls complete with errc::closed. With no pool thread left to run it, that handler runs at
/// once on the calling thread, inside `execute`; so does the handler of an `execute` that
/// races with `stop()` (its post to the pool is refused). A caller that holds a lock its
/// handler takes must therefore be stopped before the repository (tenantd stops the server,
/// Kafka's consumers and provisioning first).

#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenant/domain/commands.hpp"
#include "tenant/domain/errors.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore {

/// A tenant as loaded: its state, version and the position of its last event.
struct loaded_tenant {
  domain::tenant_state state;  ///< state.exists() is false for a stream without events
  std::uint64_t version = 0;
  std::uint64_t last_position = 0;  ///< 0 = no events
};

struct execute_options {
  /// If-Match: the version the caller saw. A different loaded version, or a conflicting append,
  /// is precondition_failed (412) instead of a retry.
  std::optional<std::uint64_t> expected_version;
  event_metadata metadata;
  /// The (caller-scoped) Idempotency-Key. When set, event i gets the id
  /// `uuid::derived(seed + "/" + i)`: a retried request finds its events already stored and is
  /// answered with them (`append->replayed`) instead of appending twice. Otherwise: UUID v7 ids.
  std::optional<std::string> event_id_seed;
};

struct execute_success {
  /// The tenant after the command (version and last position with it). Shared with the
  /// repository's cache, never changed: handing it on costs a reference count, not a copy.
  std::shared_ptr<const loaded_tenant> after;
  const domain::tenant_state& state() const { return after->state; }
  std::vector<domain::event> events;    ///< the decided events; empty = idempotent no-op
  std::optional<append_result> append;  ///< the append; nullopt for a no-op
  /// The last position: of the append, or of the stream for a no-op (X-Event-Position).
  std::uint64_t position = 0;
};

struct execute_error {
  enum class kind : std::uint8_t {
    domain,               ///< `domain_error` (422/404/403/409...)
    precondition_failed,  ///< If-Match differs from `current_version` (412)
    store,                ///< `store_error`: wrong_expected_version after every retry (409
                          ///< CONCURRENCY_CONFLICT), storage_unavailable (503), closed, ...
  };
  kind k = kind::store;
  domain::error domain_error;
  std::error_code store_error;
  std::uint64_t current_version = 0;  ///< precondition_failed: the stream's version
  std::string detail;
};

using execute_outcome = boost::system::result<execute_success, execute_error>;
using execute_handler = std::function<void(execute_outcome)>;

struct repository_options {
  std::uint64_t snapshot_every = 100;  ///< snapshot when the version crosses a multiple; 0 = never
  std::size_t cache_entries = 10'000;  ///< LRU of tenant states; 0 = no cache
  std::size_t max_retries = 5;         ///< reload + re-decide on wrong_expected_version
  std::size_t threads = 2;             ///< the pool running loads
  domain::plan_limits limits{};
  std::uint32_t payment_failures_before_suspension = 3;
  std::function<domain::clock_time()> clock;  ///< empty = system clock
};

/// Counters for /metrics.
struct repository_stats {
  std::uint64_t executed = 0;  ///< commands completed (any outcome)
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t retries = 0;  ///< reload + re-decide after a conflict
  std::uint64_t snapshots = 0;
};

class repository {
 public:
  explicit repository(event_store& store, repository_options options = {});
  ~repository();
  repository(const repository&) = delete;
  repository& operator=(const repository&) = delete;

  /// Runs `cmd` against tenant `id` (its stream). For create_tenant the stream must not exist
  /// (expected version no_stream) and `id` should equal the command's id.
  void execute(const domain::tenant_id& id, domain::command cmd, execute_options options,
               execute_handler handler);

  /// The current state (snapshot + later events, or the cache). Blocking.
  result<loaded_tenant> load(const domain::tenant_id& id);
  /// The state after the events with version <= `version` (past the end: the current state).
  /// Blocking.
  result<loaded_tenant> load_as_of(const domain::tenant_id& id, std::uint64_t version);
  /// The state after the stream's events up to the first one that occurred after `at` (a
  /// state the tenant really had; events are in time order within a stream). Blocking.
  result<loaded_tenant> load_as_of(const domain::tenant_id& id, domain::clock_time at);

  repository_stats stats() const;
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace tenant::eventstore
