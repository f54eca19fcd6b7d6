// The query side at scale: the list index with 1M tenants (memory per tenant, deep pages, every
// kind of filter), the time to load it from the projections database at start-up, and the read
// model's lookups (non-blocking hit, blocking miss). Timings are per query.
#include <benchmark/benchmark.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "db.hpp"
#include "fold.hpp"
#include "projections_common.hpp"
#include "sets.hpp"
#include "tenant/projections/read_model.hpp"
#include "tenant/projections/search_text.hpp"
#include "tenant_index.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tenant;
using namespace tenant::projections::detail;

constexpr std::uint32_t million = 1'000'000;
const std::vector<std::string> vocabulary = {
    "cloud",   "software", "analytics",  "retail",    "logistics", "health",
    "finance", "media",    "consulting", "education", "energy",    "travel",
    "münchen", "café",     "zürich",     "data",      "platform",  "services",
    "global",  "regional", "partners",   "labs",      "systems",   "network"};

uuid16 id_of(std::uint32_t i) {
  return domain::uuid::derived("bench-tenant-" + std::to_string(i)).bytes;
}

struct entry {
  uuid16 id;
  std::uint8_t bucket;
  std::string name;
  std::vector<std::string> words;
};

entry make_entry(std::uint32_t i, std::mt19937& rng) {
  entry e;
  e.id = id_of(i);
  e.bucket = static_cast<std::uint8_t>(rng() % 12);
  e.name = "company " + std::to_string(i);
  for (int k = 0; k < 6; ++k)
    e.words.push_back(vocabulary[rng() % vocabulary.size()]);
  std::sort(e.words.begin(), e.words.end());
  e.words.erase(std::unique(e.words.begin(), e.words.end()), e.words.end());
  return e;
}

tenant_index& big_index() {
  static tenant_index* index = [] {
    auto* idx = new tenant_index(1);
    std::mt19937 rng(1);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < million; ++i) {
      auto e = make_entry(i, rng);
      idx->add(e.id, e.bucket, e.name, e.words);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("index: 1M tenants added in %.2f s; %.1f bytes per tenant\n", s,
                static_cast<double>(idx->memory_bytes()) / million);
    return idx;
  }();
  return *index;
}

void index_query(benchmark::State& state, tenant_index::filter f, std::uint64_t offset) {
  auto& idx = big_index();
  std::uint64_t total = 0;
  for (auto _ : state) {
    auto r = idx.query(f, offset, 10);
    total = r.total;
    benchmark::DoNotOptimize(r);
  }
  state.counters["matches"] = static_cast<double>(total);
}

void deep_page_all(benchmark::State& s) {
  index_query(s, {}, 999'990);
}
void deep_page_status(benchmark::State& s) {
  tenant_index::filter f;
  f.buckets = tenant_index::bucket_mask(domain::tenant_status::active, std::nullopt);
  index_query(s, f, 249'000);
}
void deep_page_status_plan(benchmark::State& s) {
  tenant_index::filter f;
  f.buckets =
      tenant_index::bucket_mask(domain::tenant_status::suspended, domain::plan_tier::enterprise);
  index_query(s, f, 80'000);
}
void name_exact(benchmark::State& s) {
  tenant_index::filter f;
  f.folded_name = "company 765432";
  index_query(s, f, 0);
}
void description_rare_prefix(benchmark::State& s) {
  tenant_index::filter f;
  f.words = {"zür", "caf", "ener"};
  f.buckets = tenant_index::bucket_mask(domain::tenant_status::active, std::nullopt);
  index_query(s, f, 1'000);
}
void description_common_word(benchmark::State& s) {
  tenant_index::filter f;
  f.words = {"cloud"};
  index_query(s, f, 100'000);
}
void visible_set(benchmark::State& s) {
  tenant_index::filter f;
  std::vector<std::uint32_t> v;
  for (std::uint32_t i = 0; i < 50; ++i)
    v.push_back(i * 20'000);
  f.visible = v;
  f.words = {"data"};
  index_query(s, f, 0);
}

// Start-up: load the in-memory index of 1M tenants from a projections database.
void load_index_1m(benchmark::State& state) {
  const auto path = fs::path(tenant::bench::bench_dir()) / "index-1m";
  {
    auto db = projections_db::open({path.string(), 64u << 20, false});
    if (!db) {
      state.SkipWithError("cannot open");
      return;
    }
    auto gen = (*db)->active("tenants");
    auto existing = (*db)->load_checkpoint((*gen)->checkpoint_key());
    if (*existing != million) {
      std::mt19937 rng(1);
      rocksdb::WriteBatch wb;
      for (std::uint32_t i = 0; i < million; ++i) {
        auto e = make_entry(i, rng);
        const auto status = static_cast<domain::tenant_status>(1 + e.bucket / 3);
        const auto plan = static_cast<domain::plan_tier>(1 + e.bucket % 3);
        wb.Put((*gen)->cfs[1], index_key(i + 1, index_tag_bucket),
               index_bucket_value(e.id, status, plan));
        wb.Put((*gen)->cfs[1], index_key(i + 1, index_tag_text),
               index_text_value(folded_text{e.name, e.words}));
        if (wb.Count() > 100'000) {
          (*db)->db()->Write({}, &wb);
          wb.Clear();
        }
      }
      (*db)->put_checkpoint(wb, (*gen)->checkpoint_key(), million);
      (*db)->db()->Write({}, &wb);
      rocksdb::FlushOptions fo;
      (*db)->db()->Flush(fo, (*gen)->cfs);
    }
  }
  for (auto _ : state) {
    auto db = projections_db::open({path.string(), 64u << 20, false});
    auto gen = (*db)->active("tenants");
    const long before = tenant::bench::current_rss_mib();
    auto set = load_tenants(**db, *gen, 16, 1);
    if (!set || (*set)->index.size() != million) {
      state.SkipWithError("load failed");
      return;
    }
    state.counters["rss_growth_MiB"] =
        static_cast<double>(tenant::bench::current_rss_mib() - before);
  }
}

// Lookups through the read model on the projections the replay benchmark built (if present).
struct model_fixture {
  std::unique_ptr<eventstore::event_store> store;
  std::unique_ptr<projections::read_model> model;
  std::vector<domain::tenant_id> ids;
};
model_fixture* model() {
  static model_fixture* f = [] {
    auto* m = new model_fixture;
    const auto dir = fs::path(tenant::bench::bench_dir());
    if (!fs::exists(dir / "projections")) return m;
    m->store = eventstore::make_memory_store();
    projections::read_model_options o;
    o.path = (dir / "projections").string();
    const auto t0 = std::chrono::steady_clock::now();
    auto opened = projections::read_model::open(*m->store, o);
    if (!opened) return m;
    m->model = std::move(*opened);
    std::printf("read model over %s opened in %.2f s\n", o.path.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    projections::list_query q;
    q.per_page = 100;
    for (std::uint64_t p = 1; p <= 20; ++p) {
      q.page = p * 97;
      for (auto& id : m->model->list_ids(q).ids)
        m->ids.push_back(id);
    }
    return m;
  }();
  return f;
}

void try_find_hot(benchmark::State& state) {
  auto* m = model();
  if (!m->model || m->ids.empty()) {
    state.SkipWithError("run projections_replay_bench first");
    return;
  }
  const auto& id = m->ids.front();
  (void)m->model->find(id);
  for (auto _ : state)
    benchmark::DoNotOptimize(m->model->try_find(id));
}

void find_spread(benchmark::State& state) {
  auto* m = model();
  if (!m->model || m->ids.empty()) {
    state.SkipWithError("run projections_replay_bench first");
    return;
  }
  std::size_t i = 0, blocked = 0;
  for (auto _ : state) {
    auto r = m->model->try_find(m->ids[i++ % m->ids.size()]);
    if (r.status == projections::lookup_status::would_block) ++blocked;
    benchmark::DoNotOptimize(r);
  }
  state.counters["would_block"] = static_cast<double>(blocked);
}

void list_page_100(benchmark::State& state) {
  auto* m = model();
  if (!m->model) {
    state.SkipWithError("run projections_replay_bench first");
    return;
  }
  projections::list_query q;
  q.per_page = 100;
  q.status = domain::tenant_status::active;
  q.page = 50;
  for (auto _ : state)
    benchmark::DoNotOptimize(m->model->list(q));
}

}  // namespace

BENCHMARK(deep_page_all)->Unit(benchmark::kMicrosecond);
BENCHMARK(deep_page_status)->Unit(benchmark::kMicrosecond);
BENCHMARK(deep_page_status_plan)->Unit(benchmark::kMicrosecond);
BENCHMARK(name_exact)->Unit(benchmark::kMicrosecond);
BENCHMARK(description_rare_prefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(description_common_word)->Unit(benchmark::kMicrosecond);
BENCHMARK(visible_set)->Unit(benchmark::kMicrosecond);
BENCHMARK(load_index_1m)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(try_find_hot);
BENCHMARK(find_spread);
BENCHMARK(list_page_100)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
