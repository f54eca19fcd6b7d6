// The event-store entry point replicas use (append_request::expected_position and ::checkpoints),
// against both stores: envelopes land at their original positions with the same bytes, and the
// checkpoints are written atomically with them, never on their own.
#include <gtest/gtest.h>

#include <future>

#include "kafka_test_support.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::consumers {
namespace {

using eventstore::errc;

enum class kind { memory, rocksdb };

class StoreReplicationTest : public ::testing::TestWithParam<kind> {
 protected:
  std::unique_ptr<eventstore::event_store> open() {
    if (GetParam() == kind::memory) return eventstore::make_memory_store();
    eventstore::rocksdb_options o;
    o.path = dir_.str() + "/eventstore";
    o.mode = eventstore::durability::os;
    return std::move(eventstore::open_rocksdb_store(o).value());
  }

  static eventstore::append_outcome append(eventstore::event_store& s,
                                           eventstore::append_request r) {
    std::promise<eventstore::append_outcome> p;
    auto f = p.get_future();
    s.append(std::move(r), [&p](eventstore::append_outcome o) { p.set_value(std::move(o)); });
    return f.get();
  }

  // The append a replica makes for one envelope of the writer.
  static eventstore::append_request mirror(const std::string& envelope) {
    auto env = eventstore::codec::decode_envelope(envelope).value();
    eventstore::append_request r;
    r.stream_id = env.stream_id;
    r.tenant_id = env.tenant_id;
    r.expected = eventstore::expected_version::exact(env.version - 1);
    r.expected_position = env.position;
    r.metadata = env.metadata;
    eventstore::proposed_event e;
    e.event_id = env.event_id;
    e.type = env.type;
    e.schema_version = env.schema_version;
    e.data_json = env.data_json;
    e.occurred_at = env.occurred_at;
    r.events.push_back(std::move(e));
    return r;
  }

  test::temp_dir dir_;
};

TEST_P(StoreReplicationTest, MirrorsEnvelopesAtTheirPositionsByteForByte) {
  auto writer = eventstore::make_memory_store();
  const auto t1 = test::tenant_of(1), t2 = test::tenant_of(2);
  test::append_one(*writer, t1, "TenantCreated", R"({"name":"Zoë \"Q\" \u0001 /x","n":[1,2]})");
  test::append_one(*writer, t2, "TenantCreated", R"({})");
  test::append_one(*writer, t1, "TenantUpdated", R"({"a":{"b":true,"c":null}})");
  const auto log = writer->read_all(1, 10).value();
  ASSERT_EQ(log.size(), 3u);

  auto replica = open();
  for (const auto& e : log) {
    auto r = mirror(e.envelope_json);
    r.checkpoints = {{"kafka.replica/tenant.events/0", e.position * 10}};
    auto out = append(*replica, std::move(r));
    ASSERT_TRUE(out) << out.error().detail;
    EXPECT_EQ(out->first_position, e.position);
  }
  const auto mirrored = replica->read_all(1, 10).value();
  ASSERT_EQ(mirrored.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(mirrored[i].envelope_json, log[i].envelope_json);
    EXPECT_EQ(mirrored[i].version, log[i].version);
  }
  EXPECT_EQ(replica->load_checkpoint("kafka.replica/tenant.events/0").value(),
            std::optional<std::uint64_t>(30));
}

TEST_P(StoreReplicationTest, RefusesAWrongPositionAndWritesNoCheckpoint) {
  auto store = open();
  test::append_one(*store, test::tenant_of(1));
  auto r = mirror(store->read_all(1, 1).value().front().envelope_json);
  // Re-sending position 1 with new event ids: the log is at 1, so position 1 cannot be had.
  r.events[0].event_id = test::unique_event_id();
  r.expected = eventstore::expected_version::any();
  r.checkpoints = {{"cp", 99}};
  auto out = append(*store, r);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::wrong_expected_position);
  EXPECT_EQ(out.error().actual_version, 1u);  // the head
  EXPECT_EQ(store->head(), 1u);
  EXPECT_EQ(store->load_checkpoint("cp").value(), std::nullopt);

  r.expected_position = 2;  // right position: written with its checkpoint
  out = append(*store, r);
  ASSERT_TRUE(out) << out.error().detail;
  EXPECT_EQ(out->first_position, 2u);
  EXPECT_EQ(store->load_checkpoint("cp").value(), std::optional<std::uint64_t>(99));
}

TEST_P(StoreReplicationTest, AReplayedAppendLeavesTheCheckpointsAlone) {
  auto store = open();
  test::append_one(*store, test::tenant_of(1));
  auto r = mirror(store->read_all(1, 1).value().front().envelope_json);
  r.checkpoints = {{"cp", 5}};
  auto out = append(*store, r);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->replayed);
  EXPECT_EQ(store->load_checkpoint("cp").value(), std::nullopt);
}

TEST_P(StoreReplicationTest, ConsecutiveReplicationAppendsShareAGroupCommit) {
  auto writer = eventstore::make_memory_store();
  for (int i = 0; i < 20; ++i)
    test::append_one(*writer, test::tenant_of(i % 3));
  auto replica = open();
  std::vector<std::future<eventstore::append_outcome>> outs;
  std::vector<std::promise<eventstore::append_outcome>> ps(20);
  const auto log = writer->read_all(1, 100).value();
  for (std::size_t i = 0; i < log.size(); ++i) {
    auto r = mirror(log[i].envelope_json);
    r.checkpoints = {{"cp", i + 1}};
    outs.push_back(ps[i].get_future());
    replica->append(std::move(r),
                    [&ps, i](eventstore::append_outcome o) { ps[i].set_value(std::move(o)); });
  }
  for (auto& f : outs)
    ASSERT_TRUE(f.get());
  EXPECT_EQ(replica->head(), 20u);
  EXPECT_EQ(replica->load_checkpoint("cp").value(), std::optional<std::uint64_t>(20));
}

TEST_P(StoreReplicationTest, RefusesAnEmptyCheckpointName) {
  auto store = open();
  test::append_one(*store, test::tenant_of(1));
  auto r = mirror(store->read_all(1, 1).value().front().envelope_json);
  r.events[0].event_id = test::unique_event_id();
  r.expected = eventstore::expected_version::any();
  r.expected_position.reset();
  r.checkpoints = {{"", 1}};
  auto out = append(*store, r);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::invalid_argument);
}

TEST(StoreReplicationRocksdbTest, CheckpointsSurviveAReopenWithTheirEvents) {
  test::temp_dir dir;
  eventstore::rocksdb_options o;
  o.path = dir.str() + "/eventstore";
  auto writer = eventstore::make_memory_store();
  test::append_one(*writer, test::tenant_of(1));
  const auto env = writer->read_all(1, 1).value().front().envelope_json;
  {
    auto s = std::move(eventstore::open_rocksdb_store(o).value());
    auto parsed = eventstore::codec::decode_envelope(env).value();
    eventstore::append_request r;
    r.stream_id = parsed.stream_id;
    r.expected_position = 1;
    r.checkpoints = {{"kafka.replica/tenant.events/3", 17}};
    eventstore::proposed_event e;
    e.event_id = parsed.event_id;
    e.type = parsed.type;
    e.data_json = parsed.data_json;
    e.occurred_at = parsed.occurred_at;
    r.events.push_back(e);
    std::promise<eventstore::append_outcome> p;
    auto f = p.get_future();
    s->append(std::move(r), [&p](eventstore::append_outcome out) { p.set_value(out); });
    ASSERT_TRUE(f.get());
    s->stop();
  }
  auto s = std::move(eventstore::open_rocksdb_store(o).value());
  EXPECT_EQ(s->head(), 1u);
  EXPECT_EQ(s->load_checkpoint("kafka.replica/tenant.events/3").value(),
            std::optional<std::uint64_t>(17));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreReplicationTest,
                         ::testing::Values(kind::memory, kind::rocksdb),
                         [](const auto& param_info) {
                           return param_info.param == kind::memory ? "memory" : "rocksdb";
                         });

}  // namespace
}  // namespace tenant::consumers
