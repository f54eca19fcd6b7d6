// The Kafka service as tenantd runs it, with the real repository, domain and read model: billing
// records become events once, refusals are dead-lettered, usage reports reach the usage view,
// the relay publishes the log, and a replica service mirrors it.
#include "tenant/consumers/service.hpp"

#include <gtest/gtest.h>

#include <future>

#include "kafka_test_support.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::consumers {
namespace {

using namespace std::chrono_literals;
using test::eventually;

domain::tenant_id tid(int n) {
  return *domain::tenant_id::parse(test::tenant_of(n));
}

eventstore::execute_outcome run(eventstore::repository& repo, const domain::tenant_id& id,
                                domain::command cmd) {
  std::promise<eventstore::execute_outcome> p;
  auto f = p.get_future();
  repo.execute(id, std::move(cmd), {},
               [&p](eventstore::execute_outcome o) { p.set_value(std::move(o)); });
  return f.get();
}

domain::command create(const domain::tenant_id& id) {
  domain::validated_profile p;
  p.profile.name = "Acme Corporation";
  p.profile.admin_email = "admin@acme.test";
  p.plan = domain::plan_tier::professional;
  return domain::create_tenant{id, p, domain::user_id("alice")};
}

std::string billing(const std::string& type, const domain::tenant_id& t, const std::string& id) {
  return R"({"type":")" + type + R"(","tenant_id":")" + t.str() + R"(","payment_id":")" + id +
         R"(","amount_cents":4900,"currency":"USD","reason":"expired_card"})";
}

std::vector<std::string> types_of(eventstore::event_store& s, const domain::tenant_id& t) {
  std::vector<std::string> out;
  for (const auto& e : s.read_stream(t.str(), 0, 100).value())
    out.push_back(e.type);
  return out;
}

TEST(KafkaServiceTest, WriterRunsBillingAndUsageAndPublishesTheLog) {
  test::temp_dir dir;
  auto store = eventstore::make_memory_store();
  eventstore::repository repo(*store);
  projections::read_model_options mo;
  mo.path = dir.str() + "/projections";
  auto model = projections::read_model::open(*store, mo);
  ASSERT_TRUE(model) << model.error().message();
  (*model)->start();

  const auto t1 = tid(1), t2 = tid(2), t3 = tid(3);
  ASSERT_TRUE(run(repo, t1, create(t1)));
  ASSERT_TRUE(run(repo, t2, create(t2)));
  ASSERT_TRUE(run(repo, t2, domain::deactivate_tenant{std::nullopt, "closed"}));

  service_config sc;
  sc.client_overrides = {{"log_level", "3"}};
  auto svc = service::start(sc, *store, &repo, model->get());
  ASSERT_TRUE(svc) << svc.error().message();
  const auto b = (*svc)->bootstrap_servers();
  ASSERT_FALSE(b.empty());

  // Keyed by tenant: one tenant's records stay in order on one partition.
  ASSERT_TRUE(test::produce(b, "billing.events", t1.str(), billing("payment_failed", t1, "p-1")));
  ASSERT_TRUE(test::produce(b, "billing.events", t1.str(), billing("payment_failed", t1, "p-1")));
  ASSERT_TRUE(
      test::produce(b, "billing.events", t1.str(), billing("payment_succeeded", t1, "p-2")));
  ASSERT_TRUE(test::produce(
      b, "billing.events", t1.str(),
      R"({"type":"subscription_cancelled","tenant_id":")" + t1.str() + R"(","reason":"churn"})"));
  ASSERT_TRUE(test::produce(b, "billing.events", t2.str(), billing("payment_failed", t2, "p-3")));
  ASSERT_TRUE(test::produce(b, "billing.events", t3.str(), billing("payment_failed", t3, "p-4")));
  ASSERT_TRUE(test::produce(b, "tenant.usage", t1.str(),
                            R"({"tenant_id":")" + t1.str() +
                                R"(","seats_in_use":7,"storage_bytes":2048,)"
                                R"("observed_at":"2026-01-15T09:30:00Z"})"));
  ASSERT_TRUE(test::produce(b, "tenant.usage", t3.str(),
                            R"({"tenant_id":")" + t3.str() +
                                R"(","seats_in_use":1,"observed_at":"2026-01-15T09:30:00Z"})"));

  const auto want = std::vector<std::string>{"TenantCreated", "PaymentFailed", "PaymentSucceeded",
                                             "SubscriptionCancelled"};
  ASSERT_TRUE(eventually([&] { return types_of(*store, t1) == want; }))
      << ::testing::PrintToString(types_of(*store, t1));
  ASSERT_TRUE(eventually([&] {
    auto u = (*model)->usage(t1);
    return u && *u && (*u)->seats_in_use == 7 && (*u)->storage_bytes == 2048;
  }));
  ASSERT_TRUE(eventually([&] {
    std::uint64_t dead = 0;
    for (const auto& c : (*svc)->status().consumers)
      dead += c.dead_lettered;
    return dead == 3;
  }));
  const auto dlq = test::read_topic(b, "billing.events.dlq", 2);
  ASSERT_EQ(dlq.size(), 2u);
  std::set<std::string> reasons;
  for (const auto& r : dlq)
    reasons.insert(r.headers.at("dlq_reason"));
  EXPECT_EQ(reasons, (std::set<std::string>{"domain_refused", "unknown_tenant"}));
  const auto usage_dlq = test::read_topic(b, "tenant.usage.dlq", 1);
  ASSERT_EQ(usage_dlq.size(), 1u);
  EXPECT_EQ(usage_dlq[0].headers.at("dlq_reason"), "unknown_tenant");

  ASSERT_TRUE(eventually([&] {
    const auto s = (*svc)->status();
    return s.relay && s.relay->checkpoint == store->head();
  }));
  const auto st = (*svc)->status();
  EXPECT_TRUE(st.embedded_broker);
  EXPECT_TRUE(st.kafka_reachable);
  EXPECT_EQ(st.topic, "tenant.events");
  EXPECT_EQ(readiness_detail(st).rfind("ok", 0), 0u) << readiness_detail(st);
  const auto published = test::read_topic(b, "tenant.events", store->head());
  EXPECT_EQ(published.size(), store->head());

  // A replica service on the same broker mirrors the writer's log.
  auto replica_store = eventstore::make_memory_store();
  service_config rc;
  rc.bootstrap_servers = b;
  rc.replica = true;
  rc.instance_id = "test-replica";
  rc.client_overrides = {{"log_level", "3"}};
  auto replica = service::start(rc, *replica_store, nullptr, nullptr);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE(eventually([&] {
    const auto s = (*replica)->status();
    return s.mirror && s.mirror->position == store->head();
  }));
  EXPECT_EQ(replica_store->head(), store->head());
  EXPECT_EQ(replica_store->read_all(1, 100).value().back().envelope_json,
            store->read_all(1, 100).value().back().envelope_json);
  const auto rs = (*replica)->status();
  EXPECT_FALSE(rs.embedded_broker);
  ASSERT_TRUE(rs.mirror);
  EXPECT_EQ(rs.mirror->position, store->head());
  (*replica)->stop();
  (*svc)->stop();
  (*model)->stop();
}

TEST(KafkaServiceTest, AWriterNeedsTheRepository) {
  auto store = eventstore::make_memory_store();
  auto svc = service::start(service_config{}, *store, nullptr, nullptr);
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error(), make_error_code(errc::invalid_argument));
}

TEST(KafkaServiceTest, ReadinessWarnsWithTheLag) {
  service_status s;
  s.bootstrap_servers = "127.0.0.1:9092";
  s.topic = "tenant.events";
  s.relay = relay_status{};
  s.relay->lag = 12;
  EXPECT_EQ(readiness_detail(s),
            "warning: Kafka unreachable at 127.0.0.1:9092; 12 event(s) not yet published");
  s.relay->kafka_reachable = true;
  EXPECT_EQ(readiness_detail(s), "ok: publishing to tenant.events, lag 12");
}

}  // namespace
}  // namespace tenant::consumers
