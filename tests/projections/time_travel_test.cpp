#include "tenant/projections/time_travel.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

namespace tenant::projections::test {
namespace {

TEST(TimeTravel, StateAsOfAVersionOrATime) {
  auto store = eventstore::make_memory_store();
  world w(*store, 51);
  const auto id = w.create(0, 0, domain::plan_tier::starter, "alice");
  std::vector<domain::tenant_state> states = {w.expected[id.str()]};
  std::vector<domain::clock_time> times = {w.expected[id.str()].updated_at};
  w.run(id, domain::update_tenant{w.profile(1, 1, domain::plan_tier::starter), true, 0});
  states.push_back(w.expected[id.str()]);
  times.push_back(w.expected[id.str()].updated_at);
  w.run(id, domain::suspend_tenant{"ops"});
  states.push_back(w.expected[id.str()]);
  times.push_back(w.expected[id.str()].updated_at);
  w.run(id, domain::reactivate_tenant{});
  states.push_back(w.expected[id.str()]);
  times.push_back(w.expected[id.str()].updated_at);

  for (std::size_t v = 1; v <= states.size(); ++v) {
    auto r = view_at_version(*store, id, v);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->state, states[v - 1]) << v;
    EXPECT_EQ((*r)->state.version.value, v);
    EXPECT_EQ((*r)->created_position, 1u);
  }
  auto past_end = view_at_version(*store, id, 1000);
  EXPECT_EQ((*past_end)->state, states.back());
  EXPECT_FALSE(*view_at_version(*store, id, 0));

  for (std::size_t i = 0; i < times.size(); ++i) {
    auto r = view_at_time(*store, id, times[i]);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->state, states[i]);
    // Just before the next event: still this state.
    if (i + 1 < times.size()) {
      auto between = view_at_time(*store, id, times[i + 1] - std::chrono::milliseconds(1));
      EXPECT_EQ((*between)->state, states[i]);
    }
  }
  EXPECT_FALSE(*view_at_time(*store, id, times[0] - std::chrono::milliseconds(1)));
  const auto unknown = *domain::tenant_id::parse("tn_0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
  EXPECT_FALSE(*view_at_version(*store, unknown, 1));
  EXPECT_FALSE(*view_at_time(*store, unknown, times.back()));
}

}  // namespace
}  // namespace tenant::projections::test
