// The online rebuild: while commands keep coming and queries are served from the old copy, a
// shadow copy is folded from the log and swapped in once caught up.
#include <gtest/gtest.h>

#include <thread>

#include "model_support.hpp"

namespace tenant::projections::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<read_model> open_model(eventstore::event_store& store, const std::string& path) {
  read_model_options o;
  o.path = path;
  o.batch_events = 64;
  auto m = read_model::open(store, o);
  if (!m) throw std::runtime_error("open: " + m.error().message());
  return std::move(*m);
}

// No rebuild in progress and the tenants projection (index 0; memberships is 1) at `generation`.
bool rebuilt(const read_model& m, std::uint64_t generation, std::size_t which = 0) {
  const auto st = m.status();
  for (const auto& s : st)
    if (s.rebuild) return false;
  return st[which].generation >= generation;
}

template <class Pred>
bool eventually(Pred p, std::chrono::seconds limit = 120s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

TEST(OnlineRebuild, SwapsInWhileCommandsAndQueriesContinue) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 71);
  for (int i = 0; i < 600; ++i)
    w.step();
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  ASSERT_TRUE(wait_until(*m, store->head()));

  EXPECT_EQ(m->rebuild("nope"), make_error_code(errc::unknown_projection));
  ASSERT_FALSE(m->rebuild("all"));
  EXPECT_EQ(m->rebuild("tenants"), make_error_code(errc::busy));

  // Queries keep answering from the old copy while commands keep coming.
  std::atomic<bool> done{false};
  // A copy: the main thread's steps grow w.ids meanwhile (TSan caught the shared vector).
  const auto first = w.ids.front();
  std::thread reader([&] {
    list_query q;
    while (!done) {
      const auto total = m->count(q);
      EXPECT_GE(total, 1u);
      auto v = m->find(first);
      EXPECT_TRUE(v && *v);
    }
  });
  for (int i = 0; i < 300; ++i)
    w.step();
  ASSERT_TRUE(eventually([&] { return rebuilt(*m, 2, 0) && rebuilt(*m, 2, 1); }));
  done = true;
  reader.join();
  ASSERT_TRUE(wait_until(*m, store->head()));
  for (const auto& s : m->status())
    EXPECT_TRUE(s.error.empty()) << s.error;
  expect_lists_match(w, *m);
  for (const auto& [id, st] : w.expected) {
    auto v = m->find(*domain::tenant_id::parse(id));
    ASSERT_TRUE(v && *v);
    EXPECT_EQ((*v)->state, st);
  }
  // A second rebuild of one projection is accepted once the first is done.
  ASSERT_FALSE(m->rebuild("memberships"));
  ASSERT_TRUE(eventually([&] { return rebuilt(*m, 3, 1); }));
  EXPECT_EQ(m->status()[0].generation, 2u);
}

TEST(OnlineRebuild, InterruptedRebuildResumesAfterRestart) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 72);
  for (int i = 0; i < 800; ++i)
    w.step();
  {
    auto m = open_model(*store, dir.sub("p"));
    m->start();
    ASSERT_TRUE(wait_until(*m, store->head()));
    ASSERT_FALSE(m->rebuild("tenants"));
    // Stop at once: the shadow copy is left behind, partly built.
  }
  auto m = open_model(*store, dir.sub("p"));
  ASSERT_TRUE(m->status()[0].rebuild);
  m->start();  // resumes it
  ASSERT_TRUE(eventually([&] { return rebuilt(*m, 2); }, 10s)) << [&] {
    std::string out;
    for (const auto& st : m->status())
      out += st.name + " gen " + std::to_string(st.generation) + " cp " +
             std::to_string(st.checkpoint) + " rebuild " +
             (st.rebuild ? std::to_string(st.rebuild->generation) + "@" +
                               std::to_string(st.rebuild->checkpoint)
                         : "-") +
             " error '" + st.error + "'\n";
    return out;
  }();
  ASSERT_TRUE(wait_until(*m, store->head()));
  expect_lists_match(w, *m);
}

}  // namespace
}  // namespace tenant::projections::test
