#pragma once
// A realistic event log for the projection benchmarks: N events over about N/5 tenants, decided
// by the domain (so every event is one the service could have written) and appended to a
// RocksDB event store. Mix: creation 20%, provisioning 20%, updates 18%, payments 18%, plan
// changes 9%, suspend/reactivate 6%, user switches 4%, deactivation 2%, cancellations 3%.

#include <rocksdb/db.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "rocksdb_layout.hpp"  // eventstore/src: the store's own column family options
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::bench {

inline std::size_t env_size(const char* name, std::size_t def) {
  const char* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : def;
}

inline std::string bench_dir() {
  const char* v = std::getenv("TENANT_BENCH_DIR");
  return v ? v : "/tmp/tenant-bench-projections";
}

inline long max_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

inline long current_rss_mib() {
  long pages = 0, rss = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4096 / (1 << 20);
}

/// Flushes every memtable of the log to SST files and compacts `events`, as a long-running
/// tenantd's log would be: otherwise each read-only (secondary) open replays the whole WAL.
/// Opened with the event store's own layout (eventstore/src/rocksdb_layout.hpp), so the files
/// are written as tenantd writes them (LZ4, 16 KiB blocks, Bloom filters); RocksDB's default
/// options (Snappy, 4 KiB blocks) made the log's blocks about twice as costly to decompress.
inline void settle_log(const std::string& path) {
  namespace esd = tenant::eventstore::detail;
  esd::rocksdb_open_options oo;
  oo.path = path;
  auto opened = esd::open_layout(oo);
  if (!opened) return;
  auto& db = *(*opened)->db;
  db.Flush(rocksdb::FlushOptions(), (*opened)->handles);
  db.CompactRange(rocksdb::CompactRangeOptions(), (*opened)->cf(esd::cf_events), nullptr, nullptr);
}

/// Generates the log at `path` if it does not hold `events` events yet. Returns the head.
inline std::uint64_t ensure_log(const std::string& path, std::size_t events) {
  using namespace tenant::domain;
  namespace es = tenant::eventstore;
  {
    es::rocksdb_options ro;
    ro.path = path;
    ro.read_only = true;
    if (std::filesystem::exists(path)) {
      settle_log(path);
      auto s = es::open_rocksdb_store(ro);
      if (s && (*s)->head() >= events) return (*s)->head();
    }
  }
  std::filesystem::remove_all(path);
  std::fprintf(stderr, "generating a log of %zu events at %s ...\n", events, path.c_str());
  es::rocksdb_options o;
  o.path = path;
  o.mode = es::durability::os;
  auto opened = es::open_rocksdb_store(o);
  if (!opened) throw std::runtime_error("cannot open " + path);
  auto& store = **opened;

  std::mt19937_64 rng(42);
  std::vector<tenant_state> states;
  std::vector<tenant_id> ids;
  clock_time now{std::chrono::milliseconds(1'767'225'600'000)};
  std::uint64_t n = 0, counter = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  const std::vector<std::string> words = {
      "cloud",   "software", "analytics",  "retail",    "logistics", "health",
      "finance", "media",    "consulting", "education", "energy",    "travel",
      "München", "café",     "Zürich",     "data",      "platform",  "services",
      "global",  "regional", "partners",   "labs",      "systems",   "network"};
  auto profile = [&](std::size_t i, plan_tier plan) {
    validated_profile p;
    p.profile.name = "Company " + std::to_string(i) + " " + words[rng() % words.size()];
    p.profile.admin_email = "admin" + std::to_string(i) + "@example.com";
    p.profile.domain = "tenant" + std::to_string(i) + ".example.com";
    std::string d;
    for (int k = 0; k < 6; ++k)
      d += (k ? " " : "") + words[rng() % words.size()];
    p.profile.description = d;
    p.profile.address = std::to_string(1 + rng() % 999) + " Main Street";
    p.profile.city = "New York";
    p.profile.country_code = "US";
    p.country_name = "United States";
    p.profile.post_code = "10001";
    p.profile.settings.timezone = "America/New_York";
    p.profile.settings.locale = "en-US";
    p.plan = plan;
    return p;
  };
  auto append = [&](const std::string& stream, es::expected_version ev,
                    std::vector<event_data> data) {
    es::append_request r;
    r.stream_id = stream;
    r.expected = ev;
    r.metadata.actor = "bench";
    r.metadata.correlation_id = "c" + std::to_string(counter);
    for (auto& d : data) {
      r.events.push_back(es::codec::to_proposed(
          event{std::move(d), now},
          uuid::derived("bench-event-" + std::to_string(counter++)).to_string()));
      ++n;
    }
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return in_flight < 512; });
      ++in_flight;
    }
    store.append(std::move(r), [&](es::append_outcome out) {
      if (!out) std::fprintf(stderr, "append failed: %s\n", out.error().detail.c_str());
      std::lock_guard lk(mu);
      --in_flight;
      cv.notify_all();
    });
  };
  decide_context ctx;
  auto run = [&](std::size_t i, const command& c) {
    ctx.now = now;
    auto d = decide(states[i], c, ctx);
    if (!d || d->empty()) return;
    const auto version = states[i].version.value;
    for (const auto& e : *d)
      states[i] = evolve(std::move(states[i]), event{e, now});
    states[i].seen_payment_ids.clear();
    append(ids[i].str(),
           version == 0 ? es::expected_version::no_stream() : es::expected_version::exact(version),
           std::move(*d));
  };
  const std::size_t tenants = events / 5;
  while (n < events) {
    now += std::chrono::milliseconds(1 + rng() % 20);
    const auto r = rng() % 100;
    if (ids.size() < tenants && (r < 40 || ids.size() < 100)) {
      const std::size_t i = ids.size();
      ids.push_back(tenant_id::from_uuid(uuid::derived("bench-tenant-" + std::to_string(i))));
      states.emplace_back();
      run(i, create_tenant{ids[i], profile(i, static_cast<plan_tier>(1 + rng() % 3)),
                           user_id("user-" + std::to_string(i % (tenants / 2 + 1)))});
      continue;
    }
    const std::size_t i = rng() % ids.size();
    if (!states[i].provisioned && rng() % 2 == 0) {
      run(i, mark_provisioned{"loc-" + std::to_string(i)});
      continue;
    }
    const auto k = rng() % 100;
    if (k < 30) {
      run(i, update_tenant{profile(i, states[i].subscription.plan), true, 0});
    } else if (k < 60) {
      run(i, record_payment{rng() % 5 != 0, "pay-" + std::to_string(counter), 4900, "USD", "card"});
    } else if (k < 75) {
      run(i, change_plan{static_cast<plan_tier>(1 + rng() % 3), 0});
    } else if (k < 85) {
      if (states[i].status == tenant_status::suspended)
        run(i, reactivate_tenant{});
      else
        run(i, suspend_tenant{"ops"});
    } else if (k < 92) {
      const std::string u = "user-" + std::to_string(rng() % (tenants / 2 + 1));
      append(user_stream_id(user_id(u)), es::expected_version::any(),
             {user_switched_tenant{user_id(u), ids[i]}});
    } else if (k < 95) {
      run(i, deactivate_tenant{std::nullopt, "churn"});
    } else {
      run(i, cancel_subscription{"too expensive"});
    }
  }
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return in_flight == 0; });
  lk.unlock();
  store.stop();
  const auto head = store.head();
  opened->reset();
  settle_log(path);
  std::fprintf(stderr, "generated %llu events over %zu tenants\n",
               static_cast<unsigned long long>(head), ids.size());
  return head;
}

}  // namespace tenant::bench
