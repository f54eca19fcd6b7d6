// tenantd's memtable (eventstore/src/memtable_rep.cpp) inside a real RocksDB database: against
// a std::map model under random writes, reads, seeks and snapshots, before and after a flush
// (RocksDB checks the key order of what a flush writes), with every comparison checked
// against RocksDB's own comparator (the factory's paranoid mode), and with readers running
// while one thread writes.

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tenant/eventstore/rocksdb_support.hpp"

namespace {

namespace fs = std::filesystem;
using tenant::eventstore::make_memtable_factory;

class MemtableRep : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tenant-memtable-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    rocksdb::Options o;
    o.create_if_missing = true;
    o.allow_concurrent_memtable_write = false;
    o.memtable_factory = make_memtable_factory(/*paranoid=*/true);
    o.write_buffer_size = 64u << 20;  // nothing is flushed unless the test asks
    rocksdb::DB* raw = nullptr;
    const auto s = rocksdb::DB::Open(o, dir_.string(), &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  void put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), k, v).ok());
    model_[k] = v;
  }
  void del(const std::string& k) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), k).ok());
    model_.erase(k);
  }

  /// Every read of the database agrees with the model: point reads, both scan directions,
  /// Seek and SeekForPrev to `targets`.
  void expect_matches(const std::map<std::string, std::string>& model,
                      const std::vector<std::string>& targets,
                      const rocksdb::Snapshot* snap = nullptr) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    for (const auto& t : targets) {
      std::string v;
      const auto s = db_->Get(ro, t, &v);
      const auto it = model.find(t);
      if (it == model.end()) {
        EXPECT_TRUE(s.IsNotFound()) << "key " << testing::PrintToString(t);
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_EQ(v, it->second);
      }
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    std::vector<std::pair<std::string, std::string>> forward;
    for (it->SeekToFirst(); it->Valid(); it->Next())
      forward.emplace_back(it->key().ToString(), it->value().ToString());
    ASSERT_TRUE(it->status().ok());
    using pairs = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(forward, pairs(model.begin(), model.end()));
    std::vector<std::string> backward;
    for (it->SeekToLast(); it->Valid(); it->Prev())
      backward.push_back(it->key().ToString());
    std::vector<std::string> expected_back;
    for (auto m = model.rbegin(); m != model.rend(); ++m)
      expected_back.push_back(m->first);
    EXPECT_EQ(backward, expected_back);
    for (const auto& t : targets) {
      it->Seek(t);
      const auto ge = model.lower_bound(t);
      ASSERT_EQ(it->Valid(), ge != model.end()) << "Seek " << testing::PrintToString(t);
      if (ge != model.end()) {
        EXPECT_EQ(it->key().ToString(), ge->first);
      }
      it->SeekForPrev(t);
      auto le = model.upper_bound(t);
      const bool any = le != model.begin();
      ASSERT_EQ(it->Valid(), any) << "SeekForPrev " << testing::PrintToString(t);
      if (any) {
        EXPECT_EQ(it->key().ToString(), std::prev(le)->first);
      }
    }
  }

  fs::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, std::string> model_;
};

std::string random_key(std::mt19937_64& rng) {
  // Short keys over a small alphabet with 0x00 and 0xff: many shared prefixes, keys that are
  // prefixes of others, the empty key, and many repeats (overwrites of one user key).
  static const char alphabet[] = {'\0', 'a', 'b', '\xff'};
  std::string k(rng() % 6, '\0');
  for (auto& c : k)
    c = alphabet[rng() % 4];
  return k;
}

TEST(MemtableFactory, IsTenantdsOwnOnThisRocksDb) {
  // Debian bookworm's RocksDB is 7.8: the layouts memtable_rep.cpp relies on are that version's.
  EXPECT_TRUE(tenant::eventstore::own_memtable());
  EXPECT_STREQ(make_memtable_factory()->Name(), "TenantSkipListFactory");
}

TEST_F(MemtableRep, RandomWritesReadAsTheModelSaysBeforeAndAfterAFlush) {
  std::mt19937_64 rng(7);
  std::vector<std::string> targets;
  for (int i = 0; i < 400; ++i)
    targets.push_back(random_key(rng));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3000; ++i) {
      const auto k = random_key(rng);
      if (rng() % 5 == 0) {
        del(k);
      } else {
        put(k, "v" + std::to_string(round) + "-" + std::to_string(i));
      }
    }
    expect_matches(model_, targets);
  }
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());  // fails on keys out of order
  expect_matches(model_, targets);
  put("after-flush", "x");
  expect_matches(model_, targets);
}

TEST_F(MemtableRep, KeysInOrderInReverseAndInterleavedAllLand) {
  // In order: linked after the last insert without a search. Reverse and interleaved: searched.
  std::vector<std::string> targets;
  auto be = [](std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8)
      s[static_cast<std::size_t>(i)] = static_cast<char>(v);
    return s;
  };
  for (std::uint64_t i = 0; i < 5000; ++i)
    put("a" + be(i), "up");
  for (std::uint64_t i = 5000; i > 0; --i)
    put("c" + be(i), "down");
  for (std::uint64_t i = 0; i < 2000; ++i) {
    put("b" + be(i), "x");
    put("d" + be(10000 - i), "y");
    put("b" + be(i) + "z", "prefix extended");
  }
  for (std::uint64_t i = 0; i < 6000; i += 7) {
    targets.push_back("a" + be(i));
    targets.push_back("b" + be(i));
    targets.push_back("c" + be(i));
    targets.push_back("d" + be(i));
    targets.push_back("b" + be(i) + "y");
  }
  targets.push_back("");
  targets.push_back("e");
  expect_matches(model_, targets);
}

TEST_F(MemtableRep, ASnapshotReadsTheVersionOfItsTime) {
  // Versions of one user key are ordered by decreasing sequence number: the newest first.
  put("k", "1");
  put("j", "0");
  const rocksdb::Snapshot* s1 = db_->GetSnapshot();
  const auto at_s1 = model_;
  for (int i = 2; i <= 300; ++i)
    put("k", std::to_string(i));
  del("j");
  const rocksdb::Snapshot* s2 = db_->GetSnapshot();
  const auto at_s2 = model_;
  put("k", "last");
  put("j", "again");
  const std::vector<std::string> targets = {"", "j", "k", "l"};
  expect_matches(at_s1, targets, s1);
  expect_matches(at_s2, targets, s2);
  expect_matches(model_, targets);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  expect_matches(at_s1, targets, s1);
  expect_matches(at_s2, targets, s2);
  db_->ReleaseSnapshot(s1);
  db_->ReleaseSnapshot(s2);
}

TEST_F(MemtableRep, ReadersSeeASortedListWhileOneThreadWrites) {
  constexpr int total = 20000;
  std::atomic<int> written{0};  // keys 0..written-1 are acknowledged
  auto key = [](int i) {
    // Alternately near the end (in order) and scattered (a multiplicative hash).
    const unsigned v =
        i % 2 == 0 ? static_cast<unsigned>(i) : static_cast<unsigned>(i) * 2654435761u;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%c%010u", i % 2 == 0 ? 'o' : 's', v);
    return std::string(buf);
  };
  std::thread writer([&] {
    for (int i = 0; i < total; ++i) {
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key(i), std::to_string(i)).ok());
      written.store(i + 1, std::memory_order_release);
    }
  });
  std::atomic<bool> failed{false};
  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    for (int pass = 0; pass < 150 && !failed; ++pass) {
      const int known = written.load(std::memory_order_acquire);
      if (known > 0) {
        const int i = static_cast<int>(rng() % static_cast<unsigned>(known));
        std::string v;
        if (!db_->Get(rocksdb::ReadOptions(), key(i), &v).ok() || v != std::to_string(i))
          failed = true;
      }
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      int seen = 0;
      std::string last;
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++seen) {
        if (seen > 0 && !(last < it->key().ToString())) failed = true;
        last = it->key().ToString();
      }
      if (seen < known) failed = true;  // an acknowledged key is missing from the scan
      // Backwards from a random acknowledged key: strictly decreasing, down to the first key.
      if (known > 0) {
        const auto from = key(static_cast<int>(rng() % static_cast<unsigned>(known)));
        it->SeekForPrev(from);
        if (!it->Valid() || it->key().ToString() != from) failed = true;
        std::string above = from;
        for (int steps = 0; it->Valid() && steps < 200; it->Prev(), ++steps) {
          if (steps > 0 && !(it->key().ToString() < above)) failed = true;
          above = it->key().ToString();
        }
      }
    }
  };
  std::thread r1(reader, 1u);
  std::thread r2(reader, 2u);
  writer.join();
  r1.join();
  r2.join();
  EXPECT_FALSE(failed.load());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next())
    ++n;
  EXPECT_EQ(n, total);
}

}  // namespace
