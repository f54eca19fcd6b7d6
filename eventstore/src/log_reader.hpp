#pragma once
// Read-side pieces shared by both stores: the commit signal that wakes subscribers, the
// subscription cursor, the tail cache of recent events and the envelope header parser.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::detail {

/// The published head plus a condition variable woken by every commit. Shared (shared_ptr) by a
/// store and its subscriptions, so a subscription outliving its store returns empty instead of
/// touching freed memory.
class commit_signal {
 public:
  std::uint64_t head() const { return head_.load(std::memory_order_acquire); }

  /// Writer thread, after a batch is durable and readable.
  void publish(std::uint64_t head);
  /// No more commits will come (stop()): waiters return at once.
  void close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  /// Wakes every waiter (a subscription was cancelled).
  void wake_all();

  /// Blocks until head() > cursor, `cancelled`, close() or the deadline. True when head() > cursor.
  bool wait_beyond(std::uint64_t cursor, std::chrono::steady_clock::time_point deadline,
                   const std::atomic<bool>& cancelled);

  /// The store reading for subscriptions; reset to null (under the unique lock) when the store
  /// is destroyed.
  std::shared_mutex reader_mu;
  event_store* reader = nullptr;

 private:
  std::atomic<std::uint64_t> head_{0};
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

/// A pull-based cursor: each next() reads from the store (tail cache first) up to `max` events
/// after the cursor, waiting on the commit signal only when caught up.
class log_subscription final : public subscription {
 public:
  log_subscription(std::shared_ptr<commit_signal> signal, std::uint64_t after)
      : signal_(std::move(signal)), cursor_(after) {}
  result<std::vector<recorded_event>> next(std::size_t max,
                                           std::chrono::milliseconds timeout) override;
  std::uint64_t cursor() const override { return cursor_; }
  void cancel() override;

 private:
  std::shared_ptr<commit_signal> signal_;
  std::uint64_t cursor_;
  std::atomic<bool> cancelled_{false};
};

/// The most recent events, so live subscribers and hot reads rarely reach RocksDB.
/// Written by the writer thread, read by any thread.
class tail_cache {
 public:
  explicit tail_cache(std::size_t capacity) : capacity_(capacity) {}
  /// Takes the events (contiguous, after everything cached).
  void append(std::vector<recorded_event>& events);
  /// Events with positions from..min(from + limit - 1, to) when `from` is cached; false when
  /// `from` is older than the cache (the caller reads RocksDB).
  bool read(std::uint64_t from, std::size_t limit, std::uint64_t to,
            std::vector<recorded_event>& out) const;
  void clear() {
    std::unique_lock lk(mu_);
    events_.clear();
  }
  /// The event at a position, when cached.
  bool get(std::uint64_t position, recorded_event& out) const;

 private:
  std::size_t capacity_;
  mutable std::shared_mutex mu_;
  std::deque<recorded_event> events_;
};

/// Header fields of an envelope written by codec::encode_envelope, parsed without a JSON parser
/// (read_all serves > 1M events/s). False for anything unexpected (escaped strings, other key
/// order): the caller then uses codec::to_recorded.
bool parse_envelope_header(std::string_view json, recorded_event& out);

/// parse_envelope_header, else the full codec. Takes the JSON.
result<recorded_event> to_recorded_event(std::string json);

}  // namespace tenant::eventstore::detail
