// The outbox relay against the embedded broker: every event published with its key, value and
// headers, in order per tenant; the checkpoint moves only on delivery; an outage loses nothing;
// a restart resumes from the checkpoint without a gap.
#include "tenant/consumers/relay.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "kafka_test_support.hpp"
#include "tenant/consumers/kafka.hpp"

namespace tenant::consumers {
namespace {

using namespace std::chrono_literals;
using test::eventually;

relay_config config_for(const embedded_broker& b) {
  relay_config c;
  c.bootstrap_servers = b.bootstrap_servers();
  c.checkpoint_interval = 20ms;
  c.probe_interval = 200ms;
  c.retry_backoff = 50ms;
  c.stop_timeout = 2s;
  c.producer_properties = {{"log_level", "3"}};
  return c;
}

std::map<std::uint64_t, eventstore::recorded_event> log_of(eventstore::event_store& s) {
  std::map<std::uint64_t, eventstore::recorded_event> m;
  auto all = s.read_all(1, 1'000'000);
  for (auto& e : all.value())
    m.emplace(e.position, e);
  return m;
}

std::uint64_t header_u64(const test::record& r, const std::string& name) {
  return std::stoull(r.headers.at(name));
}

// Every position of the log appears; after dedupe by ce_id each appears once; within each
// partition, positions of one key never go backwards except for re-sent duplicates.
void expect_complete_and_ordered(eventstore::event_store& s,
                                 const std::vector<test::record>& recs) {
  const auto log = log_of(s);
  std::set<std::string> seen;
  std::map<std::string, std::uint64_t> last_version;  // per key, first occurrences only
  for (const auto& r : recs) {
    const auto pos = header_u64(r, "position");
    ASSERT_TRUE(log.contains(pos)) << pos;
    const auto& e = log.at(pos);
    if (!seen.insert(r.headers.at("ce_id")).second) continue;  // a duplicate
    EXPECT_EQ(r.value, e.envelope_json);
    EXPECT_EQ(r.key, e.tenant_id);
    const auto v = header_u64(r, "version");
    EXPECT_EQ(v, last_version[r.key] + 1) << "tenant " << r.key << " out of order";
    last_version[r.key] = v;
  }
  EXPECT_EQ(seen.size(), log.size());
}

TEST(RelayTest, PublishesEveryEventWithKeyValueAndCloudEventsHeaders) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  test::append_interleaved(*store, 5, 12);
  const auto head = store->head();
  ASSERT_EQ(head, 60u);

  auto r = start_relay(*store, config_for(*broker));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == head; }));
  const auto st = (*r)->status();
  EXPECT_TRUE(st.kafka_reachable);
  EXPECT_EQ(st.lag, 0u);
  EXPECT_EQ(st.in_flight, 0u);
  EXPECT_EQ(st.published, head);
  EXPECT_EQ(st.topic, "tenant.events");
  EXPECT_EQ(st.bootstrap_servers, broker->bootstrap_servers());
  EXPECT_EQ(store->load_checkpoint("kafka.relay").value(), std::optional<std::uint64_t>(head));

  const auto recs = test::read_topic(broker->bootstrap_servers(), "tenant.events", head);
  ASSERT_EQ(recs.size(), head);  // no delivery error happened: exactly once on the wire
  const auto log = log_of(*store);
  for (const auto& rec : recs) {
    const auto& e = log.at(header_u64(rec, "position"));
    EXPECT_EQ(rec.headers.at("ce_specversion"), "1.0");
    EXPECT_EQ(rec.headers.at("ce_id"), e.event_id);
    EXPECT_EQ(rec.headers.at("ce_type"), e.type);
    EXPECT_EQ(rec.headers.at("ce_source"), "/tenants");
    EXPECT_EQ(rec.headers.at("ce_subject"), e.tenant_id);
    EXPECT_EQ(rec.headers.at("ce_time"), "2025-12-29T09:20:00.123Z");
    EXPECT_EQ(rec.headers.at("content-type"), "application/json");
    EXPECT_EQ(header_u64(rec, "version"), e.version);
    EXPECT_EQ(rec.timestamp, e.occurred_at.time_since_epoch().count());
  }
  expect_complete_and_ordered(*store, recs);
  // One tenant, one partition.
  std::map<std::string, std::set<std::int32_t>> partitions;
  for (const auto& rec : recs)
    partitions[rec.key].insert(rec.partition);
  for (const auto& [key, ps] : partitions)
    EXPECT_EQ(ps.size(), 1u) << key;
  (*r)->stop();
}

TEST(RelayTest, FollowsNewAppendsAfterCatchingUp) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  auto r = start_relay(*store, config_for(*broker));
  ASSERT_TRUE(r);
  test::append_interleaved(*store, 3, 4);
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 12; }));
  test::append_interleaved(*store, 3, 4);
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 24; }));
  expect_complete_and_ordered(*store,
                              test::read_topic(broker->bootstrap_servers(), "tenant.events", 24));
}

TEST(RelayTest, CheckpointMovesOnlyOnDeliveryAndOutageLosesNothing) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  auto r = start_relay(*store, config_for(*broker));
  ASSERT_TRUE(r);
  test::append_interleaved(*store, 4, 5);
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 20; }));

  ASSERT_FALSE(broker->set_broker_down(1));
  test::append_interleaved(*store, 4, 10);  // appends keep succeeding during the outage
  ASSERT_EQ(store->head(), 60u);
  // Everything is handed to the producer, nothing is acknowledged: the checkpoint stays.
  ASSERT_TRUE(eventually([&] { return (*r)->status().in_flight == 40; }));
  ASSERT_TRUE(eventually([&] { return !(*r)->status().kafka_reachable; }));
  auto st = (*r)->status();
  EXPECT_EQ(st.checkpoint, 20u);
  EXPECT_EQ(st.acknowledged, 20u);
  EXPECT_EQ(st.lag, 40u);
  EXPECT_EQ(store->load_checkpoint("kafka.relay").value(), std::optional<std::uint64_t>(20));

  ASSERT_FALSE(broker->set_broker_up(1));
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 60; }));
  EXPECT_TRUE((*r)->status().kafka_reachable);
  EXPECT_EQ((*r)->status().lag, 0u);
  expect_complete_and_ordered(*store,
                              test::read_topic(broker->bootstrap_servers(), "tenant.events", 60));
}

TEST(RelayTest, BackpressureStopsReadingTheLogAtMaxInFlight) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  ASSERT_FALSE(broker->set_broker_down(1));
  auto c = config_for(*broker);
  c.max_in_flight = 7;
  c.read_batch = 3;
  auto r = start_relay(*store, c);
  ASSERT_TRUE(r);
  test::append_interleaved(*store, 2, 15);
  ASSERT_TRUE(eventually([&] { return (*r)->status().in_flight == 7; }));
  EXPECT_EQ((*r)->status().lag, 30u);
  ASSERT_FALSE(broker->set_broker_up(1));
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 30; }));
  expect_complete_and_ordered(*store,
                              test::read_topic(broker->bootstrap_servers(), "tenant.events", 30));
}

TEST(RelayTest, RestartResumesFromTheCheckpointWithoutAGap) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  test::append_interleaved(*store, 3, 10);
  {
    auto r = start_relay(*store, config_for(*broker));
    ASSERT_TRUE(r);
    ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 30; }));
    (*r)->stop();
  }
  test::append_interleaved(*store, 3, 5);
  // As after a crash: the durable checkpoint is behind what Kafka already has.
  ASSERT_FALSE(store->store_checkpoint("kafka.relay", 12));
  auto r = start_relay(*store, config_for(*broker));
  ASSERT_TRUE(r);
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 45; }));
  // 30 + (45 - 12) records: 13..30 twice (duplicates), nothing missing.
  const auto recs = test::read_topic(broker->bootstrap_servers(), "tenant.events", 63);
  EXPECT_EQ(recs.size(), 63u);
  expect_complete_and_ordered(*store, recs);
}

TEST(RelayTest, RefusedRecordsAreResentAfterRecreatingTheProducer) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  test::append_interleaved(*store, 3, 3);
  // TOPIC_AUTHORIZATION_FAILED (29) is not retriable: the delivery reports fail.
  broker->fail_produce_requests(2, 29);
  auto r = start_relay(*store, config_for(*broker));
  ASSERT_TRUE(r);
  ASSERT_TRUE(eventually([&] { return (*r)->status().checkpoint == 9; }));
  const auto st = (*r)->status();
  EXPECT_GE(st.delivery_errors, 1u);
  EXPECT_GE(st.restarts, 1u);
  EXPECT_TRUE(st.last_error.empty()) << st.last_error;  // cleared by the later deliveries
  expect_complete_and_ordered(
      *store, test::read_topic(broker->bootstrap_servers(), "tenant.events", 9, 3s));
}

TEST(RelayTest, StopWithTheBrokerDownIsBoundedAndKeepsTheCheckpoint) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto store = eventstore::make_memory_store();
  ASSERT_FALSE(broker->set_broker_down(1));
  auto c = config_for(*broker);
  c.stop_timeout = 100ms;
  auto r = start_relay(*store, c);
  ASSERT_TRUE(r);
  test::append_interleaved(*store, 1, 5);
  ASSERT_TRUE(eventually([&] { return (*r)->status().in_flight == 5; }));
  (*r)->stop();
  EXPECT_FALSE((*r)->status().running);
  EXPECT_EQ(store->load_checkpoint("kafka.relay").value().value_or(0), 0u);
}

TEST(RelayTest, RefusesAnIncompleteConfiguration) {
  auto store = eventstore::make_memory_store();
  relay_config c;  // no bootstrap servers
  auto r = start_relay(*store, c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::invalid_argument));
  c.bootstrap_servers = "127.0.0.1:1";
  c.producer_properties = {{"no.such.property", "1"}};
  r = start_relay(*store, c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::invalid_config));
}

TEST(KafkaContractTest, HeadersFollowTheCloudEventsBinaryMode) {
  eventstore::recorded_event e;
  e.position = 42;
  e.version = 7;
  e.stream_id = "tn_0190a5f2-0000-7000-8000-000000000001";
  e.tenant_id = e.stream_id;
  e.event_id = "0190a5f2-0000-7000-8000-0000000000aa";
  e.type = "PlanUpgraded";
  e.occurred_at = domain::clock_time(std::chrono::milliseconds(1'767'000'000'123));
  const std::vector<message_header> want = {
      {"ce_specversion", "1.0"},
      {"ce_id", e.event_id},
      {"ce_type", "PlanUpgraded"},
      {"ce_source", "/tenants"},
      {"ce_subject", e.tenant_id},
      {"ce_time", "2025-12-29T09:20:00.123Z"},
      {"content-type", "application/json"},
      {"position", "42"},
      {"version", "7"},
  };
  EXPECT_EQ(event_headers(e), want);
  EXPECT_EQ(event_key(e), e.tenant_id);
  e.tenant_id.clear();
  EXPECT_EQ(event_key(e), e.stream_id);
  EXPECT_EQ(dlq_topic("billing.events"), "billing.events.dlq");
}

// ce_time is formatted without snprintf on the relay's hot path; it must stay byte-for-byte
// domain::format_time (occurred_at in the envelope), including before 1970 and beyond 4 digits.
TEST(KafkaContractTest, CeTimeIsTheEnvelopesOccurredAtText) {
  using std::chrono::milliseconds;
  const std::int64_t times_ms[] = {
      0,
      1,
      -1,                   // 1969-12-31T23:59:59.999Z
      951'782'400'000,      // 2000-02-29T00:00:00.000Z
      1'767'000'000'123,    // 2025-12-29T09:20:00.123Z
      253'402'300'799'999,  // 9999-12-31T23:59:59.999Z
      253'402'300'800'000,  // year 10000: not four digits
      -62'167'219'200'000,  // 0000-01-01T00:00:00.000Z
      -62'167'219'200'001,  // year -1
  };
  eventstore::recorded_event e;
  for (const auto ms : times_ms) {
    e.occurred_at = domain::clock_time(milliseconds(ms));
    const auto headers = event_headers(e);
    const auto it = std::find_if(headers.begin(), headers.end(),
                                 [](const message_header& h) { return h.name == "ce_time"; });
    ASSERT_NE(it, headers.end());
    EXPECT_EQ(it->value, domain::format_time(e.occurred_at)) << ms;
  }
  e.occurred_at = domain::clock_time(milliseconds(951'782'400'000));
  EXPECT_EQ(event_headers(e)[5].value, "2000-02-29T00:00:00.000Z");
}

}  // namespace
}  // namespace tenant::consumers
