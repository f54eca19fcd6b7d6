// Kafka benchmarks, each against a baseline measured in the same run on the same broker:
//
//   relay_vs_kcat     the outbox relay publishing N stored events (idempotent, acks=all) until
//                     every one is acknowledged, vs `kcat -P` producing the same records (same
//                     keys, values and header set, same producer settings) to the same embedded
//                     broker. Target: relay >= 0.8 x kcat.
//   relay_latency     commands appended at a fixed rate (default 1000/s) with the relay running;
//                     a consumer measures append acknowledgement -> record received. Target:
//                     p99 < 50 ms.
//
// Environment: TENANT_BENCH_KAFKA_EVENTS (default 100000), TENANT_BENCH_KAFKA_ROUNDS (5),
// TENANT_BENCH_KAFKA_RATE (1000/s), TENANT_BENCH_KAFKA_SECONDS (10), TENANT_BENCH_KAFKA_BROKERS (an
// external cluster instead of the embedded broker); TENANT_BENCH_RELAY_READ_BATCH and
// TENANT_BENCH_RELAY_MAX_IN_FLIGHT override relay_config's defaults (for tuning them).
#include <benchmark/benchmark.h>
#include <librdkafka/rdkafka.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tenant/consumers/embedded_broker.hpp"
#include "tenant/consumers/kafka.hpp"
#include "tenant/consumers/relay.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace {

using namespace tenant;
using clock_type = std::chrono::steady_clock;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// One broker for the whole run (both sides of each comparison use it).
struct bench_broker {
  std::unique_ptr<consumers::embedded_broker> embedded;
  std::string bootstrap;
  bench_broker() {
    if (const char* b = std::getenv("TENANT_BENCH_KAFKA_BROKERS"); b && *b) {
      bootstrap = b;
      return;
    }
    consumers::embedded_broker_options o;
    o.topics = {{"bench.relay", 6}, {"bench.kcat", 6}, {"bench.latency", 6}};
    embedded = std::move(consumers::embedded_broker::start(o).value());
    bootstrap = embedded->bootstrap_servers();
  }
};
bench_broker& broker() {
  static bench_broker b;
  return b;
}

std::string tenant_of(std::uint64_t i) {
  return domain::tenant_id::from_uuid(domain::uuid::derived("bench-tenant-" + std::to_string(i)))
      .str();
}

std::string event_id(std::uint64_t i) {
  static const std::string salt = std::to_string(std::random_device{}());
  return domain::uuid::derived("bench-event-" + salt + "-" + std::to_string(i)).to_string();
}

// A realistic event: a PaymentFailed-sized data object, 1000 tenants.
eventstore::append_request bench_request(std::uint64_t i) {
  eventstore::append_request r;
  r.stream_id = tenant_of(i % 1000);
  r.expected = eventstore::expected_version::any();
  eventstore::proposed_event e;
  e.event_id = event_id(i);
  e.type = "PaymentFailed";
  e.data_json = R"({"payment_id":"pay_)" + std::to_string(i) +
                R"(","amount_cents":4900,"currency":"EUR","reason":"card_declined",)"
                R"("consecutive_failures":1})";
  r.events.push_back(std::move(e));
  r.metadata.correlation_id = "corr-" + std::to_string(i);
  r.metadata.actor = "auth0|bench";
  r.metadata.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  return r;
}

// The store with N events, built once.
eventstore::event_store& filled_store(std::uint64_t n) {
  static std::unique_ptr<eventstore::event_store> store = [n] {
    auto s = eventstore::make_memory_store();
    std::vector<std::future<void>> pending;
    std::atomic<std::uint64_t> failed{0};
    std::promise<void> done;
    std::atomic<std::uint64_t> left{n};
    for (std::uint64_t i = 0; i < n; ++i)
      s->append(bench_request(i), [&](eventstore::append_outcome o) {
        if (!o) failed.fetch_add(1);
        if (left.fetch_sub(1) == 1) done.set_value();
      });
    done.get_future().wait();
    if (failed > 0) std::abort();
    return s;
  }();
  return *store;
}

// One relay run over the whole store: seconds until every record was acknowledged.
double time_relay(eventstore::event_store& store, std::uint64_t n) {
  static int run = 0;
  consumers::relay_config c;
  c.bootstrap_servers = broker().bootstrap;
  c.topic = "bench.relay";
  c.checkpoint_name = "bench.relay." + std::to_string(run++);  // from position 0 each time
  c.producer_properties = {{"log_level", "3"}};
  if (const auto m = env_u64("TENANT_BENCH_RELAY_MAX_IN_FLIGHT", 0)) c.max_in_flight = m;
  if (const auto m = env_u64("TENANT_BENCH_RELAY_READ_BATCH", 0)) c.read_batch = m;
  const auto start = clock_type::now();
  auto r = consumers::start_relay(store, c).value();
  // Checked every millisecond (<= 1 ms on runs of seconds): polling status() every 200 us cost
  // this 2-core machine a wake-up and a status copy 5000 times a second, taken from the relay
  // and the broker it is measured against, while kcat's side is timed by waitpid alone.
  while (r->status().acknowledged < n)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::chrono::duration<double> took = clock_type::now() - start;
  r->stop();
  return took.count();
}

// One `kcat -P` run (a process of its own, as an operator would run it): seconds until it exited
// having delivered every record; < 0 when it failed.
double time_kcat(std::vector<std::string> args) {
  const auto start = clock_type::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("kcat", argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::chrono::duration<double> took = clock_type::now() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return took.count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double relay_rate = 0, kcat_rate = 0, rate_ratio = 0;

// Rounds alternate which side goes first, and the ratio is the median of the per-round
// ratios: the machine's background load hits both sides alike.
void relay_vs_kcat(benchmark::State& state) {
  const auto n = env_u64("TENANT_BENCH_KAFKA_EVENTS", 100'000);
  const auto rounds = env_u64("TENANT_BENCH_KAFKA_ROUNDS", 5);
  auto& store = filled_store(n);
  // The same records as the relay produces: key TAB value per line, the same header set.
  const auto file = std::filesystem::temp_directory_path() /
                    ("tenant-kafka-bench-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file);
    for (std::uint64_t from = 1; from <= n; from += 10'000)
      for (const auto& e : store.read_all(from, 10'000).value())
        out << consumers::event_key(e) << '\t' << e.envelope_json << '\n';
  }
  // kcat sends one header set with every record: the last event's, whose position and version
  // have the most digits, so kcat's records are never smaller than the relay's.
  const auto sample = store.read_all(n, 1).value().front();
  std::vector<std::string> args = {"kcat",
                                   "-P",
                                   "-q",
                                   "-b",
                                   broker().bootstrap,
                                   "-t",
                                   "bench.kcat",
                                   "-K",
                                   "\t",
                                   "-l",
                                   file.string(),
                                   "-X",
                                   "enable.idempotence=true",
                                   "-X",
                                   "acks=all",
                                   "-X",
                                   "linger.ms=5",
                                   "-X",
                                   "message.timeout.ms=0"};
  for (const auto& h : consumers::event_headers(sample)) {
    args.push_back("-H");
    args.push_back(h.name + "=" + h.value);
  }
  std::vector<double> relay_rates, kcat_rates, ratios;
  for (auto _ : state) {
    for (std::uint64_t round = 0; round < rounds; ++round) {
      double relay_s = 0, kcat_s = 0;
      if (round % 2 == 0) {
        kcat_s = time_kcat(args);
        relay_s = time_relay(store, n);
      } else {
        relay_s = time_relay(store, n);
        kcat_s = time_kcat(args);
      }
      if (kcat_s < 0) {
        state.SkipWithError("kcat failed (is it installed?)");
        break;
      }
      relay_rates.push_back(static_cast<double>(n) / relay_s);
      kcat_rates.push_back(static_cast<double>(n) / kcat_s);
      ratios.push_back(kcat_s / relay_s);
      std::fprintf(stderr, "round %llu: relay %.0f/s, kcat %.0f/s, ratio %.2f\n",
                   static_cast<unsigned long long>(round), relay_rates.back(), kcat_rates.back(),
                   ratios.back());
    }
    state.SetIterationTime(1);
  }
  std::filesystem::remove(file);
  relay_rate = median(relay_rates);
  kcat_rate = median(kcat_rates);
  rate_ratio = median(ratios);
  state.counters["relay_records_per_second"] = relay_rate;
  state.counters["kcat_records_per_second"] = kcat_rate;
  state.counters["ratio"] = rate_ratio;
}

double p99_ms = -1, p50_ms = -1, max_ms = -1;

// Appends at a fixed rate with the relay running; a plain consumer on the topic measures the
// time from the append's acknowledgement to the record's arrival.
void relay_latency(benchmark::State& state) {
  const auto rate = env_u64("TENANT_BENCH_KAFKA_RATE", 1000);
  const auto seconds = env_u64("TENANT_BENCH_KAFKA_SECONDS", 10);
  const std::uint64_t total = rate * seconds;
  for (auto _ : state) {
    auto store = eventstore::make_memory_store();
    consumers::relay_config c;
    c.bootstrap_servers = broker().bootstrap;
    c.topic = "bench.latency";
    c.producer_properties = {{"log_level", "3"}};
    auto relay = consumers::start_relay(*store, c).value();

    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker().bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "bench-latency", err, sizeof err);
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "fetch.error.backoff.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(6);
    for (int p = 0; p < 6; ++p)
      rd_kafka_topic_partition_list_add(parts, "bench.latency", p)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // assignment settles before timing

    std::mutex mu;
    std::unordered_map<std::uint64_t, clock_type::time_point> acked;  // position -> ack time
    std::vector<double> latencies;
    latencies.reserve(total);
    std::atomic<bool> stop{false};
    std::unordered_map<std::uint64_t, clock_type::time_point> early;  // received before ack
    std::thread reader([&] {
      while (!stop) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 10);
        if (!m) continue;
        const auto now = clock_type::now();
        if (!m->err) {
          rd_kafka_headers_t* h = nullptr;
          const void* v = nullptr;
          std::size_t size = 0;
          if (!rd_kafka_message_headers(m, &h) &&
              !rd_kafka_header_get_last(h, "position", &v, &size)) {
            const auto pos = std::stoull(std::string(static_cast<const char*>(v), size));
            std::lock_guard lk(mu);
            if (auto it = acked.find(pos); it != acked.end()) {
              latencies.push_back(
                  std::chrono::duration<double, std::milli>(now - it->second).count());
              acked.erase(it);
            } else {
              early.emplace(pos, now);
            }
          }
        }
        rd_kafka_message_destroy(m);
      }
    });

    const auto interval =
        std::chrono::nanoseconds(1'000'000'000 / std::max<std::uint64_t>(rate, 1));
    auto next = clock_type::now();
    for (std::uint64_t i = 0; i < total; ++i) {
      std::this_thread::sleep_until(next);
      next += interval;
      store->append(bench_request(i), [&](eventstore::append_outcome o) {
        if (!o) return;
        const auto now = clock_type::now();
        std::lock_guard lk(mu);
        if (auto it = early.find(o->first_position); it != early.end()) {
          latencies.push_back(0);  // arrived before we even heard the ack
          early.erase(it);
        } else {
          acked.emplace(o->first_position, now);
        }
      });
    }
    const auto deadline = clock_type::now() + std::chrono::seconds(30);
    while (clock_type::now() < deadline) {
      {
        std::lock_guard lk(mu);
        if (latencies.size() >= total) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop = true;
    reader.join();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    relay->stop();

    std::lock_guard lk(mu);
    if (latencies.size() < total) {
      state.SkipWithError("not every event arrived within 30 s");
      break;
    }
    std::sort(latencies.begin(), latencies.end());
    p50_ms = latencies[latencies.size() / 2];
    p99_ms = latencies[latencies.size() * 99 / 100];
    max_ms = latencies.back();
    state.SetIterationTime(static_cast<double>(seconds));
    state.counters["p50_ms"] = p50_ms;
    state.counters["p99_ms"] = p99_ms;
    state.counters["max_ms"] = max_ms;
  }
}

}  // namespace

BENCHMARK(relay_vs_kcat)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(relay_latency)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (rate_ratio > 0)
    std::printf(
        "\nrelay %.0f records/s, kcat -P %.0f records/s (medians): ratio %.2f, median of "
        "the rounds (target >= 0.80)\n",
        relay_rate, kcat_rate, rate_ratio);
  if (p99_ms >= 0)
    std::printf(
        "append ack -> subscriber: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 50 "
        "ms)\n",
        p50_ms, p99_ms, max_ms);
  return 0;
}
