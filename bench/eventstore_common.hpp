#pragma once
// Shared pieces of the event-store benchmarks: scratch directories, events, synchronous appends,
// and the figures the final summary compares.

#include <array>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::bench {

/// A scratch directory under the system temp dir for the whole run (removed by main).
std::filesystem::path scratch_root();
/// A fresh, empty directory under the scratch root.
std::filesystem::path fresh_dir(const std::string& name);

inline std::string new_event_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 10> r{};
  const auto a = rng(), b = rng();
  for (int i = 0; i < 8; ++i)
    r[i] = static_cast<std::uint8_t>(a >> (8 * i));
  r[8] = static_cast<std::uint8_t>(b);
  r[9] = static_cast<std::uint8_t>(b >> 8);
  return domain::uuid::v7(std::chrono::time_point_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now()),
                          r)
      .to_string();
}

/// A PaymentSucceeded-sized event (an envelope of ~420 bytes).
inline proposed_event bench_event() {
  proposed_event e;
  e.event_id = new_event_id();
  e.type = "PaymentSucceeded";
  e.data_json = R"({"payment_id":"pay_0123456789abcdef","amount_cents":4900,"currency":"EUR"})";
  e.occurred_at = domain::clock_time(std::chrono::milliseconds(1'767'000'000'000));
  return e;
}

inline append_outcome append_sync(event_store& s, append_request r) {
  std::promise<append_outcome> p;
  auto f = p.get_future();
  s.append(std::move(r), [&p](append_outcome o) { p.set_value(std::move(o)); });
  return f.get();
}

/// Appends `events` events to `streams` streams in batches of `batch` (durability os).
void prefill(event_store& s, std::uint64_t events, std::size_t streams, std::size_t batch = 1000);

/// Opens a RocksDB store in a fresh directory that lives until the end of the run (released by
/// main before the scratch directory is removed).
event_store& held_store(const std::string& name, rocksdb_options options);
void release_held_stores();

/// Figures recorded by the benchmarks for the closing summary (name -> value).
struct summary {
  std::mutex mu;
  std::map<std::string, double> values;
  void set(const std::string& k, double v) {
    std::lock_guard lk(mu);
    values[k] = v;
  }
};
summary& figures();

}  // namespace tenant::eventstore::bench
