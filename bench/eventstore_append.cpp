// Append benchmarks: the store at 1/16/64/256 concurrent appenders (each waits for its
// acknowledgement before the next append), the baseline of as many threads each doing its own
// synced RocksDB Put, and single-appender latency as the log grows.
//
// Two shapes of "N concurrent appenders":
//   append/<mode>/threads:N         N threads, each blocking on its append (a future) before the
//                                   next: one thread wake-up per acknowledged append.
//   append_async/<mode>/inflight:N  N coroutines on an io_context run by TENANT_BENCH_IO_THREADS
//                                   threads (default 2), each co_awaiting its append the way
//                                   tenantd's handlers do (api's await_callback: the store's
//                                   callback posts the completion to the coroutine's executor).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <sstream>
#include <thread>

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

// ---- N appends in flight from coroutines on an io_context (how tenantd appends) ----

namespace net = boost::asio;

// api's await_callback: the store's callback posts the outcome to the coroutine's executor.
net::awaitable<append_outcome> async_append(event_store& s, append_request r) {
  return net::async_initiate<const net::use_awaitable_t<>&, void(append_outcome)>(
      [&s](auto handler, append_request req) {
        auto ex = net::get_associated_executor(handler);
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        s.append(std::move(req), [ex, h](append_outcome o) mutable {
          net::post(ex, [h, o = std::move(o)]() mutable { std::move (*h)(std::move(o)); });
        });
      },
      net::use_awaitable, std::move(r));
}

unsigned io_threads() {
  const char* env = std::getenv("TENANT_BENCH_IO_THREADS");
  const int n = env ? std::atoi(env) : 2;
  return static_cast<unsigned>(std::max(n, 1));
}

void append_async(benchmark::State& state, durability mode, int inflight, std::uint64_t total) {
  for (auto _ : state) {
    open_store(mode);
    net::io_context ioc;
    std::atomic<std::uint64_t> issued{0};
    std::atomic<bool> failed{false};
    const auto t0 = std::chrono::steady_clock::now();
    for (int c = 0; c < inflight; ++c) {
      net::co_spawn(
          ioc,
          [&, c]() -> net::awaitable<void> {
            const std::string stream = "bench-" + std::to_string(c);
            while (issued.fetch_add(1) < total && !failed.load()) {
              append_request r;
              r.stream_id = stream;
              r.events.push_back(bench_event());
              if (!co_await async_append(*g_store, std::move(r))) failed.store(true);
            }
          },
          net::detached);
    }
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < io_threads(); ++i)
      threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads)
      t.join();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    g_store.reset();
    if (failed.load()) {
      state.SkipWithError("append failed");
      break;
    }
    state.SetIterationTime(secs);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(total * state.iterations()));
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
  for (const bool fsync : {true, false}) {
    for (const int inflight : {1, 16, 64, 256}) {
      const std::uint64_t total = fsync ? (inflight == 1 ? 2'000 : 20'000) : 100'000;
      benchmark::RegisterBenchmark((std::string(fsync ? "append_async/fsync" : "append_async/os") +
                                    "/inflight:" + std::to_string(inflight))
                                       .c_str(),
                                   [fsync, inflight, total](benchmark::State& st) {
                                     append_async(st, fsync ? durability::fsync : durability::os,
                                                  inflight, total);
                                   })
          ->Iterations(1)
          ->UseManualTime()
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
