// tenantctl subscribe: prints the events of `tenant.events` as NDJSON (one envelope per line,
// exactly as published), each event once (deduplicated by event_id), optionally only some types.
// The reference consumer for users of the topic; see consumers/README.md.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "tenant/consumers/subscriber.hpp"

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_stop_signal(int) {
  interrupted = true;
}

struct subscribe_options {
  std::string brokers;
  std::string topic = "tenant.events";
  std::string group;
  bool from_beginning = false;
  std::vector<std::string> types;
  std::uint64_t max_events = 0;
  std::uint64_t idle_timeout_ms = 0;
};

const tenantctl::registrar reg{
    "subscribe", "Print the events of the Kafka topic as NDJSON, each event once",
    [](CLI::App& sub, tenantctl::global_options&) -> std::function<int()> {
      auto o = std::make_shared<subscribe_options>();
      sub.add_option("--brokers", o->brokers, "bootstrap servers (host:port,...)")
          ->envname("TENANTD_KAFKA_BROKERS")
          ->required();
      sub.add_option("--topic", o->topic, "events topic")
          ->envname("TENANTD_KAFKA_TOPIC")
          ->capture_default_str();
      sub.add_option("--group", o->group,
                     "consumer group: resume where it left off (default: a throwaway group)");
      sub.add_flag("--from-beginning", o->from_beginning,
                   "start at the oldest retained event (when the group has no offsets)");
      sub.add_option("--type", o->types, "only events of this type (repeatable)");
      sub.add_option("--max-events", o->max_events, "exit after printing this many events");
      sub.add_option("--idle-timeout-ms", o->idle_timeout_ms,
                     "exit after this long without a new event (0 = never)");
      return [o]() -> int {
        if (!spdlog::get("tenantctl-subscribe"))
          spdlog::set_default_logger(spdlog::stderr_color_mt("tenantctl-subscribe"));
        std::signal(SIGINT, on_stop_signal);
        std::signal(SIGTERM, on_stop_signal);
        std::signal(SIGPIPE, SIG_IGN);

        tenant::consumers::subscriber_config c;
        c.bootstrap_servers = o->brokers;
        c.topic = o->topic;
        c.group_id = o->group;
        c.from_beginning = o->from_beginning;
        c.types = o->types;
        auto s = tenant::consumers::event_subscriber::open(c);
        if (!s) {
          std::fprintf(stderr, "tenantctl subscribe: %s\n", s.error().message().c_str());
          return 1;
        }
        std::uint64_t printed = 0;
        auto last = std::chrono::steady_clock::now();
        int rc = 0;
        while (!interrupted && (o->max_events == 0 || printed < o->max_events)) {
          auto e = (*s)->next(std::chrono::milliseconds(200));
          if (!e) {
            std::fprintf(stderr, "tenantctl subscribe: %s\n", e.error().message().c_str());
            rc = 1;
            break;
          }
          if (!*e) {
            if (o->idle_timeout_ms > 0 && std::chrono::steady_clock::now() - last >=
                                              std::chrono::milliseconds(o->idle_timeout_ms))
              break;
            continue;
          }
          last = std::chrono::steady_clock::now();
          const auto& env = (*e)->envelope;
          if (std::fwrite(env.data(), 1, env.size(), stdout) != env.size() ||
              std::fputc('\n', stdout) == EOF || std::fflush(stdout) != 0) {
            rc = 1;  // stdout closed (a pipe reader went away)
            break;
          }
          ++printed;
        }
        spdlog::info("subscribe: {} event(s) printed, {} duplicate(s) dropped, {} filtered",
                     printed, (*s)->duplicates(), (*s)->filtered());
        (*s)->close();
        return rc;
      };
    }};

}  // namespace
