#pragma once
/// The embedded broker: librdkafka's in-process mock cluster listening on loopback, so tenantd
/// runs (and external clients such as kcat or kafka-python subscribe) without an Apache Kafka.
/// It speaks the Kafka protocol well enough for producers (idempotent included), consumer
/// groups and offset commits. It is a development and test broker: it keeps everything in
/// memory, loses it on exit, and (librdkafka 2.0) keeps at most about 5 MiB or 100,000 record
/// batches per partition, dropping the oldest beyond that like a short retention.
///
/// Ownership: owns the mock cluster, its thread and its listening sockets (one per broker, on
/// 127.0.0.1 with a kernel-chosen port).
/// Threading: every member is thread-safe except stop(), which must not race the others.
/// Lifecycle: start() -> use -> stop() (or destroy): the sockets close, clients see the brokers
/// disappear.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tenant/consumers/errors.hpp"

namespace tenant::consumers {

struct topic_spec {
  std::string name;
  int partitions = 6;
};

/// tenant.events, billing.events, tenant.usage and the two dead-letter topics. `events` names
/// the events topic (`--kafka-topic`).
std::vector<topic_spec> default_broker_topics(std::string_view events = "tenant.events");

struct embedded_broker_options {
  int brokers = 1;  ///< 1..9; each topic is replicated on min(3, brokers) of them
  std::vector<topic_spec> topics = default_broker_topics();
};

class embedded_broker {
 public:
  /// Starts the cluster and creates the topics. errc::broker_failed, errc::invalid_argument.
  static result<std::unique_ptr<embedded_broker>> start(const embedded_broker_options& options);

  ~embedded_broker();
  embedded_broker(const embedded_broker&) = delete;
  embedded_broker& operator=(const embedded_broker&) = delete;

  /// "127.0.0.1:PORT[,127.0.0.1:PORT...]": the bootstrap.servers of clients.
  const std::string& bootstrap_servers() const;
  int brokers() const;

  std::error_code create_topic(std::string_view name, int partitions);

  /// Test hooks: a broker that is down closes its connections and refuses new ones (ids are
  /// 1..brokers()); clients retry until it is up again. errc::invalid_argument for a bad id.
  std::error_code set_broker_down(int id);
  std::error_code set_broker_up(int id);

  /// Test hook: the next `count` produce requests to any broker fail with the Kafka protocol
  /// error `kafka_error_code` (e.g. 29 TOPIC_AUTHORIZATION_FAILED: not retriable).
  void fail_produce_requests(std::size_t count, int kafka_error_code);

  /// Destroys the cluster. Idempotent.
  void stop();

  struct impl;

 private:
  explicit embedded_broker(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace tenant::consumers
