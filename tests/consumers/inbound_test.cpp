// Inbound consumers: message parsing (pure), the billing and usage handlers, and the consumer
// loop against the embedded broker (commands run, idempotent, dead letters with a reason, offsets
// committed only after processing, transient failures retried).
#include "tenant/consumers/inbound.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "kafka_test_support.hpp"

namespace tenant::consumers {
namespace {

using namespace std::chrono_literals;
using test::eventually;

const std::string t1 = test::tenant_of(1);
const std::string t2 = test::tenant_of(2);

std::string payment(const std::string& type, const std::string& tenant, const std::string& id) {
  return R"({"type":")" + type + R"(","tenant_id":")" + tenant + R"(","payment_id":")" + id +
         R"(","amount_cents":1999,"currency":"EUR","reason":"card_declined",)" +
         R"("occurred_at":"2026-01-15T09:30:00Z"})";
}

// ---- parsing ----

TEST(BillingMessageTest, ParsesEveryType) {
  auto m = parse_billing_message(t1, payment("payment_failed", t1, "pay-1"));
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->type, billing_message::kind::payment_failed);
  EXPECT_EQ(m->tenant.str(), t1);
  EXPECT_EQ(m->payment_id, "pay-1");
  EXPECT_EQ(m->amount_cents, 1999);
  EXPECT_EQ(m->currency, "EUR");
  EXPECT_EQ(m->reason, "card_declined");
  EXPECT_EQ(domain::format_time(*m->occurred_at), "2026-01-15T09:30:00.000Z");
  const auto cmd = std::get<domain::record_payment>(to_command(*m));
  EXPECT_FALSE(cmd.succeeded);
  EXPECT_EQ(cmd.payment_id, "pay-1");

  m = parse_billing_message("", payment("payment_succeeded", t1, "pay-2"));
  ASSERT_TRUE(m);
  EXPECT_TRUE(std::get<domain::record_payment>(to_command(*m)).succeeded);

  m = parse_billing_message(
      t1, R"({"type":"subscription_cancelled","tenant_id":")" + t1 + R"(","reason":"churn"})");
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(std::get<domain::cancel_subscription>(to_command(*m)).reason, "churn");
}

TEST(BillingMessageTest, TakesTheTenantFromTheKeyWhenTheValueHasNone) {
  auto m = parse_billing_message(t2, R"({"type":"payment_succeeded","payment_id":"p"})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tenant.str(), t2);
}

TEST(BillingMessageTest, RejectsWithAReasonCode) {
  const auto code = [](std::string_view key, std::string_view value) {
    auto m = parse_billing_message(key, value);
    return m ? std::string("ok") : m.error().code;
  };
  EXPECT_EQ(code(t1, "{not json"), "malformed_json");
  EXPECT_EQ(code(t1, "[1,2]"), "malformed_json");
  EXPECT_EQ(code(t1, ""), "malformed_json");
  EXPECT_EQ(code(t1, R"({"tenant_id":")" + t1 + R"(","payment_id":"p"})"), "invalid_message");
  EXPECT_EQ(code(t1, R"({"type":"refund","payment_id":"p"})"), "invalid_message");
  EXPECT_EQ(code(t1, R"({"type":7,"payment_id":"p"})"), "invalid_message");
  EXPECT_EQ(code("", R"({"type":"payment_failed","payment_id":"p"})"), "invalid_message");
  EXPECT_EQ(code("", R"({"type":"payment_failed","tenant_id":"acme","payment_id":"p"})"),
            "invalid_message");
  EXPECT_EQ(code(t1, R"({"type":"payment_failed"})"), "invalid_message");  // no payment_id
  EXPECT_EQ(code(t1, R"({"type":"payment_failed","payment_id":"p","amount_cents":"12"})"),
            "invalid_message");
  EXPECT_EQ(code(t1, R"({"type":"payment_failed","payment_id":"p","amount_cents":1.5})"),
            "invalid_message");
  EXPECT_EQ(code(t1, R"({"type":"payment_failed","payment_id":"p","occurred_at":"yesterday"})"),
            "invalid_message");
  EXPECT_EQ(code(t2, payment("payment_failed", t1, "p")), "key_mismatch");
  EXPECT_EQ(code("garbage-key", payment("payment_failed", t1, "p")), "key_mismatch");
  EXPECT_EQ(code(t1, payment("payment_failed", t1, "p")), "ok");
}

TEST(UsageReportTest, ParsesAndRejects) {
  auto r = parse_usage_report(t1, R"({"tenant_id":")" + t1 +
                                      R"(","seats_in_use":7,"storage_bytes":1073741824,)"
                                      R"("observed_at":"2026-01-15T09:30:00.5Z"})");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->tenant.str(), t1);
  EXPECT_EQ(r->seats_in_use, 7u);
  EXPECT_EQ(r->storage_bytes, 1073741824u);
  EXPECT_EQ(domain::format_time(r->observed_at), "2026-01-15T09:30:00.500Z");

  const auto code = [](std::string_view value) {
    auto m = parse_usage_report(t1, value);
    return m ? std::string("ok") : m.error().code;
  };
  EXPECT_EQ(code(R"({"seats_in_use":1,"storage_bytes":2})"), "invalid_message");  // no time
  EXPECT_EQ(code(R"({"seats_in_use":-1,"observed_at":"2026-01-15T09:30:00Z"})"), "invalid_message");
  EXPECT_EQ(code(R"({"seats_in_use":4294967296,"observed_at":"2026-01-15T09:30:00Z"})"),
            "invalid_message");
  EXPECT_EQ(code(R"({"storage_bytes":"big","observed_at":"2026-01-15T09:30:00Z"})"),
            "invalid_message");
  EXPECT_EQ(code("nope"), "malformed_json");
  EXPECT_EQ(code(R"({"observed_at":"2026-01-15T09:30:00Z"})"), "ok");  // zeros by default
}

// ---- handlers ----

// Plays the aggregate for payments: a repeated payment_id is a no-op, a deactivated tenant
// refuses, an unknown one is not found; `unavailable_first` transient failures before any of it.
struct fake_billing {
  std::mutex mu;
  std::set<std::string> tenants{t1};
  std::set<std::string> deactivated;
  std::set<std::pair<std::string, std::string>> payments;
  std::vector<std::pair<std::string, eventstore::event_metadata>> applied;
  int unavailable_first = 0;
  int calls = 0;

  command_outcome run(const domain::tenant_id& id, const domain::command& c,
                      const eventstore::event_metadata& meta) {
    std::lock_guard lk(mu);
    ++calls;
    if (unavailable_first > 0) {
      --unavailable_first;
      return {command_outcome::status::unavailable, std::nullopt, "storage unavailable"};
    }
    if (!tenants.contains(id.str()) && !deactivated.contains(id.str()))
      return {command_outcome::status::refused,
              domain::error{domain::errc::tenant_not_found, "no such tenant", {}}, ""};
    if (deactivated.contains(id.str()))
      return {command_outcome::status::refused,
              domain::error{domain::errc::tenant_deactivated, "the tenant is deactivated", {}}, ""};
    if (const auto* p = std::get_if<domain::record_payment>(&c)) {
      if (!payments.insert({id.str(), p->payment_id}).second)
        return {command_outcome::status::no_op, std::nullopt, ""};
      applied.emplace_back(p->payment_id, meta);
      return {};
    }
    applied.emplace_back("cancel", meta);
    return {};
  }

  command_executor executor() {
    return [this](const domain::tenant_id& id, const domain::command& c,
                  const eventstore::event_metadata& m) { return run(id, c, m); };
  }
};

TEST(BillingHandlerTest, MapsOutcomesAndSetsMetadata) {
  fake_billing fake;
  fake.deactivated.insert(t2);
  auto h = make_billing_handler(fake.executor());
  const auto msg = [](const std::string& key, const std::string& value) {
    return inbound_message{"billing.events", key, value, 2, 41};
  };
  const auto v1 = payment("payment_failed", t1, "pay-1");
  EXPECT_EQ(h(msg(t1, v1)).result, handling::kind::done);
  ASSERT_EQ(fake.applied.size(), 1u);
  EXPECT_EQ(fake.applied[0].second.correlation_id, "pay-1");
  EXPECT_EQ(fake.applied[0].second.causation_id, "kafka:billing.events/2/41");
  EXPECT_EQ(fake.applied[0].second.actor, "system:billing");
  EXPECT_EQ(h(msg(t1, v1)).result, handling::kind::done);  // repeated payment: no-op
  EXPECT_EQ(fake.applied.size(), 1u);

  const auto v2 = payment("payment_failed", t2, "pay-2");
  auto out = h(msg(t2, v2));
  EXPECT_EQ(out.result, handling::kind::dead_letter);
  EXPECT_EQ(out.why.code, "domain_refused");
  EXPECT_EQ(out.why.detail.rfind("TENANT_DEACTIVATED: ", 0), 0u) << out.why.detail;

  const std::string t3 = test::tenant_of(3);
  out = h(msg(t3, payment("payment_failed", t3, "pay-3")));
  EXPECT_EQ(out.why.code, "unknown_tenant");
  out = h(msg(t1, "{"));
  EXPECT_EQ(out.why.code, "malformed_json");

  fake.unavailable_first = 1;
  out = h(msg(t1, payment("payment_succeeded", t1, "pay-4")));
  EXPECT_EQ(out.result, handling::kind::retry);
  EXPECT_EQ(out.why.detail, "storage unavailable");
}

TEST(UsageHandlerTest, ChecksTheTenantAndWrites) {
  std::vector<usage_report> written;
  bool fail_write = false;
  auto h = make_usage_handler(
      [&](const usage_report& r) -> eventstore::result<bool> {
        if (fail_write)
          return {boost::system::in_place_error,
                  make_error_code(eventstore::errc::storage_unavailable)};
        written.push_back(r);
        return {boost::system::in_place_value, true};
      },
      [](const domain::tenant_id& id) -> eventstore::result<bool> {
        return {boost::system::in_place_value, id.str() == t1};
      });
  const std::string v = R"({"seats_in_use":3,"observed_at":"2026-01-15T09:30:00Z"})";
  EXPECT_EQ(h({"tenant.usage", t1, v, 0, 0}).result, handling::kind::done);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].seats_in_use, 3u);
  auto out = h({"tenant.usage", t2, v, 0, 1});
  EXPECT_EQ(out.result, handling::kind::dead_letter);
  EXPECT_EQ(out.why.code, "unknown_tenant");
  fail_write = true;
  EXPECT_EQ(h({"tenant.usage", t1, v, 0, 2}).result, handling::kind::retry);
}

// ---- the consumer against the embedded broker ----

// Sum of the committed offsets of `group` over the partitions of `topic` (-1 = none yet).
std::int64_t committed(const std::string& bootstrap, const std::string& group,
                       const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(l, topic.c_str(), p);
  std::int64_t sum = -1;
  if (rd_kafka_committed(rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < l->cnt; ++i)
      if (l->elems[i].offset >= 0) sum = (sum < 0 ? 0 : sum) + l->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_destroy(rk);
  return sum;
}

consumer_config billing_config(const embedded_broker& b) {
  consumer_config c;
  c.bootstrap_servers = b.bootstrap_servers();
  c.topic = "billing.events";
  c.group_id = "tenantd-test";
  c.commit_interval = 20ms;
  c.retry_backoff = 5ms;
  c.retry_backoff_max = 20ms;
  c.consumer_properties = {{"log_level", "3"}, {"session.timeout.ms", "6000"}};
  c.producer_properties = {{"log_level", "3"}};
  return c;
}

TEST(InboundConsumerTest, PaymentsBecomeCommandsOnceAndOffsetsAreCommitted) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  fake_billing fake;
  const auto b = broker->bootstrap_servers();
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_failed", t1, "p-1")));
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_failed", t1, "p-1")));
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_succeeded", t1, "p-2")));
  auto c = start_consumer(billing_config(*broker), make_billing_handler(fake.executor()));
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(eventually([&] { return (*c)->status().processed == 3; }));
  {
    std::lock_guard lk(fake.mu);
    ASSERT_EQ(fake.applied.size(), 2u);
    EXPECT_EQ(fake.applied[0].first, "p-1");
    EXPECT_EQ(fake.applied[1].first, "p-2");
  }
  ASSERT_TRUE(eventually([&] { return committed(b, "tenantd-test", "billing.events", 3) == 3; }));
  EXPECT_EQ((*c)->status().dead_lettered, 0u);
  (*c)->stop();

  // A restart of the group resumes after the committed offsets: nothing runs twice.
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_failed", t1, "p-3")));
  auto again = start_consumer(billing_config(*broker), make_billing_handler(fake.executor()));
  ASSERT_TRUE(again);
  ASSERT_TRUE(eventually([&] { return (*again)->status().processed == 1; }));
  std::lock_guard lk(fake.mu);
  EXPECT_EQ(fake.calls, 4);
  EXPECT_EQ(fake.applied.back().first, "p-3");
}

TEST(InboundConsumerTest, UnprocessableRecordsGoToTheDeadLetterTopicWithTheReason) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  fake_billing fake;
  fake.deactivated.insert(t2);
  const auto b = broker->bootstrap_servers();
  ASSERT_TRUE(test::produce(b, "billing.events", t1, "{not json", {{"trace", "abc"}}));
  ASSERT_TRUE(test::produce(b, "billing.events", t2, payment("payment_failed", t2, "p-9")));
  const std::string t3 = test::tenant_of(3);
  ASSERT_TRUE(test::produce(b, "billing.events", t3, payment("payment_failed", t3, "p-8")));
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_failed", t1, "p-1")));
  auto c = start_consumer(billing_config(*broker), make_billing_handler(fake.executor()));
  ASSERT_TRUE(c);
  ASSERT_TRUE(eventually([&] { return (*c)->status().processed == 1; }));  // moved on
  ASSERT_TRUE(eventually([&] { return (*c)->status().dead_lettered == 3; }));
  ASSERT_TRUE(eventually([&] { return committed(b, "tenantd-test", "billing.events", 3) == 4; }));

  const auto dlq = test::read_topic(b, "billing.events.dlq", 3);
  ASSERT_EQ(dlq.size(), 3u);
  std::map<std::string, test::record> by_reason;
  for (const auto& r : dlq)
    by_reason[r.headers.at("dlq_reason")] = r;
  ASSERT_TRUE(by_reason.contains("malformed_json"));
  ASSERT_TRUE(by_reason.contains("domain_refused"));
  ASSERT_TRUE(by_reason.contains("unknown_tenant"));
  const auto& bad = by_reason["malformed_json"];
  EXPECT_EQ(bad.value, "{not json");
  EXPECT_EQ(bad.key, t1);
  EXPECT_EQ(bad.headers.at("trace"), "abc");  // original headers kept
  EXPECT_EQ(bad.headers.at("dlq_source_topic"), "billing.events");
  EXPECT_FALSE(bad.headers.at("dlq_source_partition").empty());
  EXPECT_FALSE(bad.headers.at("dlq_source_offset").empty());
  EXPECT_EQ(by_reason["domain_refused"].headers.at("dlq_detail").rfind("TENANT_DEACTIVATED", 0),
            0u);
}

TEST(InboundConsumerTest, TransientFailuresRetryTheSameRecordWithoutSkipping) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  fake_billing fake;
  fake.unavailable_first = 3;
  const auto b = broker->bootstrap_servers();
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_failed", t1, "p-1")));
  auto c = start_consumer(billing_config(*broker), make_billing_handler(fake.executor()));
  ASSERT_TRUE(c);
  ASSERT_TRUE(eventually([&] { return (*c)->status().processed == 1; }));
  const auto st = (*c)->status();
  EXPECT_EQ(st.retries, 3u);
  EXPECT_EQ(st.dead_lettered, 0u);
  EXPECT_EQ(st.last_error, "storage unavailable");
  std::lock_guard lk(fake.mu);
  EXPECT_EQ(fake.applied.size(), 1u);
}

TEST(InboundConsumerTest, OffsetsAreCommittedOnlyAfterTheHandlerFinished) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  const auto b = broker->bootstrap_servers();
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  auto c = start_consumer(billing_config(*broker), [&](const inbound_message&) {
    std::unique_lock lk(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lk, [&] { return release; });
    return handling::done();
  });
  ASSERT_TRUE(c);
  ASSERT_TRUE(test::produce(b, "billing.events", t1, payment("payment_failed", t1, "p-1")));
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, 30s, [&] { return entered; }));
  }
  // The handler holds the record: several commit intervals pass, nothing is committed.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(committed(b, "tenantd-test", "billing.events", 3), -1);
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(eventually([&] { return committed(b, "tenantd-test", "billing.events", 3) == 1; }));
}

TEST(InboundConsumerTest, RefusesAnIncompleteConfiguration) {
  consumer_config c;
  auto r = start_consumer(c, [](const inbound_message&) { return handling::done(); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::invalid_argument));
}

}  // namespace
}  // namespace tenant::consumers
