// tenantctl broker: the embedded broker (librdkafka's mock cluster) as a standalone process, for
// development and tests. Prints the bootstrap address as the first line of stdout, then serves
// until SIGINT/SIGTERM or a `quit` line on stdin. Other stdin lines steer it (tests): `down N`
// and `up N` take broker N down and up, `topic NAME PARTITIONS` creates a topic.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "command.hpp"
#include "tenant/consumers/embedded_broker.hpp"

namespace {

// Reads control lines until EOF or `quit`; answers each on stdout ("ok ..." or "error ...").
void serve_stdin(std::shared_ptr<tenant::consumers::embedded_broker> shared) {
  auto& broker = *shared;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    std::error_code ec;
    if (cmd == "quit") {
      std::puts("ok quit");
      std::fflush(stdout);
      ::kill(::getpid(), SIGTERM);
      return;
    } else if (cmd == "down" || cmd == "up") {
      int id = 0;
      in >> id;
      ec = cmd == "down" ? broker.set_broker_down(id) : broker.set_broker_up(id);
    } else if (cmd == "topic") {
      std::string name;
      int partitions = 0;
      in >> name >> partitions;
      ec = broker.create_topic(name, partitions);
    } else if (cmd.empty()) {
      continue;
    } else {
      ec = tenant::consumers::make_error_code(tenant::consumers::errc::invalid_argument);
    }
    if (ec)
      std::printf("error %s: %s\n", line.c_str(), ec.message().c_str());
    else
      std::printf("ok %s\n", line.c_str());
    std::fflush(stdout);
  }
  // EOF (stdin closed or /dev/null): keep serving until a signal.
}

const tenantctl::registrar reg{
    "broker", "Run the embedded Kafka broker (mock cluster) on loopback and print its address",
    [](CLI::App& sub, tenantctl::global_options&) -> std::function<int()> {
      auto brokers = std::make_shared<int>(1);
      auto partitions = std::make_shared<int>(6);
      auto topic = std::make_shared<std::string>("tenant.events");
      sub.add_option("--brokers", *brokers, "number of brokers (1..9)")
          ->check(CLI::Range(1, 9))
          ->capture_default_str();
      sub.add_option("--partitions", *partitions, "partitions of the events topic")
          ->check(CLI::Range(1, 1000))
          ->capture_default_str();
      sub.add_option("--topic", *topic, "events topic")
          ->envname("TENANTD_KAFKA_TOPIC")
          ->capture_default_str();
      return [=]() -> int {
        // stdout carries the address (and control answers) only: logs go to stderr.
        if (!spdlog::get("tenantctl-broker"))
          spdlog::set_default_logger(spdlog::stderr_color_mt("tenantctl-broker"));
        // Block the stop signals before any thread starts, then wait for them synchronously.
        sigset_t stop_signals;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGINT);
        sigaddset(&stop_signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

        tenant::consumers::embedded_broker_options o;
        o.brokers = *brokers;
        o.topics = tenant::consumers::default_broker_topics(*topic);
        o.topics.front().partitions = *partitions;
        auto started = tenant::consumers::embedded_broker::start(o);
        if (!started) {
          std::fprintf(stderr, "tenantctl broker: %s\n", started.error().message().c_str());
          return 1;
        }
        // Shared with the stdin reader, which may outlive this function.
        std::shared_ptr<tenant::consumers::embedded_broker> broker = std::move(*started);
        std::printf("%s\n", broker->bootstrap_servers().c_str());
        std::fflush(stdout);
        spdlog::info("embedded broker listening on {} ({} broker(s), topic {} with {} partitions)",
                     broker->bootstrap_servers(), *brokers, *topic, *partitions);

        // The reader may stay blocked on stdin: it is detached and ends with the process.
        std::thread(serve_stdin, broker).detach();
        int sig = 0;
        sigwait(&stop_signals, &sig);
        spdlog::info("embedded broker stopping (signal {})", sig);
        broker->stop();
        return 0;
      };
    }};

}  // namespace
