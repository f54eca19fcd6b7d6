// The event-store contract (DESIGN.md "Event store", event_store.hpp), run against every
// implementation in a fresh temp dir.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>
#include <map>
#include <set>
#include <thread>

#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "test_support.hpp"

namespace tenant::eventstore {
namespace {

using namespace std::chrono_literals;
using test::append_sync;
using test::make_event;
using test::make_request;
using test::one_event;

struct store_config {
  store_clock clock;
  std::chrono::hours ttl{24};
  std::size_t idempotency_max = 1'000'000;
};

struct memory_impl {
  static std::unique_ptr<event_store> open(const std::filesystem::path&, const store_config& c) {
    memory_options o;
    o.clock = c.clock;
    o.idempotency_ttl = c.ttl;
    o.idempotency_max_entries = c.idempotency_max;
    return make_memory_store(o);
  }
};

struct rocksdb_impl {
  static std::unique_ptr<event_store> open(const std::filesystem::path& dir,
                                           const store_config& c) {
    rocksdb_options o;
    o.path = (dir / "eventstore").string();
    o.clock = c.clock;
    o.idempotency_ttl = c.ttl;
    o.idempotency_max_entries = c.idempotency_max;
    auto s = open_rocksdb_store(o);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
};

template <class Impl>
class EventStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.clock = clock_.fn();
    store_ = Impl::open(dir_.path(), config_);
    ASSERT_NE(store_, nullptr);
  }
  void reopen(store_config c) {
    store_.reset();
    c.clock = clock_.fn();
    config_ = c;
    store_ = Impl::open(dir_.path(), config_);
    ASSERT_NE(store_, nullptr);
  }
  event_store& store() { return *store_; }

  test::temp_dir dir_;
  test::manual_clock clock_;
  store_config config_;
  std::unique_ptr<event_store> store_;
};

struct impl_names {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, memory_impl> ? "memory" : "rocksdb";
  }
};

using implementations = ::testing::Types<memory_impl, rocksdb_impl>;
TYPED_TEST_SUITE(EventStoreContract, implementations, impl_names);

// ---- appends ----

TYPED_TEST(EventStoreContract, AppendAssignsVersionsAndPositionsAndStoresTheEnvelope) {
  auto req = make_request("tn_a", expected_version::no_stream(),
                          {make_event("TenantCreated", R"({"name":"Acme"})"),
                           make_event("TenantProvisioned", R"({"default_location_id":"l1"})")});
  req.tenant_id = "tn_a";
  const auto copy = req;
  const auto r = append_sync(this->store(), req);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->first_position, 1u);
  EXPECT_EQ(r->last_position, 2u);
  EXPECT_EQ(r->first_version, 1u);
  EXPECT_EQ(r->last_version, 2u);
  EXPECT_FALSE(r->replayed);
  EXPECT_EQ(this->store().head(), 2u);

  const auto events = this->store().read_stream("tn_a", 1, 10);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& e = (*events)[i];
    EXPECT_EQ(e.position, i + 1);
    EXPECT_EQ(e.version, i + 1);
    EXPECT_EQ(e.stream_id, "tn_a");
    EXPECT_EQ(e.tenant_id, "tn_a");
    EXPECT_EQ(e.event_id, copy.events[i].event_id);
    EXPECT_EQ(e.type, copy.events[i].type);
    EXPECT_EQ(e.occurred_at, copy.events[i].occurred_at);
    // The same bytes in every implementation: the one envelope codec.
    EXPECT_EQ(e.envelope_json,
              codec::encode_envelope(copy.events[i], "tn_a", "tn_a", i + 1, i + 1, copy.metadata));
    const auto env = codec::decode_envelope(e.envelope_json);
    ASSERT_TRUE(env.has_value());
    EXPECT_EQ(env->metadata.correlation_id, "corr-1");
    EXPECT_EQ(env->data_json, copy.events[i].data_json);
  }
}

TYPED_TEST(EventStoreContract, EmptyTenantIdDefaultsToStreamAndZeroTimeToCommitTime) {
  auto req = one_event("user-alice");
  req.events[0].occurred_at = {};
  ASSERT_TRUE(append_sync(this->store(), req).has_value());
  const auto events = this->store().read_all(1, 10);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().tenant_id, "user-alice");
  EXPECT_EQ(events->front().occurred_at, this->clock_.now());
}

TYPED_TEST(EventStoreContract, EventIdsAreStoredInCanonicalLowercase) {
  const std::string upper = "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B";
  ASSERT_TRUE(append_sync(this->store(), make_request("s", expected_version::any(),
                                                      {make_event("T", "{}", upper)}))
                  .has_value());
  const auto e = this->store().read_event("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->event_id, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
}

TYPED_TEST(EventStoreContract, ExpectedVersionNoStream) {
  ASSERT_TRUE(append_sync(this->store(), one_event("s", expected_version::no_stream())));
  const auto again = append_sync(this->store(), one_event("s", expected_version::no_stream()));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, errc::wrong_expected_version);
  EXPECT_EQ(again.error().actual_version, 1u);
}

TYPED_TEST(EventStoreContract, ExpectedVersionStreamExists) {
  const auto missing =
      append_sync(this->store(), one_event("s", expected_version::stream_exists()));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::wrong_expected_version);
  EXPECT_EQ(missing.error().actual_version, 0u);
  ASSERT_TRUE(append_sync(this->store(), one_event("s")));
  const auto ok = append_sync(this->store(), one_event("s", expected_version::stream_exists()));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->last_version, 2u);
}

TYPED_TEST(EventStoreContract, ExpectedVersionExact) {
  ASSERT_TRUE(append_sync(this->store(), one_event("s", expected_version::exact(0))));
  ASSERT_TRUE(append_sync(this->store(), one_event("s", expected_version::exact(1))));
  const auto stale = append_sync(this->store(), one_event("s", expected_version::exact(1)));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, errc::wrong_expected_version);
  EXPECT_EQ(stale.error().actual_version, 2u);
  const auto ahead = append_sync(this->store(), one_event("s", expected_version::exact(5)));
  ASSERT_FALSE(ahead.has_value());
  EXPECT_EQ(ahead.error().actual_version, 2u);
  EXPECT_EQ(this->store().stream_version("s").value(), 2u);
}

TYPED_TEST(EventStoreContract, ExpectedVersionAny) {
  ASSERT_TRUE(append_sync(this->store(), one_event("s", expected_version::any())));
  ASSERT_TRUE(append_sync(this->store(), one_event("s", expected_version::any())));
  EXPECT_EQ(this->store().stream_version("s").value(), 2u);
}

TYPED_TEST(EventStoreContract, FailedMultiEventAppendWritesNothingAndConsumesNoPosition) {
  ASSERT_TRUE(append_sync(this->store(), one_event("a")));
  const auto bad = append_sync(
      this->store(),
      make_request("b", expected_version::exact(3), {make_event(), make_event(), make_event()}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(this->store().head(), 1u);
  EXPECT_EQ(this->store().stream_version("b").value(), 0u);
  const auto good = append_sync(
      this->store(),
      make_request("b", expected_version::no_stream(), {make_event(), make_event(), make_event()}));
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->first_position, 2u);
  EXPECT_EQ(good->last_position, 4u);
  const auto all = this->store().read_all(1, 100);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 4u);
  for (std::size_t i = 0; i < all->size(); ++i)
    EXPECT_EQ((*all)[i].position, i + 1);
}

TYPED_TEST(EventStoreContract, InvalidRequestsAreRejectedAsValues) {
  const auto check = [&](append_request r, const char* what) {
    const auto o = append_sync(this->store(), std::move(r));
    ASSERT_FALSE(o.has_value()) << what;
    EXPECT_EQ(o.error().code, errc::invalid_argument) << what;
  };
  check(make_request("s", expected_version::any(), {}), "no events");
  check(make_request("", expected_version::any(), {make_event()}), "empty stream id");
  check(make_request(std::string(256, 'x'), expected_version::any(), {make_event()}),
        "stream id too long");
  check(make_request(std::string("a\0b", 3), expected_version::any(), {make_event()}),
        "NUL in stream id");
  check(make_request("s", expected_version::any(), {make_event("T", "{}", "not-a-uuid")}),
        "bad event id");
  const auto id = test::new_event_id();
  check(make_request("s", expected_version::any(),
                     {make_event("T", "{}", id), make_event("T", "{}", id)}),
        "repeated id");
  check(make_request("s", expected_version::any(), {make_event("", "{}")}), "empty type");
  check(make_request("s", expected_version::any(), {make_event("T", "[1,2]")}), "array data");
  check(make_request("s", expected_version::any(), {make_event("T", "{\"a\":")}), "truncated data");
  auto zero_schema = one_event("s");
  zero_schema.events[0].schema_version = 0;
  check(zero_schema, "schema 0");
  auto empty_claim = one_event("s");
  empty_claim.claims.push_back({unique_claim::op::claim, ""});
  check(empty_claim, "empty claim");
  EXPECT_EQ(this->store().head(), 0u);
  EXPECT_TRUE(append_sync(this->store(), one_event("s")).has_value());
  EXPECT_EQ(this->store().head(), 1u);
}

// ---- event-id idempotency ----

TYPED_TEST(EventStoreContract, RetriedAppendReturnsTheOriginalResultWhateverItExpected) {
  ASSERT_TRUE(append_sync(this->store(), one_event("other")));
  const auto req = make_request("s", expected_version::no_stream(), {make_event(), make_event()});
  const auto first = append_sync(this->store(), req);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(append_sync(this->store(), one_event("s")));  // the stream moves on

  const auto again = append_sync(this->store(), req);  // no_stream no longer holds
  ASSERT_TRUE(again.has_value()) << again.error().detail;
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->first_position, first->first_position);
  EXPECT_EQ(again->last_position, first->last_position);
  EXPECT_EQ(again->first_version, 1u);
  EXPECT_EQ(again->last_version, 2u);
  EXPECT_EQ(this->store().head(), 4u);
  EXPECT_EQ(this->store().stream_version("s").value(), 3u);
}

TYPED_TEST(EventStoreContract, EventIdStoredInAnotherStreamIsAnError) {
  const auto e = make_event();
  ASSERT_TRUE(append_sync(this->store(), make_request("a", expected_version::any(), {e})));
  const auto o = append_sync(this->store(), make_request("b", expected_version::any(), {e}));
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().code, errc::duplicate_event_id);
  EXPECT_EQ(this->store().stream_version("b").value(), 0u);
}

TYPED_TEST(EventStoreContract, PartiallyStoredEventIdsAreAnError) {
  const auto e1 = make_event();
  ASSERT_TRUE(append_sync(this->store(), make_request("a", expected_version::any(), {e1})));
  const auto o =
      append_sync(this->store(), make_request("a", expected_version::any(), {e1, make_event()}));
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().code, errc::duplicate_event_id);
  EXPECT_EQ(this->store().head(), 1u);
}

TYPED_TEST(EventStoreContract, DuplicateAppendsQueuedTogetherWriteOnce) {
  // Queued without waiting, so they usually share one batch: the second must see the first's
  // ids in the pending batch. The outcome is the same whether or not they do.
  const auto req = make_request("s", expected_version::no_stream(), {make_event()});
  std::promise<append_outcome> p1, p2, p3;
  this->store().append(req, [&](append_outcome o) { p1.set_value(std::move(o)); });
  this->store().append(req, [&](append_outcome o) { p2.set_value(std::move(o)); });
  auto other = req;
  other.stream_id = "t";
  this->store().append(other, [&](append_outcome o) { p3.set_value(std::move(o)); });
  const auto a = p1.get_future().get(), b = p2.get_future().get(), c = p3.get_future().get();
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(a->replayed);
  EXPECT_TRUE(b->replayed);
  EXPECT_EQ(b->first_position, a->first_position);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, errc::duplicate_event_id);
  EXPECT_EQ(this->store().head(), 1u);
}

// ---- unique claims ----

TYPED_TEST(EventStoreContract, UniqueClaimsAreHeldReleasedAndReclaimed) {
  auto create_a = one_event("tn_a", expected_version::no_stream());
  create_a.claims.push_back({unique_claim::op::claim, "acme.com"});
  ASSERT_TRUE(append_sync(this->store(), create_a));
  EXPECT_EQ(this->store().unique_owner("acme.com").value(), std::optional<std::string>("tn_a"));

  auto create_b = one_event("tn_b", expected_version::no_stream());
  create_b.claims.push_back({unique_claim::op::claim, "acme.com"});
  const auto dup = append_sync(this->store(), create_b);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, errc::duplicate_domain);
  EXPECT_EQ(this->store().stream_version("tn_b").value(), 0u);  // nothing of it written
  EXPECT_EQ(this->store().head(), 1u);

  auto again_a = one_event("tn_a");  // the holder claiming again is fine
  again_a.claims.push_back({unique_claim::op::claim, "acme.com"});
  ASSERT_TRUE(append_sync(this->store(), again_a));

  auto release_by_b = one_event("tn_c");  // releasing someone else's claim changes nothing
  release_by_b.claims.push_back({unique_claim::op::release, "acme.com"});
  ASSERT_TRUE(append_sync(this->store(), release_by_b));
  EXPECT_EQ(this->store().unique_owner("acme.com").value(), std::optional<std::string>("tn_a"));

  auto release = one_event("tn_a");
  release.claims.push_back({unique_claim::op::release, "acme.com"});
  ASSERT_TRUE(append_sync(this->store(), release));
  EXPECT_EQ(this->store().unique_owner("acme.com").value(), std::nullopt);
  ASSERT_TRUE(append_sync(this->store(), create_b).has_value());
  EXPECT_EQ(this->store().unique_owner("acme.com").value(), std::optional<std::string>("tn_b"));
}

TYPED_TEST(EventStoreContract, ReleaseAndClaimInOneAppendMovesTheValue) {
  auto a = one_event("tn_a");
  a.claims.push_back({unique_claim::op::claim, "old.com"});
  ASSERT_TRUE(append_sync(this->store(), a));
  auto change = one_event("tn_a");
  change.claims.push_back({unique_claim::op::release, "old.com"});
  change.claims.push_back({unique_claim::op::claim, "new.com"});
  ASSERT_TRUE(append_sync(this->store(), change));
  EXPECT_EQ(this->store().unique_owner("old.com").value(), std::nullopt);
  EXPECT_EQ(this->store().unique_owner("new.com").value(), std::optional<std::string>("tn_a"));
}

TYPED_TEST(EventStoreContract, ConcurrentClaimsOfOneValueHaveExactlyOneWinner) {
  constexpr int rounds = 20, contenders = 8;
  for (int round = 0; round < rounds; ++round) {
    const std::string value = "race" + std::to_string(round) + ".com";
    std::atomic<int> go{0}, wins{0}, dups{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < contenders; ++t) {
      threads.emplace_back([&, t] {
        auto r = one_event("tn_" + std::to_string(round) + "_" + std::to_string(t),
                           expected_version::no_stream());
        r.claims.push_back({unique_claim::op::claim, value});
        go.fetch_add(1);
        while (go.load() < contenders)
          std::this_thread::yield();
        const auto o = append_sync(this->store(), std::move(r));
        if (o.has_value()) wins.fetch_add(1);
        if (!o.has_value() && o.error().code == errc::duplicate_domain) dups.fetch_add(1);
      });
    }
    for (auto& th : threads)
      th.join();
    EXPECT_EQ(wins.load(), 1) << value;
    EXPECT_EQ(dups.load(), contenders - 1) << value;
  }
  EXPECT_EQ(this->store().head(), static_cast<std::uint64_t>(rounds));
}

// ---- concurrency ----

TYPED_TEST(EventStoreContract, ManyConcurrentAppendersGetContiguousPositions) {
  constexpr int threads = 16, appends = 60;
  std::mutex mu;
  std::vector<append_result> results;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < appends; ++i) {
        const std::size_t n = 1 + (i % 3);
        std::vector<proposed_event> evs;
        for (std::size_t k = 0; k < n; ++k)
          evs.push_back(make_event());
        // Half to a private stream with exact versions, half to one shared stream.
        const bool shared = i % 2 == 0;
        auto r = make_request(shared ? "shared" : "own" + std::to_string(t),
                              expected_version::any(), std::move(evs));
        const auto o = append_sync(this->store(), std::move(r));
        ASSERT_TRUE(o.has_value()) << o.error().detail;
        std::lock_guard lk(mu);
        results.push_back(*o);
      }
    });
  }
  for (auto& th : ts)
    th.join();

  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.first_position < b.first_position; });
  std::uint64_t next = 1;
  for (const auto& r : results) {
    EXPECT_EQ(r.first_position, next);
    EXPECT_EQ(r.last_position - r.first_position, r.last_version - r.first_version);
    next = r.last_position + 1;
  }
  EXPECT_EQ(this->store().head(), next - 1);

  const auto all = this->store().read_all(1, 100000);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), next - 1);
  std::map<std::string, std::uint64_t> versions;
  for (std::size_t i = 0; i < all->size(); ++i) {
    const auto& e = (*all)[i];
    EXPECT_EQ(e.position, i + 1);
    EXPECT_EQ(e.version, ++versions[e.stream_id]) << e.stream_id;
  }
  const auto st = this->store().stats();
  EXPECT_EQ(st.appends, static_cast<std::uint64_t>(threads * appends));
  EXPECT_EQ(st.events_appended, next - 1);
  EXPECT_GE(st.batches, 1u);
  EXPECT_LE(st.batches, st.appends);
}

TYPED_TEST(EventStoreContract, ConcurrentExactVersionAppendsToOneStreamNeverBothSucceed) {
  constexpr int threads = 8, attempts = 40;
  std::atomic<int> successes{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < attempts; ++i) {
        const auto v = this->store().stream_version("hot").value();
        const auto o = append_sync(this->store(), one_event("hot", expected_version::exact(v)));
        if (o.has_value()) {
          successes.fetch_add(1);
        } else {
          EXPECT_EQ(o.error().code, errc::wrong_expected_version);
        }
      }
    });
  }
  for (auto& th : ts)
    th.join();
  EXPECT_EQ(this->store().stream_version("hot").value(),
            static_cast<std::uint64_t>(successes.load()));
}

// ---- reads ----

TYPED_TEST(EventStoreContract, ReadStreamForwardAndBackwardWithLimits) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(append_sync(this->store(), one_event("s")));
    ASSERT_TRUE(append_sync(this->store(), one_event("noise")));
  }
  const auto versions = [](const std::vector<recorded_event>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& e : v)
      out.push_back(e.version);
    return out;
  };
  using V = std::vector<std::uint64_t>;
  EXPECT_EQ(versions(this->store().read_stream("s", 1, 100).value()), (V{1, 2, 3, 4, 5}));
  EXPECT_EQ(versions(this->store().read_stream("s", 0, 2).value()), (V{1, 2}));
  EXPECT_EQ(versions(this->store().read_stream("s", 4, 100).value()), (V{4, 5}));
  EXPECT_EQ(versions(this->store().read_stream("s", 6, 100).value()), V{});
  EXPECT_EQ(versions(this->store().read_stream("s", 5, 2, direction::backward).value()), (V{5, 4}));
  EXPECT_EQ(versions(this->store().read_stream("s", UINT64_MAX, 100, direction::backward).value()),
            (V{5, 4, 3, 2, 1}));
  EXPECT_EQ(versions(this->store().read_stream("s", 2, 100, direction::backward).value()),
            (V{2, 1}));
  EXPECT_EQ(versions(this->store().read_stream("s", 0, 100, direction::backward).value()), V{});
  EXPECT_EQ(versions(this->store().read_stream("s", 1, 0).value()), V{});
  EXPECT_TRUE(this->store().read_stream("missing", 1, 10).value().empty());
  const auto s = this->store().read_stream("s", 1, 100).value();
  for (std::size_t i = 0; i < s.size(); ++i)
    EXPECT_EQ(s[i].position, 2 * i + 1);
}

TYPED_TEST(EventStoreContract, ReadAllFromPositionWithLimit) {
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(append_sync(this->store(), one_event("s" + std::to_string(i % 3))));
  const auto page = this->store().read_all(3, 2).value();
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].position, 3u);
  EXPECT_EQ(page[1].position, 4u);
  EXPECT_EQ(this->store().read_all(0, 100).value().size(), 7u);
  EXPECT_EQ(this->store().read_all(7, 100).value().size(), 1u);
  EXPECT_TRUE(this->store().read_all(8, 100).value().empty());
  EXPECT_TRUE(this->store().read_all(1, 0).value().empty());
}

TYPED_TEST(EventStoreContract, StreamHeadAndReadEvent) {
  ASSERT_TRUE(append_sync(this->store(), one_event("a")));
  const auto req = make_request("b", expected_version::any(), {make_event(), make_event()});
  ASSERT_TRUE(append_sync(this->store(), req));
  const auto h = this->store().read_stream_head("b").value();
  EXPECT_EQ(h.version, 2u);
  EXPECT_EQ(h.last_position, 3u);
  EXPECT_EQ(this->store().read_stream_head("none").value().version, 0u);
  const auto e = this->store().read_event(req.events[1].event_id).value();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->position, 3u);
  EXPECT_EQ(e->stream_id, "b");
  EXPECT_FALSE(this->store().read_event(test::new_event_id()).value().has_value());
  EXPECT_FALSE(this->store().read_event("garbage").value().has_value());
}

// ---- subscriptions ----

TYPED_TEST(EventStoreContract, SubscriptionCatchesUpThenGoesLive) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(append_sync(this->store(), one_event("s")));
  auto sub = this->store().subscribe(1);
  EXPECT_EQ(sub->cursor(), 1u);
  // Backpressure: the subscriber pulls at most what it asks for.
  auto batch = sub->next(3, 0ms).value();
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.front().position, 2u);
  EXPECT_EQ(sub->cursor(), 4u);
  batch = sub->next(100, 0ms).value();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(sub->cursor(), 5u);
  EXPECT_TRUE(sub->next(100, 0ms).value().empty());

  // Live: a blocked next() is woken by the commit (its timeout is far longer than the test).
  std::promise<std::vector<recorded_event>> got;
  std::thread waiter([&] { got.set_value(sub->next(100, 60s).value()); });
  ASSERT_TRUE(append_sync(this->store(), one_event("s")));
  waiter.join();
  const auto live = got.get_future().get();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live.front().position, 6u);
}

TYPED_TEST(EventStoreContract, CancelWakesABlockedSubscriber) {
  auto sub = this->store().subscribe(0);
  std::promise<std::size_t> got;
  std::thread waiter([&] { got.set_value(sub->next(10, 60s).value().size()); });
  std::this_thread::sleep_for(20ms);  // lets the waiter block; the result does not depend on it
  sub->cancel();
  waiter.join();
  EXPECT_EQ(got.get_future().get(), 0u);
  ASSERT_TRUE(append_sync(this->store(), one_event("s")));
  EXPECT_TRUE(sub->next(10, 60s).value().empty());  // cancelled for good: returns at once
}

TYPED_TEST(EventStoreContract, ManySubscribersSeeEveryEventInOrder) {
  constexpr int subscribers = 4, events = 200;
  std::vector<std::thread> readers;
  std::vector<std::vector<std::uint64_t>> seen(subscribers);
  for (int s = 0; s < subscribers; ++s) {
    readers.emplace_back([&, s] {
      auto sub = this->store().subscribe(0);
      while (seen[s].size() < static_cast<std::size_t>(events)) {
        for (const auto& e : sub->next(7, 60s).value())
          seen[s].push_back(e.position);
      }
    });
  }
  std::thread writer([&] {
    for (int i = 0; i < events; ++i)
      ASSERT_TRUE(append_sync(this->store(), one_event("s" + std::to_string(i % 5))));
  });
  writer.join();
  for (auto& r : readers)
    r.join();
  for (const auto& v : seen) {
    ASSERT_EQ(v.size(), static_cast<std::size_t>(events));
    for (std::size_t i = 0; i < v.size(); ++i)
      EXPECT_EQ(v[i], i + 1);
  }
}

// ---- checkpoints, idempotency records, snapshots ----

TYPED_TEST(EventStoreContract, Checkpoints) {
  EXPECT_EQ(this->store().load_checkpoint("projection").value(), std::nullopt);
  EXPECT_FALSE(this->store().store_checkpoint("projection", 42));
  EXPECT_EQ(this->store().load_checkpoint("projection").value(), std::optional<std::uint64_t>(42));
  EXPECT_FALSE(this->store().store_checkpoint("projection", 43));
  EXPECT_FALSE(this->store().store_checkpoint("kafka", 7));
  EXPECT_EQ(this->store().load_checkpoint("projection").value(), std::optional<std::uint64_t>(43));
  EXPECT_EQ(this->store().load_checkpoint("kafka").value(), std::optional<std::uint64_t>(7));
  EXPECT_EQ(this->store().store_checkpoint("", 1), make_error_code(errc::invalid_argument));
}

TYPED_TEST(EventStoreContract, IdempotencyRecordsExpireAfterTheirTtl) {
  const auto rec = [&](std::string body) {
    return idempotency_record{"POST /tenants " + body, "201 " + body, {}};
  };
  ASSERT_FALSE(this->store().store_idempotency("k1", rec("a")));
  auto got = this->store().load_idempotency("k1").value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->request_fingerprint, "POST /tenants a");
  EXPECT_EQ(got->response, "201 a");
  EXPECT_EQ(got->stored_at, this->clock_.now());
  EXPECT_FALSE(this->store().load_idempotency("k2").value().has_value());

  this->clock_.advance(23h);
  EXPECT_TRUE(this->store().load_idempotency("k1").value().has_value());  // kept >= 24 h
  this->clock_.advance(1h + 1ms);
  EXPECT_FALSE(this->store().load_idempotency("k1").value().has_value());

  // A later store removes expired records for good: moving the clock back does not revive it.
  ASSERT_FALSE(this->store().store_idempotency("k3", rec("c")));
  this->clock_.advance(-25h);
  EXPECT_FALSE(this->store().load_idempotency("k1").value().has_value());
  EXPECT_EQ(this->store().store_idempotency("", rec("x")), make_error_code(errc::invalid_argument));
}

TYPED_TEST(EventStoreContract, IdempotencyRecordsAreBoundedOldestFirst) {
  store_config c;
  c.idempotency_max = 3;
  this->reopen(c);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_FALSE(this->store().store_idempotency("k" + std::to_string(i),
                                                 idempotency_record{"f", std::to_string(i), {}}));
    this->clock_.advance(1s);
  }
  EXPECT_FALSE(this->store().load_idempotency("k1").value().has_value());
  EXPECT_FALSE(this->store().load_idempotency("k2").value().has_value());
  for (int i = 3; i <= 5; ++i)
    EXPECT_TRUE(this->store().load_idempotency("k" + std::to_string(i)).value().has_value()) << i;
  // Overwriting a key does not grow the set.
  ASSERT_FALSE(this->store().store_idempotency("k5", idempotency_record{"f", "new", {}}));
  EXPECT_TRUE(this->store().load_idempotency("k3").value().has_value());
  EXPECT_EQ(this->store().load_idempotency("k5").value()->response, "new");
}

TYPED_TEST(EventStoreContract, SnapshotsKeepTheLatest) {
  EXPECT_FALSE(this->store().load_snapshot("tn_a").value().has_value());
  EXPECT_FALSE(this->store().store_snapshot("tn_a", 100, "state-100"));
  EXPECT_FALSE(this->store().store_snapshot("tn_a", 200, "state-200"));
  const auto s = this->store().load_snapshot("tn_a").value();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, 200u);
  EXPECT_EQ(s->second, "state-200");
  EXPECT_FALSE(this->store().load_snapshot("tn_b").value().has_value());
}

// ---- observer, stats, stop ----

TYPED_TEST(EventStoreContract, CommitObserverSeesEveryWrittenEvent) {
  std::atomic<std::size_t> events{0}, appends{0};
  this->store().set_commit_observer([&](std::size_t e, std::size_t a) {
    events.fetch_add(e);
    appends.fetch_add(a);
  });
  const auto req = make_request("s", expected_version::any(), {make_event(), make_event()});
  ASSERT_TRUE(append_sync(this->store(), req));
  ASSERT_TRUE(append_sync(this->store(), req));  // replay: writes nothing
  ASSERT_FALSE(append_sync(this->store(), one_event("s", expected_version::no_stream())));
  ASSERT_TRUE(append_sync(this->store(), one_event("t")));
  EXPECT_EQ(events.load(), 3u);
  EXPECT_EQ(appends.load(), 2u);
  const auto st = this->store().stats();
  EXPECT_EQ(st.appends, 3u);  // the replay succeeded too
  EXPECT_EQ(st.events_appended, 3u);
  EXPECT_EQ(st.failed_appends, 1u);
}

TYPED_TEST(EventStoreContract, StopCompletesQueuedAppendsAndRefusesLaterOnes) {
  constexpr int queued = 50;
  std::atomic<int> ok{0};
  for (int i = 0; i < queued; ++i)
    this->store().append(one_event("s"), [&](append_outcome o) {
      if (o.has_value()) ok.fetch_add(1);
    });
  this->store().stop();
  EXPECT_EQ(ok.load(), queued);
  const auto late = append_sync(this->store(), one_event("s"));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, errc::closed);
  // Reads keep working after stop; a caught-up subscriber returns at once.
  EXPECT_EQ(this->store().read_all(1, 1000).value().size(), static_cast<std::size_t>(queued));
  auto sub = this->store().subscribe(queued);
  EXPECT_TRUE(sub->next(10, 60s).value().empty());
  this->store().stop();  // idempotent
}

TYPED_TEST(EventStoreContract, SubscriptionOutlivingItsStoreReturnsEmpty) {
  ASSERT_TRUE(append_sync(this->store(), one_event("s")));
  auto sub = this->store().subscribe(0);
  this->store_.reset();
  EXPECT_TRUE(sub->next(10, 60s).value().empty());
}

}  // namespace
}  // namespace tenant::eventstore

namespace tenant::eventstore {
namespace {

// The envelope bytes are a contract (DESIGN.md, stored in `events`): the encoder's fast path for
// strings without escapes must write exactly what Boost.JSON's serializer writes, and strings
// that need escapes must still be escaped by it.
std::string reference_envelope(const proposed_event& e, std::string_view stream,
                               std::string_view tenant, std::uint64_t version,
                               std::uint64_t position, const event_metadata& m) {
  const auto str = [](std::string_view v) {
    return boost::json::serialize(boost::json::string_view(v.data(), v.size()));
  };
  std::string out = "{";
  out += "\"event_id\":" + str(e.event_id) + ",\"type\":" + str(e.type) +
         ",\"schema_version\":" + std::to_string(e.schema_version) +
         ",\"stream_id\":" + str(stream) + ",\"tenant_id\":" + str(tenant) +
         ",\"version\":" + std::to_string(version) + ",\"position\":" + std::to_string(position) +
         ",\"occurred_at\":" + str(domain::format_time(e.occurred_at)) +
         ",\"data\":" + (e.data_json.empty() ? std::string("{}") : e.data_json) +
         ",\"metadata\":{" + "\"correlation_id\":" + str(m.correlation_id) +
         ",\"causation_id\":" + str(m.causation_id) + ",\"actor\":" + str(m.actor) +
         ",\"traceparent\":" + str(m.traceparent) + "}}";
  return out;
}

TEST(EnvelopeCodec, EncodesByteForByteAsBoostJsonWithAndWithoutEscapes) {
  const std::vector<std::string> samples = {
      "",          "plain",   "quote\"inside", "back\\slash",
      "new\nline", "tab\t",   "\x01\x1f",      "caf\xc3\xa9 \xe2\x82\xac",
      "slash/ok",  "del\x7f", "{\"json\":1}"};
  std::uint64_t pos = 1;
  for (const auto& s : samples) {
    proposed_event e;
    e.event_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    e.type = "Type" + s;
    e.data_json = R"({"k":"v"})";
    e.occurred_at = domain::clock_time(std::chrono::milliseconds(1'767'000'000'123));
    event_metadata m;
    m.correlation_id = s;
    m.causation_id = "c-" + s;
    m.actor = s + "|actor";
    m.traceparent = s;
    const auto stream = "stream-" + s;
    const auto tenant = "tn_" + s;
    const auto got = codec::encode_envelope(e, stream, tenant, pos, pos * 1000 + 7, m);
    EXPECT_EQ(got, reference_envelope(e, stream, tenant, pos, pos * 1000 + 7, m)) << s;
    const auto env = codec::decode_envelope(got);
    ASSERT_TRUE(env.has_value()) << got;
    EXPECT_EQ(env->type, e.type);
    EXPECT_EQ(env->stream_id, stream);
    EXPECT_EQ(env->tenant_id, tenant);
    EXPECT_EQ(env->metadata.correlation_id, s);
    EXPECT_EQ(env->metadata.actor, m.actor);
    EXPECT_EQ(env->position, pos * 1000 + 7);
    ++pos;
  }
}

}  // namespace
}  // namespace tenant::eventstore
