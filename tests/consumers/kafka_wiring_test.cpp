// tenantd's Kafka wiring (apps/tenantd/kafka_wiring.cpp): the embedded broker when no brokers
// are configured, the "kafka" readiness check (ready, with a warning detail while Kafka is away),
// the tenantd_kafka_* metrics and the /admin/status object.
#include "kafka_wiring.hpp"

#include <gtest/gtest.h>

#include "kafka_test_support.hpp"
#include "tenant/eventstore/repository.hpp"

namespace tenantd {
namespace {

using tenant::consumers::test::eventually;

TEST(KafkaWiringTest, StartsTheEmbeddedBrokerAndReportsThroughTheOperationsEndpoints) {
  auto store = tenant::eventstore::make_memory_store();
  tenant::eventstore::repository repo(*store);
  tenant::api::config cfg;  // no --kafka-brokers: embedded
  tenant::api::metrics_registry metrics;
  tenant::api::readiness readiness;
  auto w = kafka_wiring::start(cfg, *store, &repo, nullptr, metrics, readiness);
  ASSERT_TRUE(w) << w.error();
  tenant::consumers::test::append_interleaved(*store, 2, 3);

  ASSERT_TRUE(eventually([&] {
    const auto s = (*w)->status();
    return s.relay && s.relay->checkpoint == 6 && s.kafka_reachable;
  }));
  const auto report = readiness.evaluate();
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_EQ(report.checks[0].first, "kafka");
  EXPECT_TRUE(report.checks[0].second.ready);
  EXPECT_EQ(report.checks[0].second.detail.rfind("ok: publishing to tenant.events", 0), 0u)
      << report.checks[0].second.detail;

  const auto text = metrics.serialize();
  EXPECT_NE(text.find("tenantd_kafka_reachable 1"), std::string::npos) << text;
  EXPECT_NE(text.find("tenantd_kafka_publish_lag_events 0"), std::string::npos);
  EXPECT_NE(text.find("tenantd_kafka_published_total 6"), std::string::npos);
  EXPECT_NE(text.find("tenantd_kafka_consumed_total{topic=\"billing.events\"} 0"),
            std::string::npos);

  const auto admin = (*w)->admin_status();
  EXPECT_EQ(admin.at("topic").as_string(), "tenant.events");
  EXPECT_TRUE(admin.at("embedded_broker").as_bool());
  EXPECT_EQ(admin.at("role").as_string(), "writer");
  EXPECT_EQ(admin.at("bootstrap_servers").as_string().subview().rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(admin.at("relay").at("checkpoint").as_uint64(), 6u);
  EXPECT_EQ(admin.at("consumers").as_array().size(), 1u);  // billing (no read model: no usage)
  (*w)->stop();
  repo.stop();
}

TEST(KafkaWiringTest, AnUnreachableClusterIsAWarningNotUnreadiness) {
  auto store = tenant::eventstore::make_memory_store();
  tenant::eventstore::repository repo(*store);
  tenant::api::config cfg;
  cfg.kafka_brokers = "127.0.0.1:1";  // nothing listens there
  tenant::api::metrics_registry metrics;
  tenant::api::readiness readiness;
  auto w = kafka_wiring::start(cfg, *store, &repo, nullptr, metrics, readiness);
  ASSERT_TRUE(w) << w.error();
  tenant::consumers::test::append_one(*store, tenant::consumers::test::tenant_of(1));
  ASSERT_TRUE(eventually([&] {
    const auto r = readiness.evaluate();
    return r.ready && r.checks[0].second.detail.rfind("warning: Kafka unreachable", 0) == 0;
  })) << readiness.evaluate().checks[0].second.detail;
  EXPECT_NE(metrics.serialize().find("tenantd_kafka_publish_lag_events 1"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return (*w)->status().relay->in_flight == 1; }));
  const auto s = (*w)->status();
  EXPECT_EQ(s.relay->checkpoint, 0u);
  EXPECT_FALSE(s.kafka_reachable);
  (*w)->stop();
  repo.stop();
}

}  // namespace
}  // namespace tenantd
