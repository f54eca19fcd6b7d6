#include "tenant/consumers/service.hpp"

#include <spdlog/spdlog.h>

#include "tenant/consumers/embedded_broker.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::consumers {

struct service::impl {
  service_config config;
  std::string bootstrap;
  std::unique_ptr<embedded_broker> broker;
  std::unique_ptr<relay> relay_;
  std::unique_ptr<replica> replica_;
  std::vector<std::unique_ptr<inbound_consumer>> consumers;

  void stop() {
    for (auto& c : consumers)
      c->stop();
    if (replica_) replica_->stop();
    if (relay_) relay_->stop();
    if (broker) broker->stop();
  }
};

result<std::unique_ptr<service>> service::start(service_config config,
                                                eventstore::event_store& store,
                                                eventstore::repository* repo,
                                                projections::read_model* model) {
  if (!config.replica && !repo) return make_error_code(errc::invalid_argument);
  auto p = std::make_unique<impl>();
  p->config = std::move(config);
  const auto& c = p->config;
  p->bootstrap = c.bootstrap_servers;
  if (p->bootstrap.empty()) {
    embedded_broker_options o;
    o.topics = default_broker_topics(c.events_topic);
    o.topics.front().partitions = c.embedded_partitions;
    if (c.billing_topic != billing_topic) {
      o.topics.push_back({c.billing_topic, 3});
      o.topics.push_back({dlq_topic(c.billing_topic), 1});
    }
    if (c.usage_topic != usage_topic) {
      o.topics.push_back({c.usage_topic, 3});
      o.topics.push_back({dlq_topic(c.usage_topic), 1});
    }
    auto b = embedded_broker::start(o);
    if (!b) return b.error();
    p->broker = std::move(*b);
    p->bootstrap = p->broker->bootstrap_servers();
    spdlog::info("embedded Kafka broker listening on {} (topic {})", p->bootstrap, c.events_topic);
  }

  if (c.replica) {
    replica_config rc;
    rc.bootstrap_servers = p->bootstrap;
    rc.topic = c.events_topic;
    rc.group_id = "tenantd-replica-" + c.instance_id;
    rc.consumer_properties = c.client_overrides;
    auto r = start_replica(store, rc);
    if (!r) return r.error();
    p->replica_ = std::move(*r);
  } else {
    relay_config rc;
    rc.bootstrap_servers = p->bootstrap;
    rc.topic = c.events_topic;
    rc.producer_properties = c.client_overrides;
    auto r = start_relay(store, rc);
    if (!r) return r.error();
    p->relay_ = std::move(*r);

    consumer_config bc;
    bc.bootstrap_servers = p->bootstrap;
    bc.topic = c.billing_topic;
    // One group per topic: a member joining for one topic never rebalances the other.
    bc.group_id = "tenantd-billing";
    bc.consumer_properties = c.client_overrides;
    bc.producer_properties = c.client_overrides;
    auto billing = start_consumer(bc, make_billing_handler(make_repository_executor(*repo)));
    if (!billing) {
      p->stop();
      return billing.error();
    }
    p->consumers.push_back(std::move(*billing));
  }

  if (model) {
    consumer_config uc;
    uc.bootstrap_servers = p->bootstrap;
    uc.topic = c.usage_topic;
    uc.consumer_properties = c.client_overrides;
    uc.producer_properties = c.client_overrides;
    message_handler h;
    if (c.replica) {
      // A replica keeps its own usage view; the writer dead-letters what cannot be applied,
      // and a tenant may reach the report before the replica's log does.
      uc.group_id = "tenantd-replica-" + c.instance_id + "-usage";
      uc.dead_letters = false;
      h = make_usage_handler(
          [model](const usage_report& r) -> eventstore::result<bool> {
            auto ok = model->apply_usage(r.tenant, r.seats_in_use, r.storage_bytes, r.observed_at);
            if (!ok) return {boost::system::in_place_error, ok.error()};
            return {boost::system::in_place_value, *ok};
          },
          nullptr);
    } else {
      uc.group_id = "tenantd-usage";
      h = make_usage_handler(*model, store);
    }
    auto usage = start_consumer(uc, std::move(h));
    if (!usage) {
      p->stop();
      return usage.error();
    }
    p->consumers.push_back(std::move(*usage));
  }
  return std::unique_ptr<service>(new service(std::move(p)));
}

service::service(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

service::~service() {
  stop();
}

service_status service::status() const {
  service_status s;
  s.bootstrap_servers = impl_->bootstrap;
  s.topic = impl_->config.events_topic;
  s.embedded_broker = impl_->broker != nullptr;
  s.replica = impl_->config.replica;
  if (impl_->relay_) {
    s.relay = impl_->relay_->status();
    s.kafka_reachable = s.relay->kafka_reachable;
  }
  if (impl_->replica_) {
    s.mirror = impl_->replica_->status();
    s.kafka_reachable = s.mirror->kafka_reachable;
  }
  for (const auto& c : impl_->consumers)
    s.consumers.push_back(c->status());
  return s;
}

const std::string& service::bootstrap_servers() const {
  return impl_->bootstrap;
}

void service::stop() {
  if (impl_) impl_->stop();
}

std::string readiness_detail(const service_status& s) {
  if (s.relay) {
    const auto& r = *s.relay;
    if (!r.kafka_reachable)
      return "warning: Kafka unreachable at " + s.bootstrap_servers + "; " + std::to_string(r.lag) +
             " event(s) not yet published";
    if (!r.last_error.empty())
      return "warning: " + r.last_error + "; " + std::to_string(r.lag) +
             " event(s) not yet published";
    return "ok: publishing to " + s.topic + ", lag " + std::to_string(r.lag);
  }
  if (s.mirror) {
    const auto& m = *s.mirror;
    if (!m.kafka_reachable) return "warning: Kafka unreachable at " + s.bootstrap_servers;
    if (m.waiting_for > 0)
      return "warning: waiting for position " + std::to_string(m.waiting_for) + " (" +
             std::to_string(m.buffered) + " later event(s) buffered)";
    return "ok: following " + s.topic + " at position " + std::to_string(m.position);
  }
  return "ok";
}

}  // namespace tenant::consumers
