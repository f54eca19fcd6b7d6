// Read benchmarks: a stream forward in pages of 100, and the whole log in pages of 1000, from
// RocksDB (tail cache off) and from the tail cache.
#include <benchmark/benchmark.h>

#include "eventstore_common.hpp"

namespace tenant::eventstore::bench {
namespace {

constexpr std::uint64_t all_events = 300'000;
constexpr std::uint64_t stream_events = 10'000;

event_store& read_all_store(bool cached) {
  static event_store* rocks = nullptr;
  static event_store* tail = nullptr;
  auto& s = cached ? tail : rocks;
  if (!s) {
    rocksdb_options o;
    o.mode = durability::os;
    o.tail_cache_events = cached ? 65'536 : 0;
    s = &held_store("read-all", o);
    prefill(*s, cached ? 60'000 : all_events, 100);
  }
  return *s;
}

void read_all(benchmark::State& state, bool cached) {
  auto& s = read_all_store(cached);
  const std::uint64_t head = s.head();
  std::uint64_t from = 1, n = 0;
  for (auto _ : state) {
    auto page = s.read_all(from, 1000);
    if (!page || page->empty()) {
      state.SkipWithError("read failed");
      break;
    }
    n += page->size();
    from = page->back().position + 1;
    if (from > head) from = 1;
    benchmark::DoNotOptimize(page->back().envelope_json.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}

void read_stream(benchmark::State& state) {
  static event_store* s = nullptr;
  if (!s) {
    rocksdb_options o;
    o.mode = durability::os;
    o.tail_cache_events = 0;
    s = &held_store("read-stream", o);
    prefill(*s, stream_events, 1);
  }
  std::mt19937_64 rng{42};
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint64_t from = 1 + rng() % (stream_events - 100);
    auto page = s->read_stream("prefill-0", from, 100);
    if (!page || page->size() != 100) {
      state.SkipWithError("read failed");
      break;
    }
    n += page->size();
    benchmark::DoNotOptimize(page->back().envelope_json.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}

const bool registered = [] {
  benchmark::RegisterBenchmark("read_all/rocksdb", [](benchmark::State& st) {
    read_all(st, false);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("read_all/tail_cache", [](benchmark::State& st) {
    read_all(st, true);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("read_stream", read_stream)->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
}  // namespace tenant::eventstore::bench
