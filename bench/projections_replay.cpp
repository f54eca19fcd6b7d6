// `tenantctl replay` throughput against the baseline the issue sets: a plain scan of the
// `events` column family parsing every value with simdjson, in the same run. Prints both rates,
// the ratio and the resident memory. See projections.cmake for how to run it.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "projections_common.hpp"
#include "tenant/projections/tooling.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tenant;
using tenant::bench::bench_dir;

std::string g_log;
std::uint64_t g_head = 0;
double g_scan_eps = 0, g_replay_eps = 0;
long g_replay_rss_growth = 0;

// The baseline: every value of `events`, parsed with one reused simdjson DOM parser.
void scan_simdjson(benchmark::State& state) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  rocksdb::DBOptions dbo;
  if (!rocksdb::DB::ListColumnFamilies(dbo, g_log, &names).ok()) {
    state.SkipWithError("cannot list column families");
    return;
  }
  for (const auto& n : names)
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(dbo, g_log, cfs, &handles, &raw).ok()) {
    state.SkipWithError("cannot open the log");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == "events") events = handles[i];
  simdjson::dom::parser parser;
  std::uint64_t n = 0;
  for (auto _ : state) {
    n = 0;
    std::size_t sum = 0;
    rocksdb::ReadOptions ro;
    ro.readahead_size = 2u << 20;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, events));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      simdjson::dom::element doc;
      if (parser.parse(it->value().data(), it->value().size()).get(doc)) {
        state.SkipWithError("parse failed");
        break;
      }
      std::string_view type;
      if (!doc["type"].get_string().get(type)) sum += type.size();
      ++n;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n * state.iterations()));
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h);
}

void replay_log(benchmark::State& state) {
  eventstore::rocksdb_options so;
  so.path = g_log;
  so.read_only = true;
  auto store = eventstore::open_rocksdb_store(so);
  if (!store) {
    state.SkipWithError("cannot open the log");
    return;
  }
  const auto dir = fs::path(bench_dir()) / "projections";
  std::uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(dir);
    const long before = tenant::bench::current_rss_mib();
    state.ResumeTiming();
    projections::replay_options o;
    o.path = dir.string();
    o.batch_events = static_cast<std::size_t>(state.range(0));
    o.eventstore_path = g_log;
    auto s = projections::replay(**store, o);
    if (!s) {
      state.SkipWithError(s.error().message().c_str());
      break;
    }
    events = s->events;
    state.PauseTiming();
    g_replay_rss_growth = std::max(g_replay_rss_growth, tenant::bench::current_rss_mib() - before);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events * state.iterations()));
}

class capture final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      const double secs = r.real_accumulated_time / static_cast<double>(r.iterations);
      const double eps = static_cast<double>(g_head) / secs;
      if (r.benchmark_name().starts_with("scan_simdjson")) g_scan_eps = std::max(g_scan_eps, eps);
      if (r.benchmark_name().starts_with("replay_log")) g_replay_eps = std::max(g_replay_eps, eps);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto events = tenant::bench::env_size("TENANT_BENCH_EVENTS", 1'000'000);
  g_log = (fs::path(tenant::bench::bench_dir()) / ("log-" + std::to_string(events))).string();
  fs::create_directories(tenant::bench::bench_dir());
  g_head = tenant::bench::ensure_log(g_log, events);

  benchmark::RegisterBenchmark("scan_simdjson", scan_simdjson)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(3);
  // TENANT_BENCH_REPLAY_BATCH: events per decoded batch (replay_options::batch_events).
  benchmark::RegisterBenchmark("replay_log", replay_log)
      ->Arg(static_cast<std::int64_t>(tenant::bench::env_size("TENANT_BENCH_REPLAY_BATCH", 8'192)))
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(3);
  benchmark::Initialize(&argc, argv);
  capture reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (g_scan_eps > 0 && g_replay_eps > 0) {
    std::printf("\nlog: %llu events\n", static_cast<unsigned long long>(g_head));
    std::printf("baseline scan+simdjson: %.0f events/s\n", g_scan_eps);
    std::printf("replay:                 %.0f events/s (target >= 500000)\n", g_replay_eps);
    std::printf("ratio replay/baseline:  %.2f (target >= 0.50)\n", g_replay_eps / g_scan_eps);
    std::printf("replay RSS growth:      %ld MiB; peak RSS %ld MiB\n", g_replay_rss_growth,
                tenant::bench::max_rss_mib());
  }
  return 0;
}
