// The read model against the domain: random command sequences over many tenants go through
// decide into the store; the live projections must equal the fold of every stream, a fresh
// replay must equal the live projections field by field, and every list/count must agree with
// brute force.
#include "tenant/projections/read_model.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "model_support.hpp"

namespace tenant::projections::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<read_model> open_model(eventstore::event_store& store, const std::string& path,
                                       read_model_options o = {}) {
  o.path = path;
  auto m = read_model::open(store, o);
  if (!m) throw std::runtime_error("open: " + m.error().message());
  return std::move(*m);
}

void expect_views_match(const world& w, eventstore::event_store& store, const read_model& m) {
  for (const auto& [id, st] : w.expected) {
    const auto tid = *domain::tenant_id::parse(id);
    auto v = m.find(tid);
    ASSERT_TRUE(v);
    ASSERT_TRUE(*v) << id;
    EXPECT_EQ((*v)->state, st) << id;
    const auto head = store.read_stream_head(id);
    ASSERT_TRUE(head);
    EXPECT_EQ((*v)->last_position, head->last_position);
    const auto first = store.read_stream(id, 1, 1);
    ASSERT_TRUE(first && !first->empty());
    EXPECT_EQ((*v)->created_position, first->front().position);
    auto nb = m.try_find(tid);
    EXPECT_NE(nb.status, lookup_status::not_found);
    if (nb.status == lookup_status::found) {
      EXPECT_EQ(nb.view->state, st);
    }
    EXPECT_TRUE(m.exists(tid));
  }
}

void expect_members_match(const world& w, const read_model& m) {
  for (const auto& [user, entry] : w.members) {
    const auto& [set, current] = entry;
    const domain::user_id u(user);
    EXPECT_EQ(strs(m.tenants_of(u)), std::vector<std::string>(set.begin(), set.end())) << user;
    ASSERT_TRUE(m.current_tenant(u));
    EXPECT_EQ(m.current_tenant(u)->str(), current);
    for (const auto& id : w.ids)
      EXPECT_EQ(m.may_touch(u, id), set.contains(id.str()));
  }
  EXPECT_TRUE(m.tenants_of(domain::user_id("stranger")).empty());
  EXPECT_FALSE(m.current_tenant(domain::user_id("stranger")));
}

class ReadModelProperty : public ::testing::TestWithParam<int> {};

TEST_P(ReadModelProperty, LiveProjectionsEqualTheFoldAndAFreshReplay) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, static_cast<std::uint64_t>(GetParam()));
  read_model_options o;
  o.batch_events = 7;         // many small batches: more interleavings with the writer
  o.view_cache_entries = 16;  // most reads go to RocksDB
  auto live = open_model(*store, dir.sub("live"), o);
  live->start();
  // Restarts in the middle: the projector must resume from its checkpoint exactly.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 250; ++i)
      w.step();
    if (round == 1) {
      live->stop();
      live.reset();
      live = open_model(*store, dir.sub("live"), o);
      live->start();
    }
  }
  ASSERT_TRUE(wait_until(*live, store->head()));
  EXPECT_EQ(live->position(), store->head());
  expect_views_match(w, *store, *live);
  expect_members_match(w, *live);
  expect_lists_match(w, *live);

  // A fresh replay: a new database folding the whole log.
  auto fresh = open_model(*store, dir.sub("fresh"));
  fresh->start();
  ASSERT_TRUE(wait_until(*fresh, store->head()));
  for (const auto& id : w.ids) {
    auto a = live->find(id);
    auto b = fresh->find(id);
    ASSERT_TRUE(a && b && *a && *b);
    EXPECT_EQ(**a, **b);
  }
  list_query all;
  all.per_page = 100;
  EXPECT_EQ(live->count(all), fresh->count(all));
  for (std::uint64_t p = 1; p <= (w.ids.size() + 99) / 100; ++p) {
    all.page = p;
    EXPECT_EQ(strs(live->list_ids(all).ids), strs(fresh->list_ids(all).ids));
  }
  expect_members_match(w, *fresh);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReadModelProperty, ::testing::Values(1, 2));

TEST(ReadModel, RestartRebuildsTheIndexFromTheDatabaseNotTheLog) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 11);
  {
    auto m = open_model(*store, dir.sub("p"));
    m->start();
    for (int i = 0; i < 300; ++i)
      w.step();
    ASSERT_TRUE(wait_until(*m, store->head()));
  }
  // Opened but not started: nothing is read from the log, yet every query answers.
  auto m = open_model(*store, dir.sub("p"));
  EXPECT_EQ(m->position(), store->head());
  expect_views_match(w, *store, *m);
  expect_members_match(w, *m);
  expect_lists_match(w, *m);
}

TEST(ReadModel, PaginationEdges) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  list_query q;
  EXPECT_EQ(m->count(q), 0u);
  EXPECT_TRUE(m->list_ids(q).ids.empty());
  auto empty = m->list(q);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->total, 0u);

  world w(*store, 3);
  for (int i = 0; i < 205; ++i)
    w.create(0, 0, domain::plan_tier::starter, "u");
  ASSERT_TRUE(wait_until(*m, store->head()));
  q.per_page = 100;
  q.page = 3;  // the last page: 5 items
  auto last = m->list(q);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->total, 205u);
  ASSERT_EQ(last->items.size(), 5u);
  EXPECT_EQ(last->items.back()->state.id, w.ids.back());
  q.page = 4;  // past the end
  EXPECT_TRUE(m->list_ids(q).ids.empty());
  EXPECT_EQ(m->list_ids(q).total, 205u);
  q.page = UINT64_MAX;  // no overflow
  EXPECT_TRUE(m->list_ids(q).ids.empty());
  q.page = 1;
  q.per_page = 1000;  // clamped to 100
  EXPECT_EQ(m->list_ids(q).ids.size(), 100u);
}

TEST(ReadModel, InMemoryListIsTheListAndFollowsUpdates) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  world w(*store, 5);
  for (int i = 0; i < 150; ++i)
    w.create(static_cast<std::size_t>(i), static_cast<std::size_t>(i), domain::plan_tier::starter,
             "u");
  ASSERT_TRUE(wait_until(*m, store->head()));
  list_query q;
  q.per_page = 100;
  auto same_page = [&](const list_query& lq) {
    auto slow = m->list(lq);
    auto fast = m->try_list(lq);
    ASSERT_TRUE(slow);
    // Every view was just written by the projector, so all are in the view cache.
    ASSERT_TRUE(fast.has_value());
    EXPECT_EQ(fast->total, slow->total);
    ASSERT_EQ(fast->items.size(), slow->items.size());
    for (std::size_t i = 0; i < fast->items.size(); ++i)
      EXPECT_EQ(*fast->items[i], *slow->items[i]) << i;
  };
  for (std::uint64_t page : {1u, 2u, 3u}) {
    q.page = page;
    same_page(q);
  }
  // A view is immutable: an update publishes a new one, and the page shows it.
  q.page = 1;
  const auto before = m->try_list(q);
  ASSERT_TRUE(before && !before->items.empty());
  const auto first = before->items.front();
  w.run(first->state.id,
        domain::update_tenant{w.profile(9'999, 1, domain::plan_tier::starter), true, 0});
  ASSERT_TRUE(wait_until(*m, store->head()));
  const auto after = m->try_list(q);
  ASSERT_TRUE(after && !after->items.empty());
  EXPECT_EQ(after->items.front()->state.id, first->state.id);
  EXPECT_EQ(after->items.front()->state.version.value, first->state.version.value + 1);
  EXPECT_EQ(after->items.front()->state, w.expected[first->state.id.str()]);
  EXPECT_NE(after->items.front().get(), first.get());
  same_page(q);
  // Filters and visibility go through the same keys.
  q.name = w.expected[first->state.id.str()].profile.name;
  same_page(q);
  q.name.reset();
  q.visible = std::vector<domain::tenant_id>{w.ids[3], w.ids[140], w.ids[3]};
  same_page(q);
  EXPECT_EQ(m->try_list(q)->total, 2u);
}

TEST(ReadModel, UnknownAndMalformedIdsAreNotFound) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  auto m = open_model(*store, dir.sub("p"));
  const auto id = *domain::tenant_id::parse("tn_0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(m->try_find(id).status, lookup_status::not_found);
  auto v = m->find(id);
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  EXPECT_FALSE(m->exists(domain::tenant_id()));
  auto u = m->usage(id);
  ASSERT_TRUE(u);
  EXPECT_FALSE(*u);
}

TEST(ReadModel, ReadYourWritesWaitsAndTimesOut) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  auto m = open_model(*store, dir.sub("p"));
  // Before start nothing can advance: a waiter is refused at once.
  EXPECT_FALSE(wait_until(*m, 1, 10s));
  m->start();
  EXPECT_TRUE(wait_until(*m, 0));          // already there: inline
  EXPECT_FALSE(wait_until(*m, 5, 100ms));  // deadline
  std::promise<bool> p;
  auto f = p.get_future();
  m->wait_for_position(1, std::chrono::steady_clock::now() + 60s,
                       [&p](bool ok) { p.set_value(ok); });
  world w(*store, 4);
  w.create(1, 1, domain::plan_tier::professional, "alice");
  EXPECT_TRUE(f.get());
  EXPECT_GE(m->position(), 1u);
  // Pending waiters are completed with false by stop().
  std::promise<bool> p2;
  auto f2 = p2.get_future();
  m->wait_for_position(1000, std::chrono::steady_clock::now() + 3600s,
                       [&p2](bool ok) { p2.set_value(ok); });
  m->stop();
  EXPECT_FALSE(f2.get());
  EXPECT_FALSE(wait_until(*m, 1000, 10s));  // after stop: at once
}

TEST(ReadModel, MembershipRules) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  world w(*store, 5);
  const auto a = w.create(0, 0, domain::plan_tier::starter, "alice");
  const auto b = w.create(1, 1, domain::plan_tier::starter, "alice");
  const auto c = w.create(2, 2, domain::plan_tier::starter, "bob");
  ASSERT_TRUE(wait_until(*m, store->head()));
  const domain::user_id alice("alice"), bob("bob");
  // A creator belongs to what it creates, and the last creation is its current tenant.
  EXPECT_TRUE(m->may_touch(alice, a));
  EXPECT_TRUE(m->may_touch(alice, b));
  EXPECT_FALSE(m->may_touch(alice, c));
  EXPECT_EQ(m->current_tenant(alice)->str(), b.str());
  EXPECT_EQ(m->current_tenant(bob)->str(), c.str());
  // A switch adds the tenant and makes it current; earlier memberships stay.
  w.switch_user("bob", a);
  ASSERT_TRUE(wait_until(*m, store->head()));
  EXPECT_TRUE(m->may_touch(bob, a));
  EXPECT_TRUE(m->may_touch(bob, c));
  EXPECT_EQ(m->current_tenant(bob)->str(), a.str());
  EXPECT_EQ(m->tenants_of(bob).size(), 2u);
  // Deactivating a tenant does not remove memberships (it can be reactivated).
  w.run(a, domain::deactivate_tenant{std::nullopt, "bye"});
  ASSERT_TRUE(wait_until(*m, store->head()));
  EXPECT_TRUE(m->may_touch(alice, a));
}

TEST(ReadModel, UsageRules) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  domain::clock_time clock_now{std::chrono::milliseconds(1'769'904'000'000)};  // 2026-02-01
  read_model_options o;
  o.clock = [&clock_now] { return clock_now; };
  o.limits.professional = 20;
  auto m = open_model(*store, dir.sub("p"), o);
  m->start();
  world w(*store, 6);
  const auto id = w.create(0, 0, domain::plan_tier::professional, "alice");
  const auto ent = w.create(1, 1, domain::plan_tier::enterprise, "alice");
  ASSERT_TRUE(wait_until(*m, store->head()));

  auto u = m->usage(id);
  ASSERT_TRUE(u && *u);
  EXPECT_EQ((*u)->tenant_id, id);
  EXPECT_EQ((*u)->plan, domain::plan_tier::professional);
  EXPECT_EQ((*u)->seats_in_use, 0u);
  EXPECT_EQ((*u)->seat_limit, std::optional<std::uint32_t>(20));  // the configured plan limit
  EXPECT_FALSE((*u)->observed_at);
  EXPECT_EQ((*u)->events_recorded, 1u);
  EXPECT_EQ((*u)->seats_percent_used, std::optional<double>(0.0));

  const auto t1 = domain::clock_time(std::chrono::milliseconds(1'769'900'000'000));
  const auto t0 = t1 - std::chrono::minutes(5);
  auto r = m->apply_usage(id, 5, 1'000'000, t1);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  r = m->apply_usage(id, 9, 9, t0);  // older: ignored
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  r = m->apply_usage(id, 5, 1'000'000, t1);  // redelivered: idempotent
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(m->seats_in_use(id), 5u);
  u = m->usage(id);
  EXPECT_EQ((*u)->seats_in_use, 5u);
  EXPECT_EQ((*u)->storage_bytes, 1'000'000u);
  EXPECT_EQ((*u)->observed_at, t1);
  EXPECT_EQ((*u)->seats_percent_used, std::optional<double>(25.0));
  // Usage of a tenant not projected yet is kept.
  const auto later = *domain::tenant_id::parse("tn_0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
  ASSERT_TRUE(m->apply_usage(later, 1, 2, t1));
  EXPECT_EQ(m->seats_in_use(later), 1u);

  // Unlimited plan: seat_limit null, no percentage.
  auto e = m->usage(ent);
  EXPECT_FALSE((*e)->seat_limit);
  EXPECT_FALSE((*e)->seats_percent_used);

  // API calls: today and this month, by the injected UTC clock.
  for (int i = 0; i < 3; ++i)
    m->record_api_call(id);
  u = m->usage(id);
  EXPECT_EQ((*u)->api_calls_today, 3u);
  EXPECT_EQ((*u)->api_calls_month, 3u);
  clock_now += std::chrono::days(1);
  m->record_api_call(id);
  u = m->usage(id);
  EXPECT_EQ((*u)->api_calls_today, 1u);
  EXPECT_EQ((*u)->api_calls_month, 4u);
  clock_now += std::chrono::days(2);  // a read on a day without calls
  EXPECT_EQ((*m->usage(id))->api_calls_today, 0u);
  EXPECT_EQ((*m->usage(id))->api_calls_month, 4u);
  clock_now += std::chrono::days(30);  // next month
  EXPECT_EQ((*m->usage(id))->api_calls_month, 0u);
  clock_now -= std::chrono::days(30);

  // A plan change shows in the usage view; events_recorded follows the stream.
  w.run(id, domain::change_plan{domain::plan_tier::starter, 5});
  ASSERT_TRUE(wait_until(*m, store->head()));
  u = m->usage(id);
  EXPECT_EQ((*u)->plan, domain::plan_tier::starter);
  EXPECT_EQ((*u)->seat_limit, std::optional<std::uint32_t>(10));
  EXPECT_EQ((*u)->seats_percent_used, std::optional<double>(50.0));
  EXPECT_EQ((*u)->events_recorded, 2u);

  // Everything survives a restart (usage synced, counters flushed on stop).
  m->stop();
  m.reset();
  m = open_model(*store, dir.sub("p"), o);
  u = m->usage(id);
  ASSERT_TRUE(u && *u);
  EXPECT_EQ((*u)->seats_in_use, 5u);
  EXPECT_EQ((*u)->observed_at, t1);
  EXPECT_EQ((*u)->api_calls_month, 4u);
  EXPECT_EQ(m->seats_in_use(later), 1u);
  EXPECT_EQ(m->apply_usage(domain::tenant_id(), 1, 1, t1).error(),
            make_error_code(errc::invalid_argument));
}

TEST(ReadModel, StatusReportsCheckpointsAndLag) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 7);
  for (int i = 0; i < 20; ++i)
    w.step();
  auto m = open_model(*store, dir.sub("p"));
  auto st = m->status();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].name, "tenants");
  EXPECT_EQ(st[0].checkpoint, 0u);
  EXPECT_EQ(st[0].lag, store->head());
  EXPECT_FALSE(m->caught_up());
  m->start();
  ASSERT_TRUE(wait_until(*m, store->head()));
  st = m->status();
  for (const auto& s : st) {
    EXPECT_EQ(s.checkpoint, store->head());
    EXPECT_EQ(s.lag, 0u);
    EXPECT_EQ(s.kind, "projection");
    EXPECT_TRUE(s.error.empty());
  }
  EXPECT_TRUE(m->caught_up());
}

// A full disk fails a write of the projections' own database: RocksDB then refuses every
// write until it is resumed. The projector must report it, wait, and continue by itself once
// the files take writes again (no restart), and what it wrote after that must be durable.
TEST(ReadModel, ProjectorResumesAfterItsOwnDatabaseFailedAWrite) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  world w(*store, 11);
  for (int i = 0; i < 30; ++i)
    w.step();
  auto fault = std::make_shared<eventstore::write_fault>();
  read_model_options o;
  o.fault = fault;
  auto m = open_model(*store, dir.sub("p"), o);
  m->start();
  ASSERT_TRUE(wait_until(*m, store->head()));
  const auto before = store->head();

  fault->fail_writes = true;
  for (int i = 0; i < 30; ++i)
    w.step();
  ASSERT_GT(store->head(), before);
  // The fold of the new events fails: the projection reports why and stays at its checkpoint.
  std::string error;
  for (int i = 0; i < 3000 && error.empty(); ++i) {  // bounded: 30 s
    for (const auto& s : m->status())
      if (s.name == "tenants") error = s.error;
    if (error.empty()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(error.empty()) << "no error reported while the projections' files fail";
  EXPECT_NE(error.find("writing the projections failed"), std::string::npos) << error;
  EXPECT_FALSE(wait_until(*m, store->head(), 300ms));
  EXPECT_LT(m->status()[0].checkpoint, store->head());

  // Space returns: the projector resumes the database itself and catches up.
  fault->fail_writes = false;
  ASSERT_TRUE(wait_until(*m, store->head(), 30s)) << "the projector stayed behind";
  for (int i = 0; i < 10; ++i)
    w.step();
  ASSERT_TRUE(wait_until(*m, store->head(), 30s));
  expect_views_match(w, *store, *m);
  for (const auto& s : m->status())
    EXPECT_TRUE(s.error.empty()) << s.name << ": " << s.error;

  // What was written after the resume survives a restart.
  m->stop();
  m.reset();
  auto again = open_model(*store, dir.sub("p"));
  EXPECT_EQ(again->status()[0].checkpoint, store->head());
  expect_views_match(w, *store, *again);
}

TEST(ReadModel, SecondProcessIsRefusedWithLocked) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  auto m = open_model(*store, dir.sub("p"));
  read_model_options o;
  o.path = dir.sub("p");
  auto second = read_model::open(*store, o);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), make_error_code(errc::locked));
}

}  // namespace
}  // namespace tenant::projections::test
