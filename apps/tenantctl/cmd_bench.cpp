// tenantctl bench append: N concurrent appenders, each appending single events to its own
// stream and waiting for each acknowledgement, against a fresh RocksDB event store (a temporary
// directory unless --dir is given; never the data directory's store). Prints throughput and
// acknowledgement latency.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "command.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace {

namespace es = tenant::eventstore;
using clock_type = std::chrono::steady_clock;

struct bench_args {
  int concurrency = 64;
  std::uint64_t events = 100'000;
  std::string durability = "fsync";
  std::string sync = "pipelined";
  std::string dir;
  bool json = false;
};

std::string random_id(std::mt19937_64& rng) {
  std::array<std::uint8_t, 10> r{};
  for (auto& b : r)
    b = static_cast<std::uint8_t>(rng());
  return tenant::domain::uuid::v7(std::chrono::time_point_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now()),
                                  r)
      .to_string();
}

int run_append(const bench_args& a) {
  namespace fs = std::filesystem;
  fs::path dir = a.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("tenantctl-bench-" + std::to_string(rd()));
  }
  struct cleanup {
    fs::path p;
    bool on;
    ~cleanup() {
      std::error_code ec;
      if (on) fs::remove_all(p, ec);
    }
  } guard{dir, temporary};

  es::rocksdb_options o;
  o.path = (dir / "eventstore").string();
  o.mode = a.durability == "os" ? es::durability::os : es::durability::fsync;
  o.pipelined_sync = a.sync == "pipelined";
  auto store = es::open_rocksdb_store(o);
  if (!store) {
    std::fprintf(stderr, "bench: cannot open %s: %s\n", o.path.c_str(),
                 store.error().message().c_str());
    return 2;
  }

  std::atomic<std::uint64_t> issued{0};
  std::atomic<bool> failed{false};
  std::vector<std::vector<std::uint32_t>> latencies(static_cast<std::size_t>(a.concurrency));
  const std::string data = R"({"payment_id":"bench","amount_cents":1000,"currency":"EUR"})";
  const auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < a.concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng{std::random_device{}()};
      auto& lat = latencies[static_cast<std::size_t>(t)];
      const std::string stream = "bench-" + std::to_string(t);
      while (issued.fetch_add(1) < a.events && !failed.load()) {
        es::append_request r;
        r.stream_id = stream;
        es::proposed_event e;
        e.event_id = random_id(rng);
        e.type = "PaymentSucceeded";
        e.data_json = data;
        r.events.push_back(std::move(e));
        std::promise<bool> done;
        auto f = done.get_future();
        const auto t0 = clock_type::now();
        (*store)->append(std::move(r),
                         [&done](es::append_outcome out) { done.set_value(out.has_value()); });
        if (!f.get()) failed.store(true);
        lat.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0).count()));
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  if (failed.load()) {
    std::fprintf(stderr, "bench: an append failed\n");
    return 1;
  }
  std::vector<std::uint32_t> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) {
    return all.empty() ? 0u
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  const auto stats = (*store)->stats();
  const double eps = static_cast<double>(all.size()) / seconds;
  if (a.json) {
    std::printf(
        "{\"events_per_sec\":%.0f,\"p50_us\":%u,\"p99_us\":%u,\"events\":%zu,\"concurrency\":%d,"
        "\"durability\":\"%s\",\"sync\":\"%s\",\"batches\":%llu,\"seconds\":%.3f}\n",
        eps, pct(0.50), pct(0.99), all.size(), a.concurrency, a.durability.c_str(), a.sync.c_str(),
        static_cast<unsigned long long>(stats.batches), seconds);
  } else {
    std::printf("append: %zu events, %d appenders, durability %s (%s sync)\n", all.size(),
                a.concurrency, a.durability.c_str(), a.sync.c_str());
    std::printf("  %.0f events/s over %.2f s; %llu group commits (%.1f events each)\n", eps,
                seconds, static_cast<unsigned long long>(stats.batches),
                stats.batches ? static_cast<double>(stats.events_appended) / stats.batches : 0.0);
    std::printf("  latency: p50 %u us, p99 %u us, max %u us\n", pct(0.50), pct(0.99),
                all.empty() ? 0u : all.back());
  }
  return 0;
}

const tenantctl::registrar reg{
    "bench", "Benchmarks (append: concurrent appends to a fresh event store)",
    [](CLI::App& sub, tenantctl::global_options&) -> std::function<int()> {
      auto a = std::make_shared<bench_args>();
      sub.require_subcommand(1);
      auto* append = sub.add_subcommand("append", "N appenders, single-event appends, each waits");
      append->add_option("--concurrency", a->concurrency, "concurrent appenders")
          ->check(CLI::Range(1, 4096))
          ->capture_default_str();
      append->add_option("--events", a->events, "events in total")
          ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}))
          ->capture_default_str();
      append->add_option("--durability", a->durability, "fsync or os")
          ->check(CLI::IsMember({"fsync", "os"}))
          ->capture_default_str();
      append
          ->add_option("--sync", a->sync,
                       "durability fsync: pipelined (WAL sync on a second thread, overlapping "
                       "the next batch) or plain (one synced write per batch)")
          ->check(CLI::IsMember({"pipelined", "plain"}))
          ->capture_default_str();
      append->add_option("--dir", a->dir, "directory for the store (default: a temporary one)");
      append->add_flag("--json", a->json,
                       "print one JSON object: events_per_sec, p50_us, p99_us, ...");
      return [a, append]() -> int {
        if (append->parsed()) return run_append(*a);
        return EXIT_FAILURE;
      };
    }};

}  // namespace
