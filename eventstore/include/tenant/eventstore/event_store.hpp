#pragma once
/// The event log. Two implementations share this contract: RocksDB (durable) and in-memory
/// (tests). One contract test suite runs against both.
///
/// Threading: every member is safe to call from any thread. `append` never blocks: the request
/// is queued to the store's single writer, which group-commits pending appends in one batch and
/// then calls each handler on the writer thread, or on the sync thread that makes batches
/// durable (RocksDB, durability fsync). Handlers must be quick and must not append
/// synchronously-and-wait. Reads are blocking (RocksDB I/O): call them off io_context threads.
/// Lifecycle: construct (open), use, `stop()` (drains the queue, fails later appends with
/// `errc::closed`), destroy.

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tenant/domain/types.hpp"

namespace tenant::eventstore {

enum class errc {
  wrong_expected_version = 1,
  duplicate_event_id = 2,   ///< the event id is already stored in another stream
  duplicate_domain = 3,     ///< a unique claim held by another stream
  storage_unavailable = 4,  ///< disk full, read-only, I/O error: retry later (503)
  closed = 5,               ///< the store is stopping
  invalid_argument = 6,
  corruption = 7,
  not_found = 8,
  wrong_expected_position = 9,  ///< append_request::expected_position differs from the head + 1
  locked = 10,                  ///< open: another process holds the store (RocksDB's LOCK file)
};
const std::error_category& error_category();
std::error_code make_error_code(errc e);

/// Expected version of the stream for an optimistic append.
struct expected_version {
  enum class kind : std::uint8_t { any, no_stream, stream_exists, exact };
  kind k = kind::any;
  std::uint64_t version = 0;  ///< for kind::exact

  static expected_version any() { return {kind::any, 0}; }
  static expected_version no_stream() { return {kind::no_stream, 0}; }
  static expected_version stream_exists() { return {kind::stream_exists, 0}; }
  static expected_version exact(std::uint64_t v) { return {kind::exact, v}; }
};

struct event_metadata {
  std::string correlation_id;
  std::string causation_id;
  std::string actor;        ///< JWT sub, or "system:<process manager>"
  std::string traceparent;  ///< W3C trace context of the request, when given
};

/// An event to append. `data_json` is the event's `data` object, encoded by the codec.
struct proposed_event {
  std::string event_id;  ///< canonical UUID; idempotency key of the event
  std::string type;      ///< "TenantCreated", ...
  std::uint32_t schema_version = 1;
  std::string data_json;
  domain::clock_time occurred_at{};
};

/// Unique reservation of a value (the tenant `domain`) checked and written in the same batch as
/// the events: two concurrent claims of the same value can never both succeed.
struct unique_claim {
  enum class op : std::uint8_t { claim, release };
  op action = op::claim;
  std::string value;  ///< normalised (lowercase) domain
};

/// Validation (errc::invalid_argument otherwise): stream_id 1..255 bytes without NUL; 1..10000
/// events; each event_id a UUID (stored in canonical lowercase form), unique in the request;
/// type non-empty; data_json empty or a JSON object of at most 1 MiB; claim values non-empty.
/// An empty tenant_id defaults to the stream id; a zero occurred_at to the commit time.
///
/// Event-id idempotency is checked before the expected version: every id already stored in
/// this stream -> the original result with `replayed = true`; any id stored in another stream
/// -> duplicate_event_id; only some of the ids stored -> duplicate_event_id as well (a retry
/// must resend the same events).
struct append_request {
  std::string stream_id;
  std::string tenant_id;  ///< envelope tenant_id (= stream id for tenant streams)
  expected_version expected;
  std::vector<proposed_event> events;  ///< appended atomically, in order; may not be empty
  event_metadata metadata;             ///< shared by every event of this append
  std::vector<unique_claim> claims;
  /// Replication (read replicas mirroring the writer's log, imports): the global position the
  /// first event must get. Checked after event-id idempotency, before the expected version:
  /// errc::wrong_expected_position (actual_version = the head) when head + 1 differs.
  std::optional<std::uint64_t> expected_position;
  /// Named checkpoints (as store_checkpoint) written in the same atomic batch as this append's
  /// events, so they are durable exactly when the events are (a replica's consumed Kafka
  /// offsets). Written only when the append writes events (not on a replay). Names non-empty.
  std::vector<std::pair<std::string, std::uint64_t>> checkpoints;
};

struct append_result {
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
  std::uint64_t first_version = 0;
  std::uint64_t last_version = 0;  ///< the stream's version after this append
  bool replayed = false;           ///< true: the event ids were already stored; nothing written
};

struct append_error {
  errc code = errc::invalid_argument;
  std::uint64_t actual_version = 0;  ///< for wrong_expected_version: the stream's current version
  std::string detail;
};

using append_outcome = boost::system::result<append_result, append_error>;
using append_handler = std::function<void(append_outcome)>;

/// An event as stored: its envelope JSON (DESIGN.md "Event envelope") plus the fields every
/// reader needs without parsing it.
struct recorded_event {
  std::uint64_t position = 0;
  std::uint64_t version = 0;
  std::string stream_id;
  std::string tenant_id;
  std::string event_id;
  std::string type;
  std::uint32_t schema_version = 1;
  domain::clock_time occurred_at{};
  std::string envelope_json;  ///< exactly the bytes stored in the `events` column family
};

enum class direction : std::uint8_t { forward, backward };

/// Version and position of a stream's last event (both 0 = no stream).
struct stream_head {
  std::uint64_t version = 0;
  std::uint64_t last_position = 0;
};

template <class T>
using result = boost::system::result<T, std::error_code>;

/// A cursor over the log from a position: catches up, then waits for commits (woken by the
/// writer, no polling). Pull-based, so a slow subscriber only holds its own cursor
/// (backpressure). Not thread-safe: one thread drives one subscription.
class subscription {
 public:
  virtual ~subscription() = default;
  /// Up to `max` events after the cursor, waiting at most `timeout` for the first one.
  /// Empty = timed out or stopped.
  virtual result<std::vector<recorded_event>> next(std::size_t max,
                                                   std::chrono::milliseconds timeout) = 0;
  /// Position of the last event returned (the start position - 1 before any).
  virtual std::uint64_t cursor() const = 0;
  /// Wakes a blocked next() so that it returns empty; later calls return empty immediately.
  virtual void cancel() = 0;
};

/// A stored HTTP response for an Idempotency-Key (DESIGN.md HTTP "Idempotency").
struct idempotency_record {
  std::string request_fingerprint;  ///< method + path + body hash
  std::string response;             ///< serialized response (opaque to the store)
  domain::clock_time stored_at{};
};

/// Counters of the append pipeline, for /metrics and /admin/status.
struct store_stats {
  std::uint64_t appends = 0;          ///< append requests completed successfully
  std::uint64_t events_appended = 0;  ///< events written
  std::uint64_t batches = 0;          ///< group commits (WriteBatch + one WAL sync each)
  /// append requests answered with an error: refusals (wrong expected version, an event id of
  /// another stream, a unique value held by another stream) as well as storage failures and
  /// appends refused while stopping
  std::uint64_t failed_appends = 0;
};

/// Called on the writer thread after each group commit: events and appends in the batch.
using commit_observer = std::function<void(std::size_t events, std::size_t appends)>;

/// Durability of acknowledged appends.
enum class durability : std::uint8_t {
  fsync,  ///< acknowledged only after the WAL is synced (default)
  os,     ///< acknowledged after the write reached the OS (survives a process crash)
};

class event_store {
 public:
  virtual ~event_store() = default;

  // ---- writes ----
  /// Queues an append; `handler` runs once on the writer thread with the outcome.
  virtual void append(append_request request, append_handler handler) = 0;

  // ---- reads (blocking) ----
  /// Forward: versions >= from_version (0 reads from 1), ascending. Backward: versions
  /// <= from_version, descending; a from_version past the end (e.g. UINT64_MAX) starts at the
  /// last event. At most `limit` events; a missing stream gives an empty vector.
  virtual result<std::vector<recorded_event>> read_stream(std::string_view stream_id,
                                                          std::uint64_t from_version,
                                                          std::size_t limit,
                                                          direction dir = direction::forward) = 0;
  /// Events with position >= from_position, ascending.
  virtual result<std::vector<recorded_event>> read_all(std::uint64_t from_position,
                                                       std::size_t limit) = 0;
  /// Current version of a stream (0 = no stream).
  virtual result<std::uint64_t> stream_version(std::string_view stream_id) = 0;
  /// The stream id holding a unique value, if any.
  virtual result<std::optional<std::string>> unique_owner(std::string_view value) = 0;
  /// Version and last position of a stream; non-blocking in the stores of this module (served
  /// from memory). The default implementation reads the stream's last event.
  virtual result<stream_head> read_stream_head(std::string_view stream_id) {
    auto last = read_stream(stream_id, UINT64_MAX, 1, direction::backward);
    if (!last) return last.error();
    if (last->empty()) return stream_head{};
    return stream_head{last->front().version, last->front().position};
  }
  /// The stored event with this id, if any (repository: replays of an Idempotency-Key seed).
  /// The default implementation reports errc::invalid_argument (not supported).
  virtual result<std::optional<recorded_event>> read_event(std::string_view event_id) {
    (void)event_id;
    return make_error_code(errc::invalid_argument);
  }

  /// Last committed position (0 = empty log). Non-blocking.
  virtual std::uint64_t head() const = 0;
  /// Subscribe to events with position > after_position.
  virtual std::unique_ptr<subscription> subscribe(std::uint64_t after_position) = 0;

  // ---- checkpoints (durable, named) ----
  virtual result<std::optional<std::uint64_t>> load_checkpoint(std::string_view name) = 0;
  virtual std::error_code store_checkpoint(std::string_view name, std::uint64_t position) = 0;

  // ---- command-level idempotency (HTTP Idempotency-Key), kept >= 24 h, bounded ----
  virtual result<std::optional<idempotency_record>> load_idempotency(std::string_view key) = 0;
  virtual std::error_code store_idempotency(std::string_view key, idempotency_record record) = 0;

  // ---- snapshots of aggregate state (opaque bytes), keyed by stream ----
  virtual std::error_code store_snapshot(std::string_view stream_id, std::uint64_t version,
                                         std::string state) = 0;
  virtual result<std::optional<std::pair<std::uint64_t, std::string>>> load_snapshot(
      std::string_view stream_id) = 0;

  virtual store_stats stats() const = 0;
  /// Why writes fail right now (a full or read-only disk: the storage error of the last failed
  /// write, sync or recovery attempt), until a write succeeds again; empty while writes work.
  /// Thread-safe; for readiness checks and operators.
  virtual std::string write_failure() const { return {}; }
  /// Set once, before the first append.
  virtual void set_commit_observer(commit_observer observer) = 0;

  /// Stops the writer: pending appends complete, later ones fail with errc::closed.
  virtual void stop() = 0;
};

/// Test hook (fault-injection tests only; reads still work): while `fail_writes` is true every
/// file creation, write and sync of the RocksDB store fails as on a full disk; while
/// `fail_syncs` is true only syncs fail (data reaches the OS, the sync reports an I/O error).
///
/// While `hold_wal_syncs` is true every sync of a WAL file waits (counted in `held_wal_syncs`,
/// which is notified) until it is set false again and notified: a test can observe what is
/// acknowledged and visible while the WAL is not yet durable.
struct write_fault {
  std::atomic<bool> fail_writes{false};
  std::atomic<bool> fail_syncs{false};
  std::atomic<bool> hold_wal_syncs{false};
  std::atomic<int> held_wal_syncs{0};
};

/// Clock of the store (idempotency expiry, default occurred_at); injectable for tests.
using store_clock = std::function<domain::clock_time()>;

struct rocksdb_options {
  std::string path;  ///< <data-dir>/eventstore
  durability mode = durability::fsync;
  std::size_t max_batch_events = 4096;  ///< group commit: most events in one WriteBatch
  std::size_t block_cache_bytes = 64u << 20;
  std::chrono::hours idempotency_ttl{24};
  std::size_t idempotency_max_entries = 1'000'000;
  /// Open without the writer: reads only, appends fail with errc::closed. Works while another
  /// process (tenantd) holds the store open for writing: it opens a RocksDB secondary instance
  /// that sees what the writer had committed at open time (tenantctl verify/events).
  bool read_only = false;
  /// durability fsync: write each batch without a sync and let a second thread sync the WAL
  /// files once for every batch written meanwhile (fdatasync of RocksDB's WAL files, not
  /// DB::SyncWAL, which aborts the process after a failed WAL write), so the sync overlaps the
  /// next batch's work; events are still acknowledged and visible only once synced. false:
  /// one WriteOptions::sync write per batch, nothing overlapped (for comparison).
  bool pipelined_sync = true;
  std::size_t tail_cache_events = 65'536;       ///< recent events served from memory
  std::size_t event_id_cache_entries = 65'536;  ///< recent event ids (idempotent replays)
  store_clock clock;                            ///< empty = system clock
  std::shared_ptr<write_fault> fault;           ///< test hook, normally empty
};

/// Opens (creating if needed) the RocksDB store. Errors: storage_unavailable, corruption.
result<std::unique_ptr<event_store>> open_rocksdb_store(const rocksdb_options& options);

struct memory_options {
  std::size_t max_batch_events = 4096;
  std::chrono::hours idempotency_ttl{24};
  std::size_t idempotency_max_entries = 1'000'000;
  store_clock clock;  ///< empty = system clock
};

/// A store in memory with the same contract (tests, benchmarks of upper layers).
std::unique_ptr<event_store> make_memory_store();
std::unique_ptr<event_store> make_memory_store(const memory_options& options);

}  // namespace tenant::eventstore

template <>
struct std::is_error_code_enum<tenant::eventstore::errc> : std::true_type {};
