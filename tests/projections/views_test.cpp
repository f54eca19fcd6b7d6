// tenant_view::rendered (derived_bytes): bytes kept with an immutable view, first store wins,
// never carried over by a copy or an assignment, invisible to equality.
#include "tenant/projections/views.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace tenant::projections::test {
namespace {

TEST(DerivedBytes, FirstStoreWinsAndSlotsAreIndependent) {
  tenant_view v;
  EXPECT_EQ(v.rendered.get(0), nullptr);
  EXPECT_EQ(v.rendered.set(0, "first"), "first");
  EXPECT_EQ(v.rendered.set(0, "second"), "first");  // already set: the first bytes stay
  ASSERT_NE(v.rendered.get(0), nullptr);
  EXPECT_EQ(*v.rendered.get(0), "first");
  EXPECT_EQ(v.rendered.get(1), nullptr);
  EXPECT_EQ(v.rendered.set(derived_bytes::slot_count - 1, "last"), "last");
  EXPECT_EQ(v.rendered.get(1), nullptr);
}

TEST(DerivedBytes, CopiesAndAssignmentsStartEmptyAndEqualityIgnoresThem) {
  tenant_view a;
  a.state.profile.name = "Acme";
  a.rendered.set(0, "{\"name\":\"Acme\"}");
  tenant_view b = a;  // a copy of the fields, not of what was derived from them
  EXPECT_EQ(b.rendered.get(0), nullptr);
  EXPECT_EQ(a, b);
  tenant_view c = std::move(a);
  EXPECT_EQ(c.rendered.get(0), nullptr);
  // Assigning new fields to a view drops what was derived from the old ones.
  tenant_view d;
  d.rendered.set(0, "stale");
  d = b;
  EXPECT_EQ(d.rendered.get(0), nullptr);
  d.rendered.set(0, "x");
  d = std::move(c);
  EXPECT_EQ(d.rendered.get(0), nullptr);
  EXPECT_EQ(d.state.profile.name, "Acme");
}

TEST(DerivedBytes, ConcurrentReadersAllSeeOneValue) {
  // Many threads render the same shared view at once: one value wins, every thread returns it,
  // and the losers' copies are freed (ASan/TSan builds check the memory and the ordering).
  for (int round = 0; round < 20; ++round) {
    auto v = std::make_shared<const tenant_view>();
    std::atomic<int> ready{0};
    std::vector<const std::string*> seen(8, nullptr);
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t) {
      ts.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < 8) {
        }
        const std::string* got = v->rendered.get(2);
        if (got == nullptr) got = &v->rendered.set(2, "render-" + std::to_string(t));
        seen[static_cast<std::size_t>(t)] = got;
      });
    }
    for (auto& t : ts)
      t.join();
    for (const auto* s : seen) {
      EXPECT_EQ(s, seen[0]);
      EXPECT_EQ(s, v->rendered.get(2));
    }
    EXPECT_EQ(seen[0]->rfind("render-", 0), 0u);
  }
}

}  // namespace
}  // namespace tenant::projections::test
