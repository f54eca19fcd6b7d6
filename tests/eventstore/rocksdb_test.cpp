// What only the RocksDB store has: the on-disk contract, reopening, write faults, read-only
// opens beside a running writer, and verify.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "tenant/eventstore/event_store.hpp"
#include "tenant/eventstore/rocksdb_logger.hpp"
#include "tenant/eventstore/verify.hpp"
#include "test_support.hpp"

namespace tenant::eventstore {
namespace {

using namespace std::chrono_literals;
using test::append_sync;
using test::make_event;
using test::make_request;
using test::one_event;

class RocksdbStore : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "eventstore").string(); }

  std::unique_ptr<event_store> open(rocksdb_options o = {}) {
    o.path = path();
    auto s = open_rocksdb_store(o);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }

  // The raw database, every column family open (for layout checks and corruption).
  struct raw_db {
    std::unique_ptr<rocksdb::DB> db;
    std::map<std::string, rocksdb::ColumnFamilyHandle*> cf;
    ~raw_db() {
      for (auto& [n, h] : cf)
        db->DestroyColumnFamilyHandle(h);
    }
  };
  std::unique_ptr<raw_db> open_raw() {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names)
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    const auto s = rocksdb::DB::Open(rocksdb::DBOptions(), path(), cfs, &handles, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto out = std::make_unique<raw_db>();
    out->db.reset(db);
    for (std::size_t i = 0; i < names.size(); ++i)
      out->cf[names[i]] = handles[i];
    return out;
  }

  static std::string be64(std::uint64_t v) {
    std::string k;
    for (int i = 7; i >= 0; --i)
      k.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return k;
  }

  test::temp_dir dir_;
};

TEST_F(RocksdbStore, EventsColumnFamilyHoldsEnvelopesKeyedByBigEndianPosition) {
  std::vector<recorded_event> written;
  {
    auto s = open();
    for (int i = 0; i < 300; ++i)
      ASSERT_TRUE(append_sync(*s, one_event("tn_" + std::to_string(i % 7))));
    written = s->read_all(1, 1000).value();
  }
  ASSERT_EQ(written.size(), 300u);
  auto raw = open_raw();
  ASSERT_TRUE(raw->cf.contains("events"));
  std::unique_ptr<rocksdb::Iterator> it(
      raw->db->NewIterator(rocksdb::ReadOptions(), raw->cf["events"]));
  std::uint64_t pos = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++pos;
    ASSERT_EQ(it->key().ToString(), be64(pos));  // 256 sorts after 255: big-endian
    EXPECT_EQ(it->value().ToString(), written[pos - 1].envelope_json);
  }
  EXPECT_EQ(pos, 300u);
}

TEST_F(RocksdbStore, ReopenKeepsEventsHeadsClaimsAndEventIdIdempotency) {
  rocksdb_options o;
  o.event_id_cache_entries = 1;  // replays below must find ids through the filter and RocksDB
  const auto first =
      make_request("tn_a", expected_version::no_stream(), {make_event(), make_event()});
  {
    auto s = open(o);
    auto r = first;
    r.claims.push_back({unique_claim::op::claim, "acme.com"});
    ASSERT_TRUE(append_sync(*s, r));
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(append_sync(*s, one_event("tn_b")));
    ASSERT_FALSE(s->store_checkpoint("p", 10));
  }
  auto s = open(o);
  EXPECT_EQ(s->head(), 52u);
  EXPECT_EQ(s->stream_version("tn_a").value(), 2u);
  EXPECT_EQ(s->stream_version("tn_b").value(), 50u);
  EXPECT_EQ(s->read_stream_head("tn_b").value().last_position, 52u);
  EXPECT_EQ(s->unique_owner("acme.com").value(), std::optional<std::string>("tn_a"));
  EXPECT_EQ(s->load_checkpoint("p").value(), std::optional<std::uint64_t>(10));

  const auto replay = append_sync(*s, first);
  ASSERT_TRUE(replay.has_value()) << replay.error().detail;
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->first_position, 1u);
  EXPECT_EQ(replay->last_position, 2u);
  auto elsewhere = first;
  elsewhere.stream_id = "tn_c";
  const auto dup = append_sync(*s, elsewhere);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, errc::duplicate_event_id);

  auto claim = one_event("tn_c");
  claim.claims.push_back({unique_claim::op::claim, "acme.com"});
  const auto taken = append_sync(*s, claim);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, errc::duplicate_domain);

  const auto next = append_sync(*s, one_event("tn_a", expected_version::exact(2)));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->first_position, 53u);
  EXPECT_EQ(next->first_version, 3u);
}

TEST_F(RocksdbStore, ReadsOlderThanTheTailCacheComeFromRocksdb) {
  rocksdb_options o;
  o.tail_cache_events = 4;
  auto s = open(o);
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(append_sync(*s, one_event("s" + std::to_string(i % 3))));
  auto sub = s->subscribe(0);
  std::uint64_t expected = 1;
  while (expected <= 40) {
    const auto batch = sub->next(9, 0ms).value();
    ASSERT_FALSE(batch.empty());
    for (const auto& e : batch)
      EXPECT_EQ(e.position, expected++);
  }
  const auto stream = s->read_stream("s0", 1, 100).value();
  ASSERT_EQ(stream.size(), 14u);
  for (std::size_t i = 0; i < stream.size(); ++i) {
    EXPECT_EQ(stream[i].version, i + 1);
    EXPECT_EQ(stream[i].position, 3 * i + 1);
  }
}

TEST_F(RocksdbStore, FailedWriteFailsTheBatchKeepsReadsAndRecoversWhenSpaceReturns) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));
  ASSERT_TRUE(append_sync(*s, one_event("a")));

  o.fault->fail_writes = true;
  constexpr int during = 8;
  std::vector<std::thread> ts;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < during; ++i)
    ts.emplace_back([&, i] {
      auto r = one_event("b" + std::to_string(i));
      r.claims.push_back({unique_claim::op::claim, "d" + std::to_string(i) + ".com"});
      const auto out = append_sync(*s, std::move(r));
      if (!out.has_value() && out.error().code == errc::storage_unavailable)
        unavailable.fetch_add(1);
    });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(unavailable.load(), during);
  // Queries keep working, and nothing of the failed batches is visible.
  EXPECT_EQ(s->head(), 2u);
  EXPECT_EQ(s->read_all(1, 100).value().size(), 2u);
  EXPECT_EQ(s->read_stream("a", 1, 100).value().size(), 2u);
  EXPECT_EQ(s->stream_version("b0").value(), 0u);
  EXPECT_EQ(s->unique_owner("d0.com").value(), std::nullopt);
  // Still failing: still unavailable.
  EXPECT_EQ(append_sync(*s, one_event("c")).error().code, errc::storage_unavailable);

  o.fault->fail_writes = false;
  const auto after = append_sync(*s, one_event("c"));
  ASSERT_TRUE(after.has_value()) << after.error().detail;
  EXPECT_EQ(after->first_position, 3u);  // failed appends consumed no position
  auto claim = one_event("b0");
  claim.claims.push_back({unique_claim::op::claim, "d0.com"});
  ASSERT_TRUE(append_sync(*s, claim));
  EXPECT_EQ(s->head(), 4u);
  s.reset();

  // After a restart the log holds exactly the acknowledged events, consistently indexed.
  const auto rep = verify_rocksdb_store(path());
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(rep->ok()) << (rep->problems.empty() ? "" : rep->problems.front());
  EXPECT_EQ(rep->head, 4u);
  s = open();
  EXPECT_EQ(s->head(), 4u);
  EXPECT_EQ(s->stream_version("b1").value(), 0u);
  EXPECT_EQ(s->unique_owner("d1.com").value(), std::nullopt);
}

TEST_F(RocksdbStore, AFailedSyncNeverLeavesHalfABatchAndRetriesAreIdempotent) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));

  // The sync fails after the batch reached the OS: the append is reported failed, but the
  // record may still be in the WAL. Whatever recovery does with it, the batch is all or nothing
  // and a retry with the same event ids is answered once.
  auto x =
      make_request("x", expected_version::no_stream(), {make_event(), make_event(), make_event()});
  x.claims.push_back({unique_claim::op::claim, "x.com"});
  o.fault->fail_syncs = true;
  const auto failed = append_sync(*s, x);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, errc::storage_unavailable);
  EXPECT_EQ(s->head(), 1u);
  o.fault->fail_syncs = false;

  append_outcome retried = append_error{};
  for (int attempt = 0; attempt < 3 && !retried.has_value(); ++attempt) {
    retried = append_sync(*s, x);
    if (!retried.has_value()) {
      EXPECT_EQ(retried.error().code, errc::storage_unavailable);
    }
  }
  ASSERT_TRUE(retried.has_value()) << retried.error().detail;
  EXPECT_EQ(retried->first_position, 2u);
  EXPECT_EQ(retried->last_position, 4u);
  const auto y = append_sync(*s, one_event("y"));
  ASSERT_TRUE(y.has_value());
  EXPECT_EQ(y->first_position, 5u);
  EXPECT_EQ(s->unique_owner("x.com").value(), std::optional<std::string>("x"));
  EXPECT_EQ(s->read_stream("x", 1, 10).value().size(), 3u);
  s.reset();

  const auto rep = verify_rocksdb_store(path());
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(rep->ok()) << (rep->problems.empty() ? "" : rep->problems.front());
  EXPECT_EQ(rep->head, 5u);
}

// Durability fsync, both ways of syncing: while the WAL sync is held, the batch has been
// written but nothing of it is acknowledged or visible to readers; releasing the sync
// acknowledges every append at contiguous positions.
class SyncHeld : public RocksdbStore, public ::testing::WithParamInterface<bool> {};

TEST_P(SyncHeld, NothingIsAcknowledgedOrVisibleBeforeTheWalSync) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  o.pipelined_sync = GetParam();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));

  auto& f = *o.fault;
  f.hold_wal_syncs.store(true);
  constexpr int appends = 6;
  std::atomic<int> answered{0};
  std::vector<std::promise<append_outcome>> done(appends);
  std::vector<std::future<append_outcome>> outcomes;
  for (auto& d : done)
    outcomes.push_back(d.get_future());
  for (int i = 0; i < appends; ++i)
    s->append(one_event("b" + std::to_string(i % 2)), [&, i](append_outcome out) {
      answered.fetch_add(1);
      done[static_cast<std::size_t>(i)].set_value(std::move(out));
    });
  // Wait until a WAL sync is held: the first batch has been written to RocksDB by then.
  for (int n = f.held_wal_syncs.load(); n == 0; n = f.held_wal_syncs.load())
    f.held_wal_syncs.wait(n);
  EXPECT_EQ(answered.load(), 0);
  EXPECT_EQ(s->head(), 1u);
  EXPECT_EQ(s->read_all(1, 100).value().size(), 1u);
  EXPECT_EQ(s->stream_version("b0").value(), 0u);
  EXPECT_EQ(s->read_stream("b0", 1, 10).value().size(), 0u);

  f.hold_wal_syncs.store(false);
  f.hold_wal_syncs.notify_all();
  std::vector<std::uint64_t> positions;
  for (auto& out : outcomes) {
    auto r = out.get();
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    positions.push_back(r->first_position);
  }
  std::sort(positions.begin(), positions.end());
  for (std::size_t i = 0; i < positions.size(); ++i)
    EXPECT_EQ(positions[i], i + 2);
  EXPECT_EQ(s->head(), 1u + appends);
  EXPECT_EQ(s->stream_version("b0").value(), appends / 2u);
}

INSTANTIATE_TEST_SUITE_P(RocksdbStore, SyncHeld, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "pipelined" : "plain";
                         });

// A write to the WAL fails outside the append pipeline (as a checkpoint or snapshot write does
// when the disk turns read-only) while a written batch waits for its sync. Syncing through
// RocksDB's WAL writer after that failure trips an assertion in RocksDB's WritableFileWriter,
// which Debian's librocksdb keeps: tenantd aborted on a read-only disk (tests/fault/
// readonly_e2e.py). The batch must be answered, the process must live on, nothing
// acknowledged may be lost, and appends succeed again once the fault is gone.
TEST_F(RocksdbStore, AWalWriteFailingBesideAPendingSyncIsAnErrorNotAnAbort) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));
  auto& f = *o.fault;
  const auto written_before = s->stats().batches;

  // z's sync is held; b is written meanwhile and queued behind it for the next sync.
  f.hold_wal_syncs.store(true);
  std::promise<append_outcome> z_done, b_done;
  s->append(one_event("z"), [&](append_outcome out) { z_done.set_value(std::move(out)); });
  for (int n = f.held_wal_syncs.load(); n == 0; n = f.held_wal_syncs.load())
    f.held_wal_syncs.wait(n);
  s->append(one_event("b"), [&](append_outcome out) { b_done.set_value(std::move(out)); });
  while (s->stats().batches < written_before + 2)
    std::this_thread::sleep_for(1ms);  // b's WriteBatch is in the WAL, not yet synced

  // A failed WAL append outside the pipeline: RocksDB's WAL writer has now seen an error.
  f.fail_writes.store(true);
  EXPECT_EQ(s->store_snapshot("snap", 1, "state"), make_error_code(errc::storage_unavailable));
  f.fail_writes.store(false);

  f.hold_wal_syncs.store(false);
  f.hold_wal_syncs.notify_all();
  const auto z = z_done.get_future().get();
  ASSERT_TRUE(z.has_value()) << z.error().detail;
  const auto b = b_done.get_future().get();
  if (!b.has_value()) {
    EXPECT_EQ(b.error().code, errc::storage_unavailable);
  }

  append_outcome next = append_error{};
  for (int attempt = 0; attempt < 3 && !next.has_value(); ++attempt)
    next = append_sync(*s, one_event("c"));
  ASSERT_TRUE(next.has_value()) << next.error().detail;
  const std::uint64_t head = s->head();
  EXPECT_EQ(next->last_position, head);
  s.reset();

  // After a restart: every acknowledged append is there, the log is consistent.
  const auto rep = verify_rocksdb_store(path());
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(rep->ok()) << (rep->problems.empty() ? "" : rep->problems.front());
  EXPECT_EQ(rep->head, head);
  s = open();
  EXPECT_EQ(s->stream_version("z").value(), 1u);
  if (b.has_value()) {
    EXPECT_EQ(s->stream_version("b").value(), 1u);
  }
  EXPECT_EQ(s->stream_version("c").value(), 1u);
}

// A failed write beside the pipeline (the relay's checkpoint) stops RocksDB's writes. The store
// says why, and recovers by itself once the storage works again: no append is needed to notice
// (a node that reports the failure as unready may receive none), and the first append after
// that succeeds.
TEST_F(RocksdbStore, AFailedCheckpointIsReportedAndRecoveredWithoutAnAppend) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));
  EXPECT_EQ(s->write_failure(), "");

  o.fault->fail_writes.store(true);
  EXPECT_EQ(s->store_checkpoint("relay", 1), make_error_code(errc::storage_unavailable));
  EXPECT_NE(s->write_failure().find("No space left on device"), std::string::npos)
      << s->write_failure();
  // Still failing: the idle retries keep failing at the probe, and say so.
  EXPECT_EQ(append_sync(*s, one_event("b")).error().code, errc::storage_unavailable);
  EXPECT_FALSE(s->write_failure().empty());

  o.fault->fail_writes.store(false);
  for (int i = 0; i < 600 && !s->write_failure().empty(); ++i)
    std::this_thread::sleep_for(50ms);  // the first idle retry comes after about a second
  EXPECT_EQ(s->write_failure(), "");
  EXPECT_FALSE(s->store_checkpoint("relay", 2));
  const auto c = append_sync(*s, one_event("c"));
  ASSERT_TRUE(c.has_value()) << c.error().detail;
  EXPECT_EQ(c->first_position, 2u);  // b consumed no position
  EXPECT_EQ(s->load_checkpoint("relay").value(), std::optional<std::uint64_t>(2));
}

// Durable writes beside the pipeline (the relay's checkpoint, idempotency records) share the
// sync stage's WAL syncs instead of syncing inside RocksDB's write group. A sync that was
// already running when the checkpoint was written does not cover it: the checkpoint returns
// only after a sync that started after its write, and appends go on meanwhile.
TEST_F(RocksdbStore, ACheckpointWaitsForASyncThatStartedAfterItsWrite) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));
  auto& f = *o.fault;

  // z's sync is running (held) when the checkpoint is written.
  f.hold_wal_syncs.store(true);
  std::promise<append_outcome> z_done;
  s->append(one_event("z"), [&](append_outcome out) { z_done.set_value(std::move(out)); });
  for (int n = f.held_wal_syncs.load(); n == 0; n = f.held_wal_syncs.load())
    f.held_wal_syncs.wait(n);
  auto checkpoint = std::async(std::launch::async, [&] { return s->store_checkpoint("relay", 9); });
  // Not answered while the only sync that ran since its write is z's (held), however long.
  EXPECT_EQ(checkpoint.wait_for(100ms), std::future_status::timeout);
  f.hold_wal_syncs.store(false);
  f.hold_wal_syncs.notify_all();
  EXPECT_TRUE(z_done.get_future().get().has_value());
  EXPECT_FALSE(checkpoint.get());
  EXPECT_EQ(s->load_checkpoint("relay").value(), std::optional<std::uint64_t>(9));
  EXPECT_FALSE(s->store_idempotency("k", idempotency_record{"POST /x", "{}", {}}));
  ASSERT_TRUE(s->load_idempotency("k").value().has_value());
  ASSERT_TRUE(append_sync(*s, one_event("b")));
}

// A failed WAL sync under a checkpoint fails the checkpoint, and every later sync too (a retry
// of fdatasync may succeed after the kernel dropped the failed pages), so no append is
// acknowledged on it; the store recovers by itself once syncs work again.
TEST_F(RocksdbStore, AFailedSyncOfACheckpointFailsLaterSyncsUntilRecovery) {
  rocksdb_options o;
  o.fault = std::make_shared<write_fault>();
  auto s = open(o);
  ASSERT_TRUE(append_sync(*s, one_event("a")));
  o.fault->fail_syncs.store(true);
  EXPECT_EQ(s->store_checkpoint("relay", 1), make_error_code(errc::storage_unavailable));
  o.fault->fail_syncs.store(false);
  EXPECT_FALSE(s->write_failure().empty());
  for (int i = 0; i < 600 && !s->write_failure().empty(); ++i)
    std::this_thread::sleep_for(50ms);  // the first idle retry comes after about a second
  EXPECT_EQ(s->write_failure(), "");
  EXPECT_FALSE(s->store_checkpoint("relay", 2));
  const auto c = append_sync(*s, one_event("c"));
  ASSERT_TRUE(c.has_value()) << c.error().detail;
  EXPECT_EQ(s->load_checkpoint("relay").value(), std::optional<std::uint64_t>(2));
  s.reset();
  const auto rep = verify_rocksdb_store(path());
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(rep->ok()) << (rep->problems.empty() ? "" : rep->problems.front());
}

TEST_F(RocksdbStore, ReadOnlyOpenWorksBesideARunningWriter) {
  auto writer = open();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(append_sync(*writer, one_event("tn_x")));
  ASSERT_FALSE(writer->store_checkpoint("c", 5));

  rocksdb_options ro;
  ro.read_only = true;
  auto reader = open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->head(), 20u);
  EXPECT_EQ(reader->read_all(1, 100).value().size(), 20u);
  EXPECT_EQ(reader->read_stream("tn_x", 5, 3).value().size(), 3u);
  EXPECT_EQ(reader->stream_version("tn_x").value(), 20u);
  EXPECT_EQ(reader->read_stream_head("tn_x").value().version, 20u);
  EXPECT_EQ(reader->read_stream_head("tn_x").value().last_position, 20u);
  EXPECT_EQ(reader->stream_version("tn_unknown").value(), 0u);
  EXPECT_TRUE(reader->read_stream("tn_unknown", 1, 10).value().empty());
  EXPECT_EQ(reader->load_checkpoint("c").value(), std::optional<std::uint64_t>(5));
  const auto refused = append_sync(*reader, one_event("tn_x"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::closed);
  EXPECT_EQ(reader->store_checkpoint("c", 6), make_error_code(errc::closed));

  // The writer is unaffected, and verify (read-only too) works while it runs. The reader keeps
  // the store as of its open.
  ASSERT_TRUE(append_sync(*writer, one_event("tn_x")));
  EXPECT_EQ(reader->stream_version("tn_x").value(), 20u);
  EXPECT_EQ(reader->read_stream("tn_x", 18, 10).value().size(), 3u);
  const auto rep = verify_rocksdb_store(path());
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(rep->ok());
  EXPECT_EQ(rep->head, 21u);
}

TEST_F(RocksdbStore, OpeningErrorsAreValues) {
  rocksdb_options ro;
  ro.read_only = true;
  ro.path = path();
  const auto missing = open_rocksdb_store(ro);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), make_error_code(errc::not_found));

  auto writer = open();
  rocksdb_options again;
  again.path = path();
  const auto second = open_rocksdb_store(again);  // the RocksDB lock is held
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error(), make_error_code(errc::locked));
  EXPECT_NE(second.error().message().find("in use by another process"), std::string::npos);

  EXPECT_EQ(open_rocksdb_store(rocksdb_options{}).error(), make_error_code(errc::invalid_argument));
}

// ---- verify ----

class Verify : public RocksdbStore {
 protected:
  void SetUp() override {
    auto s = open();
    for (int i = 0; i < 30; ++i) {
      auto r = make_request("tn_" + std::to_string(i % 3), expected_version::any(),
                            {make_event(), make_event()});
      if (i < 3) r.claims.push_back({unique_claim::op::claim, "d" + std::to_string(i) + ".com"});
      ASSERT_TRUE(append_sync(*s, r));
    }
    ASSERT_FALSE(s->store_checkpoint("projection", 60));
  }

  verify_report run() {
    auto rep = verify_rocksdb_store(path());
    EXPECT_TRUE(rep.has_value());
    return rep ? *rep : verify_report{};
  }

  static bool mentions(const verify_report& r, std::string_view text) {
    for (const auto& p : r.problems)
      if (p.find(text) != std::string::npos) return true;
    return false;
  }
};

TEST_F(Verify, ACleanStorePasses) {
  std::uint64_t last_progress = 0;
  const auto rep =
      verify_rocksdb_store(path(), [&](std::uint64_t n, std::uint64_t) { last_progress = n; });
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(rep->ok()) << (rep->problems.empty() ? "" : rep->problems.front());
  EXPECT_EQ(rep->head, 60u);
  EXPECT_EQ(rep->events, 60u);
  EXPECT_EQ(rep->streams, 3u);
  EXPECT_EQ(last_progress, 60u);
}

TEST_F(Verify, FindsAMissingPosition) {
  {
    auto raw = open_raw();
    ASSERT_TRUE(raw->db->Delete(rocksdb::WriteOptions(), raw->cf["events"], be64(17)).ok());
  }
  const auto rep = run();
  EXPECT_FALSE(rep.ok());
  EXPECT_TRUE(mentions(rep, "positions 17..17 are missing"));
  EXPECT_TRUE(mentions(rep, "version"));  // the stream now skips a version too
}

TEST_F(Verify, FindsAnEnvelopeThatDisagreesWithItsKey) {
  std::string value;
  {
    auto raw = open_raw();
    ASSERT_TRUE(raw->db->Get(rocksdb::ReadOptions(), raw->cf["events"], be64(5), &value).ok());
    const auto at = value.find("\"position\":5");
    ASSERT_NE(at, std::string::npos);
    value.replace(at, 12, "\"position\":6");
    ASSERT_TRUE(raw->db->Put(rocksdb::WriteOptions(), raw->cf["events"], be64(5), value).ok());
  }
  const auto rep = run();
  EXPECT_TRUE(mentions(rep, "position 5: envelope says position 6"));
}

TEST_F(Verify, FindsAMalformedEnvelope) {
  {
    auto raw = open_raw();
    ASSERT_TRUE(raw->db->Put(rocksdb::WriteOptions(), raw->cf["events"], be64(9), "{oops").ok());
  }
  EXPECT_TRUE(mentions(run(), "position 9: malformed envelope"));
}

TEST_F(Verify, FindsStaleAndStrayIndexEntries) {
  {
    auto raw = open_raw();
    std::unique_ptr<rocksdb::Iterator> it(
        raw->db->NewIterator(rocksdb::ReadOptions(), raw->cf["streams"]));
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    const std::string stream = it->key().ToString();
    it.reset();
    std::string head = be64(1) + be64(1);
    ASSERT_TRUE(raw->db->Put(rocksdb::WriteOptions(), raw->cf["streams"], stream, head).ok());
    ASSERT_TRUE(
        raw->db->Put(rocksdb::WriteOptions(), raw->cf["unique"], "ghost.com", "tn_ghost").ok());
    ASSERT_TRUE(
        raw->db
            ->Put(rocksdb::WriteOptions(), raw->cf["stream_index"], "\x05tn_zz" + be64(1), be64(3))
            .ok());
    ASSERT_TRUE(
        raw->db->Put(rocksdb::WriteOptions(), raw->cf["checkpoints"], "future", be64(61)).ok());
  }
  const auto rep = run();
  EXPECT_FALSE(rep.ok());
  EXPECT_TRUE(mentions(rep, "streams: head of"));
  EXPECT_TRUE(mentions(rep, "unique: 'ghost.com'"));
  EXPECT_TRUE(mentions(rep, "stream_index: 61 entries for 60 events"));
  EXPECT_TRUE(mentions(rep, "checkpoints: 'future' at 61 is past the head 60"));
}

TEST_F(Verify, MissingStoreIsNotFound) {
  EXPECT_EQ(verify_rocksdb_store((dir_.path() / "nothing").string()).error(),
            make_error_code(errc::not_found));
}

// RocksDB's warnings reach tenantd's log, except the one it raises on opening every file that
// a projection replay ingested (no unique id recorded for it: nothing to act on) and a failed
// open on a held LOCK (the opener reports it itself).
TEST(RocksdbLogger, ForwardsWarningsButNotTheIngestedFileOrTheHeldLockOnes) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  auto log = make_rocksdb_logger("projections");
  // As ROCKS_LOG_WARN formats them: "[file:line] " then the message.
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log,
               "[%s:723] At least one SST file opened without unique ID to verify: %d.sst",
               "table/block_based/block_based_table_reader.cc", 41);
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "[%s:12] Compaction is too slow: %d",
               "db/x.cc", 7);
  rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, log, "[%s:9] unique ID mismatch in %d.sst",
               "db/y.cc", 42);
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "[%s:1] flushed", "db/z.cc");
  // The opener reports a held LOCK as its own `locked` error; other failed opens still show.
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "[%s:2086] DB::Open() failed: %s",
               "db/db_impl/db_impl_open.cc",
               "IO error: While lock file: /d/eventstore/LOCK: Resource temporarily unavailable");
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "[%s:2086] DB::Open() failed: %s",
               "db/db_impl/db_impl_open.cc", "IO error: No space left on device");
  spdlog::set_default_logger(previous);
  const std::string text = out.str();
  EXPECT_EQ(text.find("without unique ID"), std::string::npos) << text;
  EXPECT_NE(text.find("rocksdb projections: [db/x.cc:12] Compaction is too slow: 7"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unique ID mismatch in 42.sst"), std::string::npos) << text;
  EXPECT_EQ(text.find("flushed"), std::string::npos) << text;
  EXPECT_EQ(text.find("While lock file"), std::string::npos) << text;
  EXPECT_NE(text.find("DB::Open() failed: IO error: No space left on device"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace tenant::eventstore
