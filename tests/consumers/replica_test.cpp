// The read-replica projector against the embedded broker: the replica's log becomes the writer's
// log (same positions, same bytes), whatever the interleaving of partitions, duplicates and
// restarts; a missing position stalls it without skipping.
#include "tenant/consumers/replica.hpp"

#include <gtest/gtest.h>

#include "kafka_test_support.hpp"
#include "tenant/consumers/relay.hpp"

namespace tenant::consumers {
namespace {

using namespace std::chrono_literals;
using test::eventually;

relay_config relay_for(const embedded_broker& b) {
  relay_config c;
  c.bootstrap_servers = b.bootstrap_servers();
  c.checkpoint_interval = 20ms;
  c.probe_interval = 200ms;
  c.producer_properties = {{"log_level", "3"}};
  return c;
}

replica_config replica_for(const embedded_broker& b) {
  replica_config c;
  c.bootstrap_servers = b.bootstrap_servers();
  c.retry_backoff = 50ms;
  c.consumer_properties = {{"log_level", "3"}};
  return c;
}

void expect_same_log(eventstore::event_store& writer, eventstore::event_store& replica) {
  const auto w = writer.read_all(1, 1'000'000).value();
  const auto r = replica.read_all(1, 1'000'000).value();
  ASSERT_EQ(r.size(), w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(r[i].position, w[i].position);
    EXPECT_EQ(r[i].version, w[i].version);
    EXPECT_EQ(r[i].envelope_json, w[i].envelope_json);
  }
}

TEST(ReplicaTest, MirrorsTheWritersLogThroughTheRelay) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto writer = eventstore::make_memory_store();
  auto local = eventstore::make_memory_store();
  test::append_interleaved(*writer, 7, 10);
  auto relay = start_relay(*writer, relay_for(*broker));
  ASSERT_TRUE(relay);
  auto rep = start_replica(*local, replica_for(*broker));
  ASSERT_TRUE(rep) << rep.error().message();
  ASSERT_TRUE(eventually([&] { return local->head() == 70; }));
  test::append_interleaved(*writer, 3, 5);  // and follows new events
  // The status moves after the append completes: wait for it, not for the store's head.
  ASSERT_TRUE(eventually([&] { return (*rep)->status().position == 85; }));
  expect_same_log(*writer, *local);
  const auto st = (*rep)->status();
  EXPECT_EQ(st.position, 85u);
  EXPECT_EQ(st.applied, 85u);
  EXPECT_EQ(st.partitions, 6);
  EXPECT_TRUE(st.kafka_reachable);
  EXPECT_EQ(st.buffered, 0u);
  EXPECT_EQ(st.waiting_for, 0u);
  // The consumed offsets are stored with the events: together they cover all 85 records.
  std::uint64_t offsets = 0;
  for (int p = 0; p < 6; ++p)
    offsets += local->load_checkpoint(replica_checkpoint_name(replica_for(*broker), p))
                   .value()
                   .value_or(0);
  EXPECT_EQ(offsets, 85u);
}

TEST(ReplicaTest, DropsTheRelaysDuplicatesAndResumesExactlyWhereItStopped) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  test::temp_dir dir;
  eventstore::rocksdb_options o;
  o.path = dir.str() + "/eventstore";
  o.mode = eventstore::durability::os;
  auto writer = eventstore::make_memory_store();
  test::append_interleaved(*writer, 4, 10);
  {
    auto relay = start_relay(*writer, relay_for(*broker));
    ASSERT_TRUE(relay);
    ASSERT_TRUE(eventually([&] { return (*relay)->status().checkpoint == 40; }));
  }
  // A relay "crash": its durable checkpoint lags, so 11..40 are published twice.
  ASSERT_FALSE(writer->store_checkpoint("kafka.relay", 10));
  auto relay = start_relay(*writer, relay_for(*broker));
  ASSERT_TRUE(relay);
  ASSERT_TRUE(eventually([&] { return (*relay)->status().checkpoint == 40; }));
  {
    auto local = std::move(eventstore::open_rocksdb_store(o).value());
    auto rep = start_replica(*local, replica_for(*broker));
    ASSERT_TRUE(rep);
    // A copy may be counted as a duplicate while its original still waits in the buffer, so
    // wait for both.
    ASSERT_TRUE(eventually([&] {
      const auto s = (*rep)->status();
      return s.position == 40 && s.duplicates == 30;
    }));
    EXPECT_EQ(local->head(), 40u);
    EXPECT_EQ((*rep)->status().applied, 40u);
    expect_same_log(*writer, *local);
    (*rep)->stop();
    local->stop();
  }
  test::append_interleaved(*writer, 4, 3);
  ASSERT_TRUE(eventually([&] { return (*relay)->status().checkpoint == 52; }));
  auto local = std::move(eventstore::open_rocksdb_store(o).value());
  auto rep = start_replica(*local, replica_for(*broker));
  ASSERT_TRUE(rep);
  ASSERT_TRUE(eventually([&] { return (*rep)->status().position == 52; }));
  // Resumed at the stored offsets: only the 12 new records were read again.
  EXPECT_EQ((*rep)->status().applied, 12u);
  EXPECT_EQ((*rep)->status().duplicates, 0u);
  expect_same_log(*writer, *local);
}

TEST(ReplicaTest, BuffersOutOfOrderPositionsAndWaitsForAGap) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto writer = eventstore::make_memory_store();
  test::append_interleaved(*writer, 5, 1);
  test::append_interleaved(*writer, 1, 1);
  const auto log = writer->read_all(1, 10).value();
  ASSERT_EQ(log.size(), 6u);
  const auto b = broker->bootstrap_servers();
  // Positions 6, 5, ..., 2 first (some share a partition, so even one partition runs
  // backwards), and the replica must wait for 1.
  for (int i = 5; i >= 1; --i)
    ASSERT_TRUE(test::produce(b, "tenant.events", log[i].tenant_id, log[i].envelope_json));
  ASSERT_TRUE(test::produce(b, "tenant.events", "x", "not an envelope"));
  auto local = eventstore::make_memory_store();
  auto rep = start_replica(*local, replica_for(*broker));
  ASSERT_TRUE(rep);
  ASSERT_TRUE(eventually([&] { return (*rep)->status().buffered == 5; }));
  auto st = (*rep)->status();
  EXPECT_EQ(st.position, 0u);
  EXPECT_EQ(st.waiting_for, 1u);
  EXPECT_EQ(local->head(), 0u);
  ASSERT_TRUE(eventually([&] { return (*rep)->status().invalid == 1; }));

  ASSERT_TRUE(test::produce(b, "tenant.events", log[0].tenant_id, log[0].envelope_json));
  ASSERT_TRUE(eventually([&] { return (*rep)->status().position == 6; }));
  st = (*rep)->status();
  EXPECT_EQ(st.buffered, 0u);
  EXPECT_EQ(st.waiting_for, 0u);
  expect_same_log(*writer, *local);
}

TEST(ReplicaTest, ContinuesAfterAnImportedHead) {
  auto broker = test::start_broker();
  ASSERT_TRUE(broker);
  auto writer = eventstore::make_memory_store();
  test::append_interleaved(*writer, 2, 4);
  auto relay = start_relay(*writer, relay_for(*broker));
  ASSERT_TRUE(relay);
  ASSERT_TRUE(eventually([&] { return (*relay)->status().checkpoint == 8; }));
  // A replica whose log already holds 1..5 (as after `tenantctl import`) and no offsets: it
  // reads the topic from the beginning and applies only 6..8.
  auto local = eventstore::make_memory_store();
  for (const auto& e : writer->read_all(1, 5).value())
    test::append_one(*local, e.stream_id);  // stand-ins: positions matter, not contents
  auto rep = start_replica(*local, replica_for(*broker));
  ASSERT_TRUE(rep);
  ASSERT_TRUE(eventually([&] { return (*rep)->status().position == 8; }));
  EXPECT_EQ((*rep)->status().applied, 3u);
  EXPECT_EQ((*rep)->status().duplicates, 5u);
  const auto tail = local->read_all(6, 10).value();
  const auto want = writer->read_all(6, 10).value();
  ASSERT_EQ(tail.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(tail[i].envelope_json, want[i].envelope_json);
}

TEST(ReplicaTest, RefusesAnIncompleteConfiguration) {
  auto local = eventstore::make_memory_store();
  auto r = start_replica(*local, replica_config{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::invalid_argument));
}

}  // namespace
}  // namespace tenant::consumers
