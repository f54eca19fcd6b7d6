#pragma once
// The append pipeline shared by both stores: appends are queued to ONE writer thread that takes
// everything pending (bounded by max_batch_events), checks event-id idempotency, expected
// versions and unique claims against in-memory state, assigns versions and contiguous
// positions and hands the whole batch to the backend as one write (RocksDB: one WriteBatch).
//
// Durability is a second stage when the backend needs a sync (RocksDB, durability fsync): the
// sync thread takes every batch written so far, makes them durable with ONE WAL sync, then
// publishes them in order and completes their handlers, while the writer already writes the
// next batches. Group commit thus overlaps the sync with the work around it; nothing is visible
// to readers or acknowledged before it is durable. Without a sync stage, batches are published
// and completed by the writer right after their write.
//
// State: the writer keeps the *written* state (stream heads, claims, recent event ids, the id
// filter), which validates the next batches; readers see the *published* (durable) heads and
// claims under state_mu_. A batch works on an overlay merged only after its write succeeded, so
// a failed write consumes no position. After a failed write or sync, the store is recovered
// and the state reloaded from storage before the next write (see pipeline_backend::recover).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "id_filter.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::detail {

using uuid_bytes = std::array<std::uint8_t, 16>;

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

struct uuid_hash {
  std::size_t operator()(const uuid_bytes& u) const noexcept {
    std::uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; ++i) {
      a = (a << 8) | u[i];
      b = (b << 8) | u[8 + i];
    }
    return static_cast<std::size_t>((a * 0x9e3779b97f4a7c15ULL) ^ b);
  }
};

struct stream_state {
  std::uint64_t version = 0;
  std::uint64_t last_position = 0;
};

/// Where an event id is stored.
struct id_location {
  std::string stream_id;
  std::uint64_t position = 0;
  std::uint64_t version = 0;
};

/// What one group commit writes.
struct commit_batch {
  std::vector<recorded_event> events;                         ///< contiguous ascending positions
  std::vector<uuid_bytes> event_uuids;                        ///< parallel to events
  std::vector<std::pair<std::string, stream_state>> streams;  ///< new heads of touched streams
  /// value -> new owner; nullopt = released.
  std::vector<std::pair<std::string, std::optional<std::string>>> claims;
  /// name -> position, from append_request::checkpoints, written in the same batch.
  std::vector<std::pair<std::string, std::uint64_t>> checkpoints;
};

struct pipeline_state;

class pipeline_backend {
 public:
  virtual ~pipeline_backend() = default;
  /// Asked only when the id filter says "maybe" and the recent-id cache misses.
  virtual result<std::optional<id_location>> find_event_id(const uuid_bytes& id) = 0;
  /// Writes the batch atomically; durable at once unless needs_sync().
  virtual std::error_code write(const commit_batch& batch) = 0;
  /// True: writes become durable only through sync(), run by the sync thread.
  virtual bool needs_sync() const { return false; }
  /// Makes every write so far durable (RocksDB: one WAL sync). Sync thread; may run while the
  /// writer writes the next batch.
  virtual std::error_code sync() { return {}; }
  /// After a failed write or sync, with the sync stage idle (writer thread): restores the
  /// storage and returns the state reloaded from it; readers then see exactly that log.
  virtual result<pipeline_state> recover() = 0;
  /// Makes a durable batch visible to readers (in order), before its handlers run.
  virtual void publish(commit_batch& batch) = 0;
};

struct pipeline_options {
  std::size_t max_batch_events = 4096;
  /// Bound of the recent-id cache. 0 = unbounded and authoritative (the memory store keeps
  /// every id, so a miss means "not stored" and neither the filter nor the backend is asked).
  std::size_t recent_id_capacity = 65'536;
  store_clock clock;
  /// While broken and idle, the writer retries recovery after this delay, doubling up to
  /// recovery_retry_max: storage that comes back is noticed without waiting for an append.
  std::chrono::milliseconds recovery_retry{1000};
  std::chrono::milliseconds recovery_retry_max{30'000};
};

/// In-memory state, loaded by the store at open and after a recovery.
struct pipeline_state {
  std::uint64_t head = 0;
  string_map<stream_state> streams;
  string_map<std::string> claims;  ///< value -> owner stream
  id_filter filter;
};

class append_pipeline {
 public:
  append_pipeline(pipeline_backend& backend, pipeline_options options, pipeline_state state);
  ~append_pipeline();
  append_pipeline(const append_pipeline&) = delete;
  append_pipeline& operator=(const append_pipeline&) = delete;

  /// Validates (on the caller's thread: CPU only) and queues. After stop() the handler runs at
  /// once on the calling thread with errc::closed.
  void submit(append_request request, append_handler handler);
  /// Drains the queue, then joins the writer. Idempotent.
  void stop();
  /// A write beside the pipeline failed (a checkpoint, a snapshot): the storage refuses writes
  /// now, so the writer recovers before its next write, and meanwhile retries while idle.
  /// Any thread.
  void mark_broken();

  stream_state stream(std::string_view stream_id) const;
  std::optional<std::string> claim_owner(std::string_view value) const;
  store_stats stats() const;
  void set_commit_observer(commit_observer observer);

  /// Validation shared with nothing else: exposed for tests of bad input.
  static std::optional<append_error> validate(append_request& request,
                                              std::vector<uuid_bytes>& ids);

 private:
  struct pending {
    append_request request;
    append_handler handler;
    std::vector<uuid_bytes> ids;
    std::optional<append_error> invalid;
  };
  struct overlay {
    string_map<stream_state> streams;
    string_map<std::optional<std::string>> claims;
    std::unordered_map<uuid_bytes, id_location, uuid_hash> ids;
  };
  /// A written batch on its way to its handlers.
  struct stage_item {
    std::vector<pending> requests;
    std::vector<append_outcome> outcomes;
    commit_batch out;
    bool written = false;  ///< has events that reached storage
  };

  void run_writer();
  void run_syncer();
  void process(std::vector<pending>& batch);
  bool recover_if_broken(std::vector<pending>& batch);
  append_outcome apply(pending& p, overlay& ov, commit_batch& out, std::uint64_t& next_position,
                       domain::clock_time now);
  result<std::optional<id_location>> locate(const uuid_bytes& id, const overlay& ov);
  void merge_written(overlay& ov, const commit_batch& out);
  void complete(stage_item& item, bool durable);
  void reset_state(pipeline_state state);
  domain::clock_time now() const;

  pipeline_backend& backend_;
  pipeline_options options_;
  const bool sync_stage_;

  // Written state: writer thread only.
  std::uint64_t head_ = 0;
  string_map<stream_state> streams_;
  string_map<std::string> claims_;
  id_filter filter_;
  std::unordered_map<uuid_bytes, id_location, uuid_hash> recent_ids_;
  std::deque<uuid_bytes> recent_order_;

  // Published (durable) state: written by the completing thread, read by any thread.
  mutable std::shared_mutex state_mu_;
  std::uint64_t durable_head_ = 0;
  string_map<stream_state> published_streams_;
  string_map<std::string> published_claims_;

  // Set by a failed write or sync (or mark_broken); the writer recovers before its next write,
  // and retries while idle (run_writer).
  std::atomic<bool> broken_{false};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<pending> queue_;
  bool stopping_ = false;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<stage_item> sync_queue_;
  bool sync_busy_ = false;
  bool sync_stopping_ = false;

  std::mutex observer_mu_;
  std::shared_ptr<const commit_observer> observer_;

  std::atomic<std::uint64_t> appends_{0}, events_{0}, batches_{0}, failed_{0};

  std::thread writer_;
  std::thread syncer_;
};

}  // namespace tenant::eventstore::detail
