// The provisioning process manager: TenantProvisioned exactly once per tenant, even when the
// manager is restarted between the append and its checkpoint; replays never re-fire it.
#include "tenant/projections/provisioning.hpp"

#include <gtest/gtest.h>

#include "model_support.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/tooling.hpp"

namespace tenant::projections::test {
namespace {

using namespace std::chrono_literals;

std::size_t count_provisioned(eventstore::event_store& store, const domain::tenant_id& id) {
  auto events = store.read_stream(id.str(), 1, 1000);
  EXPECT_TRUE(events);
  std::size_t n = 0;
  for (const auto& e : *events)
    n += e.type == "TenantProvisioned" ? 1 : 0;
  return n;
}

template <class Pred>
bool eventually(Pred p, std::chrono::seconds limit = 60s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

std::unique_ptr<read_model> open_model(eventstore::event_store& store, const std::string& path) {
  read_model_options o;
  o.path = path;
  auto m = read_model::open(store, o);
  if (!m) throw std::runtime_error("open: " + m.error().message());
  return std::move(*m);
}

TEST(Provisioning, ProvisionsEveryTenantExactlyOnce) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  eventstore::repository repo(*store);
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  world w(*store, 61);
  for (int i = 0; i < 40; ++i)
    w.create(i, i, domain::plan_tier::starter, "alice");
  auto pm = provisioning_manager::create(*store, *m, repository_issuer(repo));
  ASSERT_TRUE(pm);
  (*pm)->start();
  ASSERT_TRUE(
      eventually([&] { return (*pm)->status().checkpoint >= 40 && (*pm)->status().lag == 0; }));
  ASSERT_TRUE(wait_until(*m, store->head()));
  for (const auto& id : w.ids) {
    EXPECT_EQ(count_provisioned(*store, id), 1u) << id.str();
    auto v = m->find(id);
    ASSERT_TRUE(v && *v);
    EXPECT_EQ((*v)->state.status, domain::tenant_status::active);
    EXPECT_TRUE((*v)->state.provisioned);
    auto first = store->read_stream(id.str(), 1, 1);
    const auto expected_location = default_location_id(first->front().event_id);
    EXPECT_EQ((*v)->state.default_location_id, expected_location);
    auto loc = find_default_location(*m, id);
    ASSERT_TRUE(loc && *loc);
    EXPECT_EQ((*loc)->id, expected_location);
    EXPECT_EQ((*loc)->tenant, id);
    EXPECT_EQ((*loc)->name, "Default");
  }
  const auto s = (*pm)->status();
  EXPECT_EQ(s.name, "provisioning");
  EXPECT_EQ(s.kind, "process_manager");
  EXPECT_TRUE(s.error.empty());
  (*pm)->stop();
  repo.stop();
}

TEST(Provisioning, RestartBetweenAppendAndCheckpointDoesNotDuplicate) {
  temp_dir dir;
  auto store = eventstore::make_memory_store();
  eventstore::repository repo(*store);
  auto m = open_model(*store, dir.sub("p"));
  m->start();
  world w(*store, 62);
  for (int i = 0; i < 10; ++i)
    w.create(i, i, domain::plan_tier::starter, "bob");
  const auto head_before = store->head();

  // First run: the commands are appended, but every acknowledgement is "lost" (as if the
  // process died right after the append): its checkpoint never moves.
  std::atomic<int> issued{0};
  auto real = repository_issuer(repo);
  provision_issuer lossy = [&](const domain::tenant_id& id, domain::mark_provisioned cmd,
                               std::string seed, provision_done done) {
    ++issued;
    real(id, std::move(cmd), std::move(seed),
         [done](std::error_code) { done(make_error_code(errc::storage_unavailable)); });
  };
  provisioning_options po;
  po.retry_backoff = 10ms;
  {
    auto pm = provisioning_manager::create(*store, *m, lossy, po);
    ASSERT_TRUE(pm);
    (*pm)->start();
    ASSERT_TRUE(eventually([&] { return store->head() == head_before + 10 && issued > 20; }));
    (*pm)->stop();
    EXPECT_EQ((*pm)->status().checkpoint, 0u);
    EXPECT_FALSE((*pm)->status().error.empty());
  }
  // Second run, from the same (unmoved) checkpoint: everything re-issued, nothing appended.
  auto pm = provisioning_manager::create(*store, *m, repository_issuer(repo), po);
  ASSERT_TRUE(pm);
  (*pm)->start();
  ASSERT_TRUE(eventually([&] { return (*pm)->status().checkpoint >= head_before; }));
  EXPECT_EQ(store->head(), head_before + 10);
  for (const auto& id : w.ids)
    EXPECT_EQ(count_provisioned(*store, id), 1u);

  // A replay of the projections leaves the manager's checkpoint alone and appends nothing.
  ASSERT_TRUE(eventually([&] { return (*pm)->status().lag == 0; }));
  const auto cp = (*pm)->status().checkpoint;
  (*pm)->stop();
  pm = {};
  m.reset();
  replay_options ro;
  ro.path = dir.sub("p");
  ASSERT_TRUE(replay(*store, ro));
  m = open_model(*store, dir.sub("p"));
  auto again = provisioning_manager::create(*store, *m, repository_issuer(repo), po);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->status().checkpoint, cp);
  (*again)->start();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(store->head(), head_before + 10);
  (*again)->stop();
  repo.stop();
}

TEST(Provisioning, SeedsAndIdsAreDeterministic) {
  EXPECT_EQ(default_location_id("e1"), default_location_id("e1"));
  EXPECT_NE(default_location_id("e1"), default_location_id("e2"));
  EXPECT_EQ(provisioning_seed("e1"), "provisioning/e1");
}

}  // namespace
}  // namespace tenant::projections::test
