#pragma once
/// Everything Kafka in one tenantd process, started and stopped together (apps/tenantd wires it):
///
///   writer:  [embedded broker] + outbox relay + billing.events consumer + tenant.usage consumer
///   replica: [embedded broker] + replica projector + tenant.usage consumer (no dead letters)
///
/// Without bootstrap servers it starts the embedded broker (loopback, topics created) and logs
/// its address; status().bootstrap_servers reports it (for /admin/status).
///
/// Ownership: borrows the event store, the repository and the read model (all must outlive the
/// service); owns the broker, the relay, the consumers and their threads.
/// Threading: status() is thread-safe and non-blocking; start/stop from one thread.
/// Lifecycle: start() -> status()... -> stop() (consumers first, then the relay (flushing),
/// then the broker). The destructor calls stop().

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenant/consumers/errors.hpp"
#include "tenant/consumers/inbound.hpp"
#include "tenant/consumers/relay.hpp"
#include "tenant/consumers/replica.hpp"

namespace tenant::eventstore {
class repository;
}
namespace tenant::projections {
class read_model;
}

namespace tenant::consumers {

struct service_config {
  std::string bootstrap_servers;  ///< `--kafka-brokers`; empty = start the embedded broker
  std::string events_topic = std::string(consumers::events_topic);  ///< `--kafka-topic`
  std::string billing_topic = std::string(consumers::billing_topic);
  std::string usage_topic = std::string(consumers::usage_topic);
  bool replica = false;  ///< `--role replica`
  /// Distinguishes this process's consumer groups where each node needs its own (a replica's
  /// groups): e.g. the host name and port. Writers share the group "tenantd".
  std::string instance_id = "default";
  int embedded_partitions = 6;  ///< partitions of the events topic on the embedded broker
  /// Producer/consumer overrides applied to every client (e.g. security settings).
  client_properties client_overrides;
};

struct service_status {
  std::string bootstrap_servers;
  std::string topic;
  bool embedded_broker = false;
  bool replica = false;
  /// For /readyz: Kafka answered lately (relay or replica view). A writer keeps accepting
  /// commands without it: report it as a warning, not as unready.
  bool kafka_reachable = false;
  std::optional<relay_status> relay;     ///< writer
  std::optional<replica_status> mirror;  ///< replica
  std::vector<consumer_status> consumers;
};

class service {
 public:
  /// `repo` is required on a writer (billing commands), unused on a replica; `model` feeds
  /// tenant.usage (nullptr: no usage consumer).
  static result<std::unique_ptr<service>> start(service_config config,
                                                eventstore::event_store& store,
                                                eventstore::repository* repo,
                                                projections::read_model* model);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  service_status status() const;
  /// The bootstrap servers in use (the embedded broker's address when embedded).
  const std::string& bootstrap_servers() const;
  void stop();

  struct impl;

 private:
  explicit service(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// One line for /readyz's "kafka" check: "ok", or a warning with the lag.
std::string readiness_detail(const service_status& s);

}  // namespace tenant::consumers
