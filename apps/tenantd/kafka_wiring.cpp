#include "kafka_wiring.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

namespace tenantd {

namespace consumers = tenant::consumers;

namespace {

// This node's consumer groups must differ from every other replica's: host name + listen port.
std::string instance_id(const tenant::api::config& cfg) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "localhost") + "-" + std::to_string(cfg.listen.port);
}

}  // namespace

boost::system::result<std::unique_ptr<kafka_wiring>, std::string> kafka_wiring::start(
    const tenant::api::config& cfg, tenant::eventstore::event_store& store,
    tenant::eventstore::repository* repo, tenant::projections::read_model* model,
    tenant::api::metrics_registry& metrics, tenant::api::readiness& readiness) {
  consumers::service_config sc;
  sc.bootstrap_servers = cfg.kafka_brokers;
  sc.events_topic = cfg.kafka_topic;
  sc.billing_topic = cfg.billing_topic;
  sc.usage_topic = cfg.usage_topic;
  sc.replica = cfg.role == tenant::api::node_role::replica;
  sc.instance_id = instance_id(cfg);
  auto svc = consumers::service::start(sc, store, repo, model);
  if (!svc) return "Kafka: " + svc.error().message();
  std::unique_ptr<kafka_wiring> w(new kafka_wiring(std::move(*svc)));
  auto* self = w.get();
  const auto s = self->status();
  spdlog::info("Kafka: {} {} topic {} ({})", sc.replica ? "following" : "publishing to",
               s.bootstrap_servers, s.topic,
               s.embedded_broker ? "embedded broker" : "external cluster");

  readiness.add("kafka", [self] {
    return tenant::api::readiness::status{true, consumers::readiness_detail(self->status())};
  });

  const auto lag = metrics.make_gauge("tenantd_kafka_publish_lag_events",
                                      "Events in the log not yet acknowledged by Kafka");
  const auto reachable =
      metrics.make_gauge("tenantd_kafka_reachable", "1 when Kafka answered lately, else 0");
  const auto in_flight = metrics.make_gauge("tenantd_kafka_relay_in_flight",
                                            "Records produced and awaiting their delivery report");
  const auto checkpoint = metrics.make_gauge("tenantd_kafka_relay_checkpoint_position",
                                             "Last position durably acknowledged by Kafka");
  const auto published =
      metrics.make_counter("tenantd_kafka_published_total", "Records acknowledged by Kafka");
  const auto refused = metrics.make_counter("tenantd_kafka_delivery_errors_total",
                                            "Records refused by Kafka (then re-sent)");
  const auto replica_position = metrics.make_gauge(
      "tenantd_kafka_replica_position", "Position up to which a replica mirrored the log");
  const auto waiting = metrics.make_gauge("tenantd_kafka_replica_buffered_events",
                                          "Records waiting for an earlier position");
  struct consumer_metrics {
    tenant::api::counter processed, dead, retries;
  };
  auto per_topic = std::make_shared<std::vector<std::pair<std::string, consumer_metrics>>>();
  for (const auto& c : s.consumers) {
    const tenant::api::metric_labels l{{"topic", c.topic}};
    per_topic->push_back(
        {c.topic,
         {metrics.make_counter("tenantd_kafka_consumed_total", "Inbound records processed", l),
          metrics.make_counter("tenantd_kafka_dead_lettered_total",
                               "Inbound records copied to the dead-letter topic", l),
          metrics.make_counter("tenantd_kafka_consumer_retries_total",
                               "Inbound records retried after a transient failure", l)}});
  }
  metrics.on_collect([=] {
    const auto st = self->status();
    reachable.set(st.kafka_reachable ? 1 : 0);
    // Counters only move forward: add what changed since the last scrape.
    const auto catch_up = [](const tenant::api::counter& c, std::uint64_t total) {
      if (static_cast<double>(total) > c.value()) c.inc(static_cast<double>(total) - c.value());
    };
    if (st.relay) {
      lag.set(static_cast<double>(st.relay->lag));
      in_flight.set(static_cast<double>(st.relay->in_flight));
      checkpoint.set(static_cast<double>(st.relay->checkpoint));
      catch_up(published, st.relay->published);
      catch_up(refused, st.relay->delivery_errors);
    }
    if (st.mirror) {
      replica_position.set(static_cast<double>(st.mirror->position));
      waiting.set(static_cast<double>(st.mirror->buffered));
    }
    for (const auto& c : st.consumers)
      for (const auto& [topic, m] : *per_topic)
        if (topic == c.topic) {
          catch_up(m.processed, c.processed);
          catch_up(m.dead, c.dead_lettered);
          catch_up(m.retries, c.retries);
        }
  });
  return w;
}

kafka_wiring::kafka_wiring(std::unique_ptr<consumers::service> s) : service_(std::move(s)) {}

kafka_wiring::~kafka_wiring() {
  stop();
}

consumers::service_status kafka_wiring::status() const {
  return service_->status();
}

boost::json::object kafka_wiring::admin_status() const {
  return to_json(status());
}

void kafka_wiring::stop() {
  if (service_) service_->stop();
}

boost::json::object to_json(const consumers::service_status& s) {
  boost::json::object o;
  o["bootstrap_servers"] = s.bootstrap_servers;
  o["topic"] = s.topic;
  o["embedded_broker"] = s.embedded_broker;
  o["role"] = s.replica ? "replica" : "writer";
  o["reachable"] = s.kafka_reachable;
  if (s.relay) {
    const auto& r = *s.relay;
    o["relay"] = boost::json::object{
        {"head", r.head},
        {"acknowledged", r.acknowledged},
        {"checkpoint", r.checkpoint},
        {"lag", r.lag},
        {"in_flight", r.in_flight},
        {"published", r.published},
        {"delivery_errors", r.delivery_errors},
        {"restarts", r.restarts},
        {"last_error", r.last_error},
    };
  }
  if (s.mirror) {
    const auto& m = *s.mirror;
    o["replica"] = boost::json::object{
        {"position", m.position}, {"applied", m.applied},         {"duplicates", m.duplicates},
        {"buffered", m.buffered}, {"waiting_for", m.waiting_for}, {"partitions", m.partitions},
        {"invalid", m.invalid},   {"last_error", m.last_error},
    };
  }
  boost::json::array consumers;
  for (const auto& c : s.consumers)
    consumers.push_back(boost::json::object{{"topic", c.topic},
                                            {"group", c.group_id},
                                            {"processed", c.processed},
                                            {"dead_lettered", c.dead_lettered},
                                            {"retries", c.retries},
                                            {"last_error", c.last_error}});
  o["consumers"] = std::move(consumers);
  return o;
}

}  // namespace tenantd
