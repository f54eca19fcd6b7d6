#pragma once
// Comparison helpers shared by the read-model tests: the expected list/count answers computed
// by brute force from the world's folded states.

#include <gtest/gtest.h>

#include <future>

#include "support.hpp"
#include "tenant/projections/read_model.hpp"
#include "tenant/projections/search_text.hpp"

namespace tenant::projections::test {

inline bool wait_until(read_model& m, std::uint64_t pos,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::promise<bool> p;
  auto f = p.get_future();
  m.wait_for_position(pos, std::chrono::steady_clock::now() + timeout,
                      [&p](bool ok) { p.set_value(ok); });
  return f.get();
}

/// Ids matching `q` by brute force over `w.expected`, in creation order.
inline std::vector<std::string> brute_force(const world& w, const list_query& q) {
  std::vector<std::string> out;
  std::set<std::string> vis;
  if (q.visible)
    for (const auto& id : *q.visible)
      vis.insert(id.str());
  for (const auto& id : w.ids) {
    const auto& s = w.expected.at(id.str());
    if (q.status && s.status != *q.status) continue;
    if (q.plan && s.subscription.plan != *q.plan) continue;
    if (q.name && fold_name(s.profile.name) != fold_name(*q.name)) continue;
    if (q.description && !description_matches(s.profile.description.value_or(""), *q.description))
      continue;
    if (q.visible && !vis.contains(id.str())) continue;
    out.push_back(id.str());
  }
  return out;
}

/// Every combination of the filters the test world can hit.
inline std::vector<list_query> all_filter_combinations(const world& w) {
  std::vector<list_query> out;
  const std::vector<std::optional<std::string>> names = {std::nullopt, "acme corp", "STRASSE GMBH",
                                                         "ünïcode ltd", "nobody"};
  const std::vector<std::optional<std::string>> descs = {std::nullopt, "new",  "YORK ne", "straßen",
                                                         "caf",        "東京", "zzz",     "!!"};
  std::vector<std::optional<domain::tenant_status>> statuses = {std::nullopt};
  for (int s = 1; s <= 4; ++s)
    statuses.push_back(static_cast<domain::tenant_status>(s));
  std::vector<std::optional<domain::plan_tier>> plans = {std::nullopt};
  for (int p = 1; p <= 3; ++p)
    plans.push_back(static_cast<domain::plan_tier>(p));
  std::vector<std::optional<std::vector<domain::tenant_id>>> visibles = {std::nullopt};
  std::vector<domain::tenant_id> half;
  for (std::size_t i = 0; i < w.ids.size(); i += 2)
    half.push_back(w.ids[i]);
  visibles.push_back(half);
  for (const auto& n : names)
    for (const auto& d : descs)
      for (const auto& s : statuses)
        for (const auto& p : plans)
          for (const auto& v : visibles) {
            list_query q;
            q.name = n;
            q.description = d;
            q.status = s;
            q.plan = p;
            q.visible = v;
            out.push_back(q);
          }
  return out;
}

inline std::vector<std::string> strs(const std::vector<domain::tenant_id>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids)
    out.push_back(id.str());
  return out;
}

/// list/count agree with each other and with brute force, at the first, a middle, the last and
/// a past-the-end page.
inline void expect_lists_match(const world& w, const read_model& m) {
  for (auto q : all_filter_combinations(w)) {
    const auto expect = brute_force(w, q);
    ASSERT_EQ(m.count(q), expect.size());
    for (std::uint64_t per_page : {3u, 100u}) {
      q.per_page = per_page;
      const std::uint64_t last = (expect.size() + per_page - 1) / per_page;
      for (std::uint64_t page :
           {std::uint64_t{1}, std::max<std::uint64_t>(last / 2, 1), last, last + 1}) {
        if (page == 0) continue;
        q.page = page;
        const auto got = m.list_ids(q);
        ASSERT_EQ(got.total, expect.size());
        std::vector<std::string> want;
        for (std::uint64_t i = (page - 1) * per_page; i < expect.size() && i < page * per_page; ++i)
          want.push_back(expect[i]);
        ASSERT_EQ(strs(got.ids), want) << "page " << page << " per_page " << per_page;
        // The in-memory page (the API's fast path, by keys) is the same page with the views,
        // whenever it can be served from memory.
        if (auto fast = m.try_list(q)) {
          EXPECT_EQ(fast->total, expect.size());
          std::vector<std::string> ids;
          for (const auto& v : fast->items) {
            ids.push_back(v->state.id.str());
            auto one = m.find(v->state.id);
            ASSERT_TRUE(one && *one);
            EXPECT_EQ(**one, *v);
          }
          EXPECT_EQ(ids, want) << "try_list page " << page << " per_page " << per_page;
        }
      }
    }
  }
}

}  // namespace tenant::projections::test
