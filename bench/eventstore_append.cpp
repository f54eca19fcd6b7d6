// Append benchmarks: the store at 1/16/64/256 concurrent appenders (each waits for its
// acknowledgement before the next append), the baseline of as many threads each doing its own
// synced RocksDB Put, and single-appender latency as the log grows.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>

#include <atomic>
#include <cstdlib>
#include <sstream>

#include "eventstore_common.hpp"

namespace tenant::eventstore::bench {
namespace {

std::unique_ptr<event_store> g_store;

void open_store(durability mode, bool pipelined = true) {
  rocksdb_options o;
  o.path = (fresh_dir("append") / "eventstore").string();
  o.mode = mode;
  o.pipelined_sync = pipelined;
  auto s = open_rocksdb_store(o);
  if (!s) std::abort();
  g_store = std::move(*s);
}
void open_fsync(const benchmark::State&) {
  open_store(durability::fsync);
}
void open_os(const benchmark::State&) {
  open_store(durability::os);
}
void open_fsync_inline(const benchmark::State&) {
  open_store(durability::fsync, false);
}
void close_store(const benchmark::State&) {
  g_store.reset();
}

void append_loop(benchmark::State& state) {
  const std::string stream = "bench-" + std::to_string(state.thread_index());
  for (auto _ : state) {
    append_request r;
    r.stream_id = stream;
    r.events.push_back(bench_event());
    if (!append_sync(*g_store, std::move(r))) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- baseline: every thread its own synced Put (RocksDB's own write group commit) ----

std::unique_ptr<rocksdb::DB> g_db;
std::atomic<std::uint64_t> g_key{0};

void open_baseline(const benchmark::State&) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(o, (fresh_dir("baseline") / "db").string(), &db).ok()) std::abort();
  g_db.reset(db);
}
void close_baseline(const benchmark::State&) {
  g_db.reset();
}

void baseline_loop(benchmark::State& state) {
  // As large as the envelope an append stores.
  const std::string value(420, 'x');
  rocksdb::WriteOptions wo;
  wo.sync = true;
  for (auto _ : state) {
    const std::uint64_t k = g_key.fetch_add(1) + 1;
    char key[8];
    for (int i = 0; i < 8; ++i)
      key[i] = static_cast<char>(k >> (56 - 8 * i));
    if (!g_db->Put(wo, rocksdb::Slice(key, 8), value).ok()) {
      state.SkipWithError("put failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- latency as the log grows ----

void latency_at_size(benchmark::State& state, std::uint64_t size) {
  rocksdb_options o;
  o.mode = durability::os;
  static std::map<std::uint64_t, event_store*> stores;
  auto& s = stores[size];
  if (!s) {
    s = &held_store("latency", o);
    prefill(*s, size, 1000);
  }
  std::uint64_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    append_request r;
    r.stream_id = "latency";
    r.events.push_back(bench_event());
    if (!append_sync(*s, std::move(r))) {
      state.SkipWithError("append failed");
      break;
    }
    ++n;
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (n > 0) figures().set("latency_us@" + std::to_string(size), us / static_cast<double>(n));
  state.SetItemsProcessed(state.iterations());
}

std::vector<std::uint64_t> log_sizes() {
  std::vector<std::uint64_t> out;
  const char* env = std::getenv("TENANT_BENCH_LOG_SIZES");
  std::stringstream in(env ? env : "10000,1000000");
  std::string part;
  while (std::getline(in, part, ','))
    if (!part.empty()) out.push_back(std::stoull(part));
  return out;
}

// Per-thread iterations: enough for ~1 s per case without GoogleBenchmark's iteration search
// (which would reopen the store for every trial).
int iterations(bool fsync, int threads) {
  const int total = fsync ? (threads == 1 ? 2'000 : 20'000) : (threads == 1 ? 20'000 : 100'000);
  return std::max(total / threads, 50);
}

const bool registered = [] {
  for (const bool fsync : {true, false}) {
    for (const int threads : {1, 16, 64, 256}) {
      benchmark::RegisterBenchmark(fsync ? "append/fsync" : "append/os", append_loop)
          ->Setup(fsync ? open_fsync : open_os)
          ->Teardown(close_store)
          ->Threads(threads)
          ->Iterations(iterations(fsync, threads))
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  // For comparison: the sync inside the writer's Write (WriteOptions::sync), not overlapped.
  for (const int threads : {1, 16, 64, 256}) {
    benchmark::RegisterBenchmark("append/fsync_inline_sync", append_loop)
        ->Setup(open_fsync_inline)
        ->Teardown(close_store)
        ->Threads(threads)
        ->Iterations(iterations(true, threads))
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (const int threads : {1, 16, 64, 256}) {
    benchmark::RegisterBenchmark("baseline_synced_put", baseline_loop)
        ->Setup(open_baseline)
        ->Teardown(close_baseline)
        ->Threads(threads)
        ->Iterations(iterations(true, threads))
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (const auto size : log_sizes()) {
    benchmark::RegisterBenchmark(("latency_at_log_size/" + std::to_string(size)).c_str(),
                                 [size](benchmark::State& st) { latency_at_size(st, size); })
        ->Iterations(20'000)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
}  // namespace tenant::eventstore::bench
