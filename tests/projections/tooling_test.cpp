// Offline replay (shadow copy + swap, resume after a kill), export/import and verify.
#include "tenant/projections/tooling.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "db.hpp"
#include "keys.hpp"
#include "model_support.hpp"
#include "row_codec.hpp"

extern char** environ;

namespace tenant::projections::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<read_model> open_model(eventstore::event_store& store, const std::string& path) {
  read_model_options o;
  o.path = path;
  auto m = read_model::open(store, o);
  if (!m) throw std::runtime_error("open: " + m.error().message());
  return std::move(*m);
}

void expect_model_matches(const world& w, eventstore::event_store& store, const read_model& m) {
  EXPECT_EQ(m.position(), store.head());
  for (const auto& [id, st] : w.expected) {
    auto v = m.find(*domain::tenant_id::parse(id));
    ASSERT_TRUE(v && *v) << id;
    EXPECT_EQ((*v)->state, st) << id;
  }
  for (const auto& [user, entry] : w.members) {
    EXPECT_EQ(strs(m.tenants_of(domain::user_id(user))),
              std::vector<std::string>(entry.first.begin(), entry.first.end()));
    EXPECT_EQ(m.current_tenant(domain::user_id(user))->str(), entry.second);
  }
  expect_lists_match(w, m);
}

std::vector<std::uint64_t> generations(const read_model& m) {
  std::vector<std::uint64_t> g;
  for (const auto& s : m.status())
    g.push_back(s.generation);
  return g;
}

TEST(Replay, RebuildsIntoAShadowCopyAndSwaps) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 21);
  {
    auto m = open_model(*store, dir.sub("p"));
    m->start();
    for (int i = 0; i < 400; ++i)
      w.step();
    ASSERT_TRUE(wait_until(*m, store->head()));
    EXPECT_EQ(generations(*m), (std::vector<std::uint64_t>{1, 1}));
    // tenantd is running: the offline replay refuses clearly.
    replay_options o;
    o.path = dir.sub("p");
    auto refused = replay(*store, o);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), make_error_code(errc::locked));
  }
  replay_options o;
  o.path = dir.sub("p");
  o.batch_events = 64;
  std::vector<replay_progress> progress;
  o.progress = [&](const replay_progress& p) { progress.push_back(p); };
  auto s = replay(*store, o);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->events, store->head());
  EXPECT_EQ(s->position, store->head());
  EXPECT_EQ(s->resumed_from, 0u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().position, store->head());
  EXPECT_EQ(progress.back().target, store->head());
  EXPECT_EQ(progress.back().projection, "memberships+tenants");

  auto m = open_model(*store, dir.sub("p"));
  EXPECT_EQ(generations(*m), (std::vector<std::uint64_t>{2, 2}));
  expect_model_matches(w, *store, *m);

  // One projection alone; an unknown name is refused.
  m.reset();
  o.projections = {"memberships"};
  ASSERT_TRUE(replay(*store, o));
  o.projections = {"nope"};
  EXPECT_EQ(replay(*store, o).error(), make_error_code(errc::unknown_projection));
  m = open_model(*store, dir.sub("p"));
  EXPECT_EQ(generations(*m), (std::vector<std::uint64_t>{2, 3}));
  expect_model_matches(w, *store, *m);
  // It keeps following the log after the replay.
  m->start();
  for (int i = 0; i < 50; ++i)
    w.step();
  ASSERT_TRUE(wait_until(*m, store->head()));
  expect_model_matches(w, *store, *m);
}

TEST(Replay, StoppedMidwayResumesFromItsCheckpoint) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 22);
  for (int i = 0; i < 500; ++i)
    w.step();
  replay_options o;
  o.path = dir.sub("p");
  o.batch_events = 32;
  const auto half = store->head() / 2;
  auto stopped = replay_until(*store, o, half);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error(), make_error_code(errc::closed));
  {
    // Not swapped: the active copy is still the empty first generation.
    auto m = open_model(*store, dir.sub("p"));
    EXPECT_EQ(m->position(), 0u);
    ASSERT_TRUE(m->status()[0].rebuild);
    EXPECT_FALSE(m->status()[0].rebuild->online);
  }
  auto s = replay(*store, o);
  ASSERT_TRUE(s);
  EXPECT_GE(s->resumed_from, half);
  EXPECT_LT(s->resumed_from, half + 32);
  EXPECT_EQ(s->events, store->head() - s->resumed_from);
  auto m = open_model(*store, dir.sub("p"));
  expect_model_matches(w, *store, *m);
}

// The child half of KillDuringReplayResumes: replays and SIGKILLs itself mid-way.
TEST(Replay, KilledChild) {
  const char* dir = std::getenv("TENANT_REPLAY_CHILD_DIR");
  const char* at = std::getenv("TENANT_REPLAY_KILL_AT");
  if (!dir || !at) GTEST_SKIP() << "only run by Replay.KillDuringReplayResumes";
  eventstore::rocksdb_options so;
  so.path = std::string(dir) + "/eventstore";
  so.read_only = true;
  auto store = eventstore::open_rocksdb_store(so);
  ASSERT_TRUE(store);
  replay_options o;
  o.path = std::string(dir) + "/projections";
  o.eventstore_path = so.path;  // the direct scan of the `events` column family
  o.batch_events = 16;
  o.persist_every_events = 100;
  const std::uint64_t kill_at = std::strtoull(at, nullptr, 10);
  o.after_batch = [kill_at](std::uint64_t pos) {
    if (pos >= kill_at) ::kill(::getpid(), SIGKILL);  // no clean shutdown of anything
  };
  (void)replay(**store, o);
  FAIL() << "not killed";
}

TEST(Replay, KillDuringReplayResumes) {
  temp_dir dir;
  world* wp = nullptr;
  std::unique_ptr<world> w;
  {
    eventstore::rocksdb_options so;
    so.path = dir.sub("eventstore");
    so.mode = eventstore::durability::os;
    auto store = eventstore::open_rocksdb_store(so);
    ASSERT_TRUE(store);
    w = std::make_unique<world>(**store, 23);
    wp = w.get();
    for (int i = 0; i < 800; ++i)
      w->step();
    (*store)->stop();
  }
  eventstore::rocksdb_options so;
  so.path = dir.sub("eventstore");
  so.read_only = true;
  auto store = eventstore::open_rocksdb_store(so);
  ASSERT_TRUE(store);
  const std::uint64_t head = (*store)->head();
  const std::uint64_t kill_at = head * 2 / 3;

  // A fresh process so that the kill leaves RocksDB exactly as a crash would.
  const std::string env_dir = "TENANT_REPLAY_CHILD_DIR=" + dir.str();
  const std::string env_at = "TENANT_REPLAY_KILL_AT=" + std::to_string(kill_at);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    envp.push_back(*e);
  envp.push_back(const_cast<char*>(env_dir.c_str()));
  envp.push_back(const_cast<char*>(env_at.c_str()));
  envp.push_back(nullptr);
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=Replay.KilledChild";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  replay_options o;
  o.path = dir.sub("projections");
  o.eventstore_path = dir.sub("eventstore");
  auto s = replay(**store, o);
  ASSERT_TRUE(s) << s.error().message();
  // Resumed from the last persisted point before the kill, not from the start, not past it.
  EXPECT_GT(s->resumed_from, 0u);
  EXPECT_LE(s->resumed_from, kill_at);
  EXPECT_EQ(s->position, head);
  auto m = open_model(**store, dir.sub("projections"));
  expect_model_matches(*wp, **store, *m);
  auto report = verify_against_replay(**store, dir.sub("projections"));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

// The offline replay folds in batches through its own write-back cache (rows read back after
// eviction, index entries computed from each batch's final state); verify folds the same log one
// event at a time through tenants_fold/members_fold, the live projector's code. Both must write
// the same bytes: every row, index entry and membership, on random logs, with batch and cache
// sizes that force evictions, reloads and several persist points.
class ReplayBatchProperty : public ::testing::TestWithParam<int> {};

TEST_P(ReplayBatchProperty, BatchPathEqualsTheOneEventPath) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  const int seed = GetParam();
  world w(*store, 100 + static_cast<std::uint64_t>(seed));
  // Profiles in both schemas: the one-pass decoder takes the current one, the codec's
  // upcasters the first (Unicode names and descriptions come from the world).
  w.v1_profiles = true;
  for (int i = 0; i < 600; ++i)
    w.step();
  std::set<std::uint32_t> schemas;
  auto all = store->read_all(1, 100'000);
  ASSERT_TRUE(all);
  for (const auto& r : *all)
    if (r.type == "TenantCreated") schemas.insert(r.schema_version);
  EXPECT_EQ(schemas, (std::set<std::uint32_t>{1, 2}));
  replay_options o;
  o.path = dir.sub("p");
  o.batch_events = static_cast<std::size_t>(1 + seed * 13);
  o.persist_every_events = static_cast<std::size_t>(50 + seed * 37);
  o.row_cache_bytes = seed % 2 == 0 ? 4'096 : 64u << 20;  // tiny: rows evicted and read back
  auto s = replay(*store, o);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->position, store->head());
  auto report = verify_against_replay(*store, dir.sub("p"));
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->tenants, w.expected.size());
  EXPECT_EQ(report->users, w.members.size());
  auto m = open_model(*store, dir.sub("p"));
  expect_model_matches(w, *store, *m);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReplayBatchProperty, ::testing::Values(0, 1, 2, 3));

TEST(ExportImport, RoundTripPreservesEveryEnvelope) {
  auto a = eventstore::make_memory_store();
  world w(*a, 31);
  for (int i = 0; i < 300; ++i)
    w.step();
  std::stringstream first;
  auto n = export_log(*a, first);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, a->head());

  auto b = eventstore::make_memory_store();
  first.seekg(0);
  auto imported = import_log(*b, first);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(*imported, a->head());
  EXPECT_EQ(b->head(), a->head());
  std::stringstream second;
  ASSERT_TRUE(export_log(*b, second));
  EXPECT_EQ(first.str(), second.str());  // positions, ids, versions, times, metadata, data
  auto ea = a->read_all(1, 100000);
  auto eb = b->read_all(1, 100000);
  ASSERT_TRUE(ea && eb);
  ASSERT_EQ(ea->size(), eb->size());
  for (std::size_t i = 0; i < ea->size(); ++i) {
    EXPECT_EQ((*ea)[i].event_id, (*eb)[i].event_id);
    EXPECT_EQ((*ea)[i].position, (*eb)[i].position);
    EXPECT_EQ((*ea)[i].version, (*eb)[i].version);
  }
  // Projections built from the imported log equal the original world.
  temp_dir dir;
  auto m = open_model(*b, dir.sub("p"));
  m->start();
  ASSERT_TRUE(wait_until(*m, b->head()));
  expect_model_matches(w, *b, *m);
}

std::vector<std::string> lines_of(eventstore::event_store& s) {
  std::stringstream ss;
  EXPECT_TRUE(export_log(s, ss));
  std::vector<std::string> out;
  std::string l;
  while (std::getline(ss, l))
    out.push_back(l);
  return out;
}

import_outcome import_lines(eventstore::event_store& s, const std::vector<std::string>& lines) {
  std::stringstream ss;
  for (const auto& l : lines)
    ss << l << '\n';
  return import_log(s, ss);
}

TEST(ExportImport, RefusesBadInputNamingTheLineAndWritesNothing) {
  auto a = eventstore::make_memory_store();
  world w(*a, 32);
  for (int i = 0; i < 30; ++i)
    w.step();
  const auto lines = lines_of(*a);
  ASSERT_GE(lines.size(), 10u);

  {  // a gap
    auto l = lines;
    l.erase(l.begin() + 4);
    auto b = eventstore::make_memory_store();
    auto r = import_lines(*b, l);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().line, 5u);
    EXPECT_NE(r.error().message.find("line 5"), std::string::npos) << r.error().message;
    EXPECT_EQ(b->head(), 0u);
  }
  {  // a malformed line
    auto l = lines;
    l[6] = "{\"event_id\": 12";
    auto b = eventstore::make_memory_store();
    auto r = import_lines(*b, l);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().line, 7u);
    EXPECT_EQ(b->head(), 0u);
  }
  {  // an empty line in the middle
    auto l = lines;
    l[2] = "";
    auto b = eventstore::make_memory_store();
    auto r = import_lines(*b, l);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().line, 3u);
  }
  {  // does not start at position 1
    auto l = lines;
    l.erase(l.begin());
    auto b = eventstore::make_memory_store();
    auto r = import_lines(*b, l);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().line, 1u);
  }
  {  // a non-empty store
    auto r = import_lines(*a, lines);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().line, 0u);
    EXPECT_NE(r.error().message.find("not empty"), std::string::npos);
  }
  {  // empty input: nothing to do
    auto b = eventstore::make_memory_store();
    auto r = import_lines(*b, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0u);
  }
}

TEST(Verify, MatchesAFreshReplayAndNamesWhatDiffers) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 41);
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  for (int i = 0; i < 300; ++i)
    w.step();
  ASSERT_TRUE(wait_until(*m, store->head()));
  // While the read model runs (secondary instance).
  auto report = verify_against_replay(*store, dir.sub("p"));
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->tenants, w.expected.size());
  EXPECT_EQ(report->users, w.members.size());
  m.reset();

  // Tamper with one row behind the projector's back.
  const auto victim = w.ids[3];
  {
    auto db = detail::projections_db::open({dir.sub("p"), 8u << 20, false});
    ASSERT_TRUE(db);
    auto gen = (*db)->active("tenants");
    ASSERT_TRUE(gen);
    auto key = *detail::tenant_key(victim);
    std::string row;
    ASSERT_TRUE((*db)->db()->Get({}, (*gen)->cfs[0], detail::as_view(key), &row).ok());
    auto v = *detail::decode_view(row);
    v.state.profile.name = "Tampered";
    ASSERT_TRUE(
        (*db)->db()->Put({}, (*gen)->cfs[0], detail::as_view(key), detail::encode_view(v)).ok());
  }
  report = verify_against_replay(*store, dir.sub("p"));
  ASSERT_TRUE(report);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find(victim.str()), std::string::npos) << report->problems[0];
}

}  // namespace
}  // namespace tenant::projections::test
