// The event-store benchmark binary: runs the cases, then prints the figures the issue asks for
// as ratios against the baseline measured in the same run.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "eventstore_common.hpp"

namespace tenant::eventstore::bench {

std::filesystem::path scratch_root() {
  static const std::filesystem::path root = [] {
    std::random_device rd;
    auto p = std::filesystem::temp_directory_path() /
             ("tenant-eventstore-bench-" + std::to_string(rd()));
    std::filesystem::create_directories(p);
    return p;
  }();
  return root;
}

std::filesystem::path fresh_dir(const std::string& name) {
  static std::atomic<int> n{0};
  auto p = scratch_root() / (name + "-" + std::to_string(n.fetch_add(1)));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

void prefill(event_store& s, std::uint64_t events, std::size_t streams, std::size_t batch) {
  std::uint64_t done = 0;
  std::size_t stream = 0;
  while (done < events) {
    append_request r;
    r.stream_id = "prefill-" + std::to_string(stream++ % streams);
    const auto n = std::min<std::uint64_t>(batch, events - done);
    for (std::uint64_t i = 0; i < n; ++i)
      r.events.push_back(bench_event());
    if (!append_sync(s, std::move(r))) std::abort();
    done += n;
  }
}

namespace {
std::vector<std::unique_ptr<event_store>>& held() {
  static std::vector<std::unique_ptr<event_store>> stores;
  return stores;
}
}  // namespace

event_store& held_store(const std::string& name, rocksdb_options options) {
  options.path = (fresh_dir(name) / "eventstore").string();
  auto s = open_rocksdb_store(options);
  if (!s) {
    std::fprintf(stderr, "cannot open %s: %s\n", options.path.c_str(), s.error().message().c_str());
    std::abort();
  }
  held().push_back(std::move(*s));
  return *held().back();
}

void release_held_stores() {
  held().clear();
}

summary& figures() {
  static summary s;
  return s;
}

namespace {

/// The console output, plus each run's items/s recorded under its name.
class recording_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      const auto it = r.counters.find("items_per_second");
      if (it != r.counters.end() && !r.error_occurred)
        figures().set(r.benchmark_name(), it->second.value);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

// The first recorded figure whose name starts with `prefix` and ends with `suffix`.
double find(const std::string& prefix, const std::string& suffix = "") {
  auto& f = figures();
  std::lock_guard lk(f.mu);
  for (const auto& [k, v] : f.values)
    if (k.rfind(prefix, 0) == 0 && k.size() >= suffix.size() &&
        k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0)
      return v;
  return 0;
}

void print_summary() {
  std::printf("\n=== event store summary (same run, same machine)\n");
  const double append64 = find("append/fsync/", "/threads:64");
  const double base64 = find("baseline_synced_put/", "/threads:64");
  if (append64 > 0 && base64 > 0)
    std::printf(
        "append, 64 concurrent single-event appends, fsync: %.0f events/s; baseline (64 threads, "
        "own synced RocksDB Put each): %.0f puts/s; ratio %.2fx (target >= 3x)\n",
        append64, base64, append64 / base64);
  const double async64 = find("append_async/fsync/inflight:64/");
  if (async64 > 0 && base64 > 0)
    std::printf(
        "append, 64 single-event appends in flight from coroutines on an io_context (how tenantd "
        "appends), fsync: %.0f events/s; ratio to the same baseline %.2fx (target >= 3x)\n",
        async64, async64 / base64);
  const double inline64 = find("append/fsync_inline_sync/", "/threads:64");
  if (append64 > 0 && inline64 > 0)
    std::printf(
        "append, 64 appenders, fsync: pipelined sync (WAL files fdatasynced on the sync thread) "
        "%.0f events/s; "
        "sync inside the write (WriteOptions::sync) %.0f events/s; ratio %.2fx\n",
        append64, inline64, append64 / inline64);
  for (const char* mode : {"fsync", "os"})
    for (int t : {1, 16, 64, 256}) {
      const double v = find(std::string("append/") + mode + "/", "/threads:" + std::to_string(t));
      if (v > 0) std::printf("append %-5s %3d appenders: %10.0f events/s\n", mode, t, v);
    }
  for (const char* mode : {"fsync", "os"})
    for (int t : {1, 16, 64, 256}) {
      const double v =
          find(std::string("append_async/") + mode + "/inflight:" + std::to_string(t) + "/");
      if (v > 0)
        std::printf("append_async %-5s %3d in flight (io_context): %10.0f events/s\n", mode, t, v);
    }
  const double all = find("read_all/rocksdb");
  if (all > 0) std::printf("read all (from RocksDB): %.0f events/s (target >= 1M)\n", all);
  const double tail = find("read_all/tail_cache");
  if (tail > 0) std::printf("read all (tail cache): %.0f events/s\n", tail);
  const double stream = find("read_stream");
  if (stream > 0) std::printf("read stream (from RocksDB): %.0f events/s\n", stream);
  auto& f = figures();
  std::lock_guard lk(f.mu);
  for (const auto& [k, v] : f.values)
    if (k.rfind("latency_us@", 0) == 0)
      std::printf("append latency (1 appender, os) with %s events in the log: %.1f us\n",
                  k.c_str() + 11, v);
}

}  // namespace
}  // namespace tenant::eventstore::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tenant::eventstore::bench::recording_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  tenant::eventstore::bench::print_summary();
  tenant::eventstore::bench::release_held_stores();
  std::error_code ec;
  std::filesystem::remove_all(tenant::eventstore::bench::scratch_root(), ec);
  return 0;
}
