// The list index against a brute-force model: random adds, status/plan changes, renames and
// description rewrites, then every filter combination at many offsets, including the pagination
// edges (empty result, last page, per_page 100, a page past the end).
#include "tenant_index.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tenant/projections/search_text.hpp"

namespace tenant::projections::detail {
namespace {

using domain::plan_tier;
using domain::tenant_status;

struct model_entry {
  uuid16 id{};
  tenant_status status = tenant_status::provisioning;
  plan_tier plan = plan_tier::starter;
  std::string name;  // folded
  std::vector<std::string> words;
};

uuid16 make_id(std::uint32_t i) {
  uuid16 u{};
  for (int b = 0; b < 4; ++b)
    u[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(i >> (8 * b));
  u[15] = 0x5a;
  return u;
}

const std::vector<std::string> vocabulary = {"new",  "newt",  "york", "yorkshire", "office",
                                             "data", "datum", "café", "straße",    "analytics"};
const std::vector<std::string> name_pool = {"acme", "globex", "initech", "hooli", "straße"};

std::vector<std::string> random_words(std::mt19937& rng) {
  std::vector<std::string> w;
  const auto n = rng() % 4;
  for (std::uint32_t i = 0; i < n; ++i)
    w.push_back(vocabulary[rng() % vocabulary.size()]);
  std::sort(w.begin(), w.end());
  w.erase(std::unique(w.begin(), w.end()), w.end());
  return w;
}

bool matches(const model_entry& e, const std::optional<std::string>& name,
             const std::vector<std::string>& words, std::optional<tenant_status> status,
             std::optional<plan_tier> plan, const std::optional<std::vector<std::uint32_t>>& vis,
             std::uint32_t ordinal) {
  if (status && e.status != *status) return false;
  if (plan && e.plan != *plan) return false;
  if (name && e.name != *name) return false;
  for (const auto& q : words) {
    bool any = false;
    for (const auto& w : e.words)
      any = any || (w.size() >= q.size() && w.compare(0, q.size(), q) == 0);
    if (!any) return false;
  }
  if (vis && !std::binary_search(vis->begin(), vis->end(), ordinal)) return false;
  return true;
}

class TenantIndexTest : public ::testing::TestWithParam<int> {};

TEST_P(TenantIndexTest, AgreesWithBruteForce) {
  std::mt19937 rng(static_cast<std::uint32_t>(GetParam()));
  tenant_index index(static_cast<std::uint64_t>(GetParam()));
  std::vector<model_entry> model;
  const int n = 300 + GetParam() * 700;  // crosses several Fenwick blocks of 512
  for (int step = 0; step < n * 2; ++step) {
    if (model.empty() || rng() % 2 == 0) {
      model_entry e;
      e.id = make_id(static_cast<std::uint32_t>(model.size()));
      e.status = static_cast<tenant_status>(1 + rng() % 4);
      e.plan = static_cast<plan_tier>(1 + rng() % 3);
      e.name = name_pool[rng() % name_pool.size()];
      e.words = random_words(rng);
      const auto o = index.add(e.id, *tenant_index::bucket_of(e.status, e.plan), e.name, e.words);
      ASSERT_EQ(o, model.size());
      model.push_back(e);
      continue;
    }
    const auto o = static_cast<std::uint32_t>(rng() % model.size());
    auto& e = model[o];
    switch (rng() % 3) {
      case 0:
        e.status = static_cast<tenant_status>(1 + rng() % 4);
        e.plan = static_cast<plan_tier>(1 + rng() % 3);
        index.set_bucket(o, *tenant_index::bucket_of(e.status, e.plan));
        break;
      case 1:
        e.name = name_pool[rng() % name_pool.size()];
        index.set_name(o, e.name);
        break;
      default:
        e.words = random_words(rng);
        index.set_words(o, e.words);
        break;
    }
  }
  ASSERT_EQ(index.size(), model.size());
  for (std::uint32_t o = 0; o < model.size(); ++o) {
    ASSERT_EQ(index.find(model[o].id), o);
    ASSERT_EQ(index.words_at(o), model[o].words);
  }
  EXPECT_EQ(index.find(make_id(999'999)), tenant_index::npos);

  // Every filter combination.
  const std::vector<std::optional<std::string>> names = {std::nullopt, "acme", "straße", "nobody"};
  // {"office"} and {"anal"} each name one word of the dictionary (one posting list: the slice
  // path when no other filter applies); {"new"} and {"dat"} are prefixes of two words.
  const std::vector<std::vector<std::string>> word_sets = {
      {}, {"new"}, {"york", "new"}, {"dat"}, {"caf", "str"}, {"zzz"}, {"office"}, {"anal"}};
  std::vector<std::optional<tenant_status>> statuses = {std::nullopt};
  for (int s = 0; s <= 4; ++s)
    statuses.push_back(static_cast<tenant_status>(s));
  std::vector<std::optional<plan_tier>> plans = {std::nullopt};
  for (int p = 1; p <= 3; ++p)
    plans.push_back(static_cast<plan_tier>(p));
  std::vector<std::uint32_t> some;
  for (std::uint32_t o = 0; o < model.size(); o += 3)
    some.push_back(o);
  const std::vector<std::optional<std::vector<std::uint32_t>>> visibles = {
      std::nullopt, some, std::vector<std::uint32_t>{}};

  for (const auto& name : names)
    for (const auto& ws : word_sets)
      for (const auto& st : statuses)
        for (const auto& pl : plans)
          for (const auto& vis : visibles) {
            std::vector<std::uint32_t> expect;
            for (std::uint32_t o = 0; o < model.size(); ++o)
              if (matches(model[o], name, ws, st, pl, vis, o)) expect.push_back(o);
            tenant_index::filter f;
            f.folded_name = name;
            f.words = ws;
            f.buckets = tenant_index::bucket_mask(st, pl);
            f.visible = vis;
            for (std::uint64_t per_page : {1u, 7u, 100u}) {
              const std::uint64_t pages = (expect.size() + per_page - 1) / per_page;
              for (std::uint64_t page :
                   {std::uint64_t{0}, pages / 2, pages ? pages - 1 : 0, pages, pages + 5}) {
                const auto r = index.query(f, page * per_page, per_page);
                ASSERT_EQ(r.total, expect.size());
                std::vector<std::uint32_t> want;
                for (std::uint64_t i = page * per_page;
                     i < expect.size() && i < (page + 1) * per_page; ++i)
                  want.push_back(expect[i]);
                ASSERT_EQ(r.ordinals, want)
                    << "name=" << name.value_or("-") << " words=" << ws.size() << " page=" << page
                    << " per_page=" << per_page;
              }
            }
          }
}

INSTANTIATE_TEST_SUITE_P(Seeds, TenantIndexTest, ::testing::Values(0, 1, 2));

TEST(TenantIndex, EmptyIndexAnswersEmptyPages) {
  tenant_index index;
  tenant_index::filter f;
  auto r = index.query(f, 0, 10);
  EXPECT_EQ(r.total, 0u);
  EXPECT_TRUE(r.ordinals.empty());
  f.buckets = tenant_index::bucket_mask(tenant_status::active, std::nullopt);
  EXPECT_EQ(index.query(f, 0, 10).total, 0u);
  f.words = {"x"};
  EXPECT_EQ(index.query(f, 0, 10).total, 0u);
}

TEST(TenantIndex, DeepPageOfABucketUsesSelectNotScan) {
  // 200k tenants alternating between two buckets: the last page of one bucket is exact.
  tenant_index index;
  const std::uint32_t n = 200'000;
  for (std::uint32_t i = 0; i < n; ++i)
    index.add(make_id(i), i % 2 == 0 ? 0 : 4, "n", {});
  tenant_index::filter f;
  f.buckets = 1u << 4;
  const auto r = index.query(f, n / 2 - 3, 10);
  EXPECT_EQ(r.total, n / 2);
  EXPECT_EQ(r.ordinals, (std::vector<std::uint32_t>{n - 5, n - 3, n - 1}));
  // Memory stays compact (well under 100 bytes per tenant for this shape).
  EXPECT_LT(index.memory_bytes() / n, 100u);
}

TEST(TenantIndex, DeepPageOfOneDescriptionWordIsASliceOfItsPostingList) {
  // 200k tenants, every third described "alpha ..."; the others "alphabet" (another word with
  // the same prefix) or nothing. "alpha" as a whole word is a prefix of both words; "alphab" of
  // one only.
  tenant_index index;
  const std::uint32_t n = 200'000;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::vector<std::string> words;
    if (i % 3 == 0) words = {"alpha", "logistics"};
    if (i % 3 == 1) words = {"alphabet"};
    index.add(make_id(i), static_cast<std::uint8_t>(i % 12), "n", words);
  }
  tenant_index::filter f;
  f.words = {"alphab"};
  auto r = index.query(f, n / 3 - 2, 10);  // the last three of 66 667
  EXPECT_EQ(r.total, n / 3 + 1);
  EXPECT_EQ(r.ordinals, (std::vector<std::uint32_t>{n - 7, n - 4, n - 1}));
  f.words = {"logistics"};
  r = index.query(f, n / 3, 10);  // a last page of one
  EXPECT_EQ(index.query(f, n / 3 + 1, 10).ordinals, std::vector<std::uint32_t>{});  // past the end
  EXPECT_EQ(r.total, n / 3 + 1);
  EXPECT_EQ(r.ordinals, (std::vector<std::uint32_t>{n - 2}));
  // A status filter as well: the scan path, the same answers.
  f.buckets = tenant_index::all_buckets & ~1u;  // not bucket 0 (every 12th tenant)
  r = index.query(f, 0, 3);
  EXPECT_EQ(r.ordinals, (std::vector<std::uint32_t>{3, 6, 9}));
  // Two words with the prefix: the union, in creation order.
  f.buckets = tenant_index::all_buckets;
  f.words = {"alpha"};
  r = index.query(f, 0, 4);
  EXPECT_EQ(r.total, 2 * (n / 3 + 1));
  EXPECT_EQ(r.ordinals, (std::vector<std::uint32_t>{0, 1, 3, 4}));
}

TEST(TenantIndex, RenamesKeepChainsOrdered) {
  tenant_index index;
  for (std::uint32_t i = 0; i < 10; ++i)
    index.add(make_id(i), 0, i % 2 ? "a" : "b", {});
  index.set_name(1, "b");  // an old tenant joins the middle of "b"'s chain
  index.set_name(8, "a");
  tenant_index::filter f;
  f.folded_name = "b";
  EXPECT_EQ(index.query(f, 0, 100).ordinals, (std::vector<std::uint32_t>{0, 1, 2, 4, 6}));
  f.folded_name = "a";
  EXPECT_EQ(index.query(f, 0, 100).ordinals, (std::vector<std::uint32_t>{3, 5, 7, 8, 9}));
}

}  // namespace
}  // namespace tenant::projections::detail
