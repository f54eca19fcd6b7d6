#pragma once
// The append pipeline shared by both stores: appends are queued to ONE writer thread that takes
// everything pending (bounded by max_batch_events), checks event-id idempotency, expected
// versions and unique claims against in-memory state, assigns versions and contiguous
// positions, hands the whole batch to the backend as one write (RocksDB: one WriteBatch, one
// WAL sync), then publishes it and completes every handler.
//
// In-memory state (stream heads, unique claims, recent event ids, the id filter) is owned by the
// writer thread; other threads read heads and claims under a shared lock. A batch works on an
// overlay of that state and merges it only after the backend wrote it, so a failed write rolls
// back by dropping the overlay and consumes no position.

#include <array>
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

class pipeline_backend {
 public:
  virtual ~pipeline_backend() = default;
  /// Asked only when the id filter says "maybe" and the recent-id cache misses.
  virtual result<std::optional<id_location>> find_event_id(const uuid_bytes& id) = 0;
  /// Writes the batch atomically and durably (per the store's durability).
  virtual std::error_code write(const commit_batch& batch) = 0;
  /// After a successful write and before any handler: make the batch visible to readers.
  virtual void publish(commit_batch& batch) = 0;
};

struct pipeline_options {
  std::size_t max_batch_events = 4096;
  /// Bound of the recent-id cache. 0 = unbounded and authoritative (the memory store keeps
  /// every id, so a miss means "not stored" and neither the filter nor the backend is asked).
  std::size_t recent_id_capacity = 65'536;
  store_clock clock;
};

/// Initial in-memory state, loaded by the store at open.
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

  stream_state stream(std::string_view stream_id) const;
  std::optional<std::string> claim_owner(std::string_view value) const;
  store_stats stats() const;
  void set_commit_observer(commit_observer observer);

  /// Replaces the in-memory state with one reloaded from storage. Writer thread only: called by
  /// the backend from inside write() (which then fails its batch, validated against the old
  /// state) when recovery found the log changed under it.
  void reset_state(pipeline_state state);

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
  struct outcome {
    append_outcome value;
    bool depends_on_batch = false;  ///< fails with the batch when its write fails
  };

  void run();
  void process(std::vector<pending>& batch);
  outcome apply(pending& p, overlay& ov, commit_batch& out, std::uint64_t& next_position,
                domain::clock_time now);
  result<std::optional<id_location>> locate(const uuid_bytes& id, const overlay& ov,
                                            bool& in_batch);
  void merge(overlay& ov, const commit_batch& out);
  domain::clock_time now() const;

  pipeline_backend& backend_;
  pipeline_options options_;

  // Writer-owned state; heads and claims are also read by other threads under state_mu_.
  mutable std::shared_mutex state_mu_;
  std::uint64_t head_ = 0;
  string_map<stream_state> streams_;
  string_map<std::string> claims_;
  id_filter filter_;
  std::unordered_map<uuid_bytes, id_location, uuid_hash> recent_ids_;
  std::deque<uuid_bytes> recent_order_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<pending> queue_;
  bool stopping_ = false;
  std::thread writer_;

  std::mutex observer_mu_;
  std::shared_ptr<const commit_observer> observer_;

  std::atomic<std::uint64_t> appends_{0}, events_{0}, batches_{0}, failed_{0};
};

}  // namespace tenant::eventstore::detail
