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
// Rates per round (events/s), in the order the rounds ran.
std::vector<double> g_scan_eps, g_replay_eps;
long g_replay_rss_growth = 0;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

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
      if (r.error_occurred) continue;
      if (r.benchmark_name().starts_with("scan_simdjson")) g_scan_eps.push_back(eps);
      if (r.benchmark_name().starts_with("replay_log")) g_replay_eps.push_back(eps);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto events = tenant::bench::env_size("TENANT_BENCH_EVENTS", 1'000'000);
  g_log = (fs::path(tenant::bench::bench_dir()) / ("log2-" + std::to_string(events))).string();
  fs::create_directories(tenant::bench::bench_dir());
  g_head = tenant::bench::ensure_log(g_log, events);

  // Rounds of one baseline scan then one replay (TENANT_BENCH_ROUNDS, default 5): on a shared
  // machine whose speed drifts over seconds, a ratio of two rates measured side by side is far
  // steadier than one of two blocks measured one after the other. The figures printed below are
  // medians: of the per-round ratios, and of each side's rates.
  // TENANT_BENCH_REPLAY_BATCH: events per decoded batch (replay_options::batch_events).
  const auto rounds = std::max<std::size_t>(tenant::bench::env_size("TENANT_BENCH_ROUNDS", 5), 1);
  const auto batch =
      static_cast<std::int64_t>(tenant::bench::env_size("TENANT_BENCH_REPLAY_BATCH", 8'192));
  // The order alternates (scan first in odd rounds, replay first in even ones), so that neither
  // side always runs in the other's wake (page cache, the replay's write-back, freed memory).
  for (std::size_t r = 1; r <= rounds; ++r) {
    const auto round = "/round:" + std::to_string(r);
    auto scan = [&] {
      benchmark::RegisterBenchmark(("scan_simdjson" + round).c_str(), scan_simdjson)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    };
    auto replay = [&] {
      benchmark::RegisterBenchmark(("replay_log" + round).c_str(), replay_log)
          ->Arg(batch)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    };
    if (r % 2 == 1) {
      scan();
      replay();
    } else {
      replay();
      scan();
    }
  }
  benchmark::Initialize(&argc, argv);
  capture reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (!g_scan_eps.empty() && !g_replay_eps.empty()) {
    // Per-round ratios where both sides of a round ran (a filter may run only one side).
    std::vector<double> ratios;
    for (std::size_t i = 0; i < std::min(g_scan_eps.size(), g_replay_eps.size()); ++i)
      ratios.push_back(g_replay_eps[i] / g_scan_eps[i]);
    std::printf("\nlog: %llu events, %zu rounds (medians below)\n",
                static_cast<unsigned long long>(g_head), ratios.size());
    std::printf("baseline scan+simdjson: %.0f events/s\n", median(g_scan_eps));
    std::printf("replay:                 %.0f events/s (target >= 500000)\n", median(g_replay_eps));
    std::printf("ratio replay/baseline:  %.2f (target >= 0.50); rounds:", median(ratios));
    for (double r : ratios)
      std::printf(" %.2f", r);
    std::printf("\nreplay RSS growth:      %ld MiB; peak RSS %ld MiB\n", g_replay_rss_growth,
                tenant::bench::max_rss_mib());
  }
  return 0;
}
