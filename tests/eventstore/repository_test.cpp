// The aggregate repository over both stores: results, no-ops, If-Match, retries on conflicts,
// snapshots, unique-domain claims, Idempotency-Key seeds, time travel.
#include "tenant/eventstore/repository.hpp"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "tenant/eventstore/codec.hpp"
#include "test_support.hpp"

namespace tenant::eventstore {
namespace {

using namespace std::chrono_literals;
using domain::tenant_id;

tenant_id tid(int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "tn_00000000-0000-7000-8000-%012d", n);
  return *tenant_id::parse(buf);
}

domain::command create(const tenant_id& id, std::optional<std::string> dom = std::nullopt) {
  domain::validated_profile p;
  p.profile.name = "Acme Corporation";
  p.profile.admin_email = "admin@acme.test";
  p.profile.domain = std::move(dom);
  p.plan = domain::plan_tier::professional;
  return domain::create_tenant{id, p, domain::user_id("alice")};
}

domain::command payment(std::string payment_id) {
  return domain::record_payment{true, std::move(payment_id), 1000, "EUR", ""};
}

execute_outcome run(repository& repo, const tenant_id& id, domain::command cmd,
                    execute_options opts = {}, std::thread::id* handler_thread = nullptr) {
  std::promise<execute_outcome> p;
  auto f = p.get_future();
  repo.execute(id, std::move(cmd), std::move(opts), [&p, handler_thread](execute_outcome o) {
    if (handler_thread) *handler_thread = std::this_thread::get_id();
    p.set_value(std::move(o));
  });
  return f.get();
}

/// Forwards to a real store; before forwarding an append to `target`, it first appends a
/// conflicting event to the same stream (`conflicts` times), so the repository's expected
/// version is stale for sure.
class conflicting_store final : public event_store {
 public:
  conflicting_store(event_store& inner, std::string target, int conflicts)
      : inner_(inner), target_(std::move(target)), conflicts_(conflicts) {}

  void append(append_request r, append_handler h) override {
    append_thread_.store(std::this_thread::get_id());
    if (r.stream_id == target_ && conflicts_ > 0) {
      --conflicts_;
      const domain::event e{domain::payment_succeeded{test::new_event_id(), 1, "EUR"},
                            domain::clock_time(std::chrono::milliseconds(1'767'000'000'000))};
      append_request c;
      c.stream_id = target_;
      c.events.push_back(codec::to_proposed(e, test::new_event_id()));
      EXPECT_TRUE(test::append_sync(inner_, std::move(c)).has_value());
    }
    inner_.append(std::move(r), std::move(h));
  }
  result<std::vector<recorded_event>> read_stream(std::string_view s, std::uint64_t v,
                                                  std::size_t l, direction d) override {
    return inner_.read_stream(s, v, l, d);
  }
  result<std::vector<recorded_event>> read_all(std::uint64_t p, std::size_t l) override {
    return inner_.read_all(p, l);
  }
  result<std::uint64_t> stream_version(std::string_view s) override {
    return inner_.stream_version(s);
  }
  result<std::optional<std::string>> unique_owner(std::string_view v) override {
    return inner_.unique_owner(v);
  }
  result<stream_head> read_stream_head(std::string_view s) override {
    return inner_.read_stream_head(s);
  }
  result<std::optional<recorded_event>> read_event(std::string_view id) override {
    return inner_.read_event(id);
  }
  std::uint64_t head() const override { return inner_.head(); }
  std::unique_ptr<subscription> subscribe(std::uint64_t p) override { return inner_.subscribe(p); }
  result<std::optional<std::uint64_t>> load_checkpoint(std::string_view n) override {
    return inner_.load_checkpoint(n);
  }
  std::error_code store_checkpoint(std::string_view n, std::uint64_t p) override {
    return inner_.store_checkpoint(n, p);
  }
  result<std::optional<idempotency_record>> load_idempotency(std::string_view k) override {
    return inner_.load_idempotency(k);
  }
  std::error_code store_idempotency(std::string_view k, idempotency_record r) override {
    return inner_.store_idempotency(k, std::move(r));
  }
  std::error_code store_snapshot(std::string_view s, std::uint64_t v, std::string st) override {
    return inner_.store_snapshot(s, v, std::move(st));
  }
  result<std::optional<std::pair<std::uint64_t, std::string>>> load_snapshot(
      std::string_view s) override {
    return inner_.load_snapshot(s);
  }
  store_stats stats() const override { return inner_.stats(); }
  void set_commit_observer(commit_observer o) override { inner_.set_commit_observer(std::move(o)); }
  void stop() override { inner_.stop(); }
  /// The thread that made the last append.
  std::thread::id append_thread() const { return append_thread_.load(); }

 private:
  std::atomic<std::thread::id> append_thread_{};
  event_store& inner_;
  std::string target_;
  std::atomic<int> conflicts_;
};

struct memory_impl {
  static std::unique_ptr<event_store> open(const std::filesystem::path&) {
    return make_memory_store();
  }
};
struct rocksdb_impl {
  static std::unique_ptr<event_store> open(const std::filesystem::path& dir) {
    rocksdb_options o;
    o.path = (dir / "eventstore").string();
    o.mode = durability::os;  // repository logic, not durability, is under test here
    auto s = open_rocksdb_store(o);
    EXPECT_TRUE(s.has_value());
    return s ? std::move(*s) : nullptr;
  }
};

template <class Impl>
class Repository : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Impl::open(dir_.path());
    ASSERT_NE(store_, nullptr);
    repo_ = std::make_unique<repository>(*store_, options());
  }
  repository_options options() {
    repository_options o;
    o.clock = clock_.fn();
    return o;
  }
  event_store& store() { return *store_; }
  repository& repo() { return *repo_; }

  test::temp_dir dir_;
  test::manual_clock clock_;
  std::unique_ptr<event_store> store_;
  std::unique_ptr<repository> repo_;
};

struct impl_names {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, memory_impl> ? "memory" : "rocksdb";
  }
};
using implementations = ::testing::Types<memory_impl, rocksdb_impl>;
TYPED_TEST_SUITE(Repository, implementations, impl_names);

TYPED_TEST(Repository, CommandsReturnTheNewStateTheEventsAndTheirPositions) {
  const auto a = tid(1);
  const auto created = run(this->repo(), a, create(a));
  ASSERT_TRUE(created.has_value()) << created.error().detail;
  EXPECT_TRUE(created->state().exists());
  EXPECT_EQ(created->state().version.value, 1u);
  ASSERT_EQ(created->events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<domain::tenant_created>(created->events[0].data));
  ASSERT_TRUE(created->append.has_value());
  EXPECT_EQ(created->append->first_position, 1u);
  EXPECT_EQ(created->position, 1u);

  const auto suspended = run(this->repo(), a, domain::suspend_tenant{"ops"});
  ASSERT_TRUE(suspended.has_value()) << suspended.error().detail;
  EXPECT_EQ(suspended->state().status, domain::tenant_status::suspended);
  EXPECT_EQ(suspended->state().version.value, 2u);
  EXPECT_EQ(suspended->position, 2u);

  // What was stored is what was returned.
  const auto stored = this->store().read_stream(a.str(), 1, 10).value();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].type, "TenantSuspended");
  EXPECT_EQ(codec::decode_event(stored[1]).value(), suspended->events[0]);
  EXPECT_EQ(this->repo().load(a).value().state, suspended->state());
}

TYPED_TEST(Repository, ANoOpReturnsTheCurrentStateAndTheStreamsLastPosition) {
  const auto a = tid(1), b = tid(2);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  ASSERT_TRUE(run(this->repo(), a, domain::suspend_tenant{"ops"}));
  ASSERT_TRUE(run(this->repo(), b, create(b)));  // the log moves on past a's last event
  const auto again = run(this->repo(), a, domain::suspend_tenant{"ops"});
  ASSERT_TRUE(again.has_value()) << again.error().detail;
  EXPECT_TRUE(again->events.empty());
  EXPECT_FALSE(again->append.has_value());
  EXPECT_EQ(again->position, 2u);
  EXPECT_EQ(again->state().status, domain::tenant_status::suspended);
  EXPECT_EQ(this->store().head(), 3u);
}

TYPED_TEST(Repository, DomainErrorsAreValues) {
  const auto a = tid(1);
  const auto missing = run(this->repo(), a, domain::suspend_tenant{"x"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().k, execute_error::kind::domain);
  EXPECT_EQ(missing.error().domain_error.code, domain::errc::tenant_not_found);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  const auto twice = run(this->repo(), a, create(a));
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().k, execute_error::kind::domain);
  EXPECT_EQ(this->store().head(), 1u);
}

TYPED_TEST(Repository, IfMatchOtherThanTheLoadedVersionIsPreconditionFailed) {
  const auto a = tid(1);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  execute_options stale;
  stale.expected_version = 5;
  const auto refused = run(this->repo(), a, domain::suspend_tenant{"x"}, stale);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().k, execute_error::kind::precondition_failed);
  EXPECT_EQ(refused.error().current_version, 1u);
  execute_options fresh;
  fresh.expected_version = 1;
  EXPECT_TRUE(run(this->repo(), a, domain::suspend_tenant{"x"}, fresh).has_value());
}

TYPED_TEST(Repository, AConflictingAppendIsRetriedAgainstTheNewState) {
  const auto a = tid(1);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  conflicting_store racing(this->store(), a.str(), 2);
  repository repo(racing, this->options());
  const auto out = run(repo, a, domain::suspend_tenant{"ops"});
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_EQ(repo.stats().retries, 2u);
  // Decided against the reloaded state: both injected payments are in it.
  EXPECT_EQ(out->state().version.value, 4u);
  EXPECT_EQ(out->state().seen_payment_ids.size(), 2u);
  EXPECT_EQ(out->append->first_version, 4u);
}

TYPED_TEST(Repository, RetriesAreBoundedAndIfMatchConflictsAreNotRetried) {
  const auto a = tid(1);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  auto opts = this->options();
  opts.max_retries = 3;
  conflicting_store always(this->store(), a.str(), 1000);
  repository repo(always, opts);
  const auto out = run(repo, a, domain::suspend_tenant{"ops"});
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().k, execute_error::kind::store);
  EXPECT_EQ(out.error().store_error, make_error_code(errc::wrong_expected_version));
  EXPECT_EQ(repo.stats().retries, 3u);

  execute_options if_match;
  if_match.expected_version = this->store().stream_version(a.str()).value();
  const auto precondition = run(repo, a, domain::suspend_tenant{"ops"}, if_match);
  ASSERT_FALSE(precondition.has_value());
  EXPECT_EQ(precondition.error().k, execute_error::kind::precondition_failed);
  EXPECT_EQ(precondition.error().current_version, *if_match.expected_version + 1);
}

TYPED_TEST(Repository, ConcurrentCommandsThroughOneRepositoryQueuePerTenant) {
  const auto a = tid(1), b = tid(2);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  ASSERT_TRUE(run(this->repo(), b, create(b)));
  constexpr int threads = 8, each = 15;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        const auto& id = (i + t) % 2 ? a : b;
        const auto o =
            run(this->repo(), id, payment("p-" + std::to_string(t) + "-" + std::to_string(i)));
        EXPECT_TRUE(o.has_value()) << o.error().detail;
      }
    });
  for (auto& t : ts)
    t.join();
  // One command per tenant at a time inside a repository: no append ever raced another.
  EXPECT_EQ(this->repo().stats().retries, 0u);
  const auto la = this->repo().load(a).value(), lb = this->repo().load(b).value();
  EXPECT_EQ(la.state.seen_payment_ids.size() + lb.state.seen_payment_ids.size(),
            static_cast<std::size_t>(threads * each));
  EXPECT_EQ(la.version + lb.version, static_cast<std::uint64_t>(2 + threads * each));
}

TYPED_TEST(Repository, TwoRepositoriesOnOneTenantNeverLoseOrDuplicateACommand) {
  const auto a = tid(1);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  // As the API and the Kafka consumer would, each with its own repository: their appends race
  // and the losers retry. Under this much contention some may run out of retries (409); none
  // may be lost or applied twice.
  repository other(this->store(), this->options());
  constexpr int threads = 6, each = 15;
  std::mutex mu;
  std::set<std::string> applied, refused;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      repository& r = t % 2 ? other : this->repo();
      for (int i = 0; i < each; ++i) {
        const std::string pid = "p-" + std::to_string(t) + "-" + std::to_string(i);
        const auto o = run(r, a, payment(pid));
        std::lock_guard lk(mu);
        if (o.has_value()) {
          applied.insert(pid);
        } else {
          EXPECT_EQ(o.error().store_error, make_error_code(errc::wrong_expected_version));
          refused.insert(pid);
        }
      }
    });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(applied.size() + refused.size(), static_cast<std::size_t>(threads * each));
  const auto loaded = this->repo().load(a).value();
  EXPECT_EQ(loaded.state.seen_payment_ids, applied);
  EXPECT_EQ(loaded.version, 1 + applied.size());
  std::printf(
      "two repositories: %zu applied, %zu refused after retries, %llu retries\n", applied.size(),
      refused.size(),
      static_cast<unsigned long long>(this->repo().stats().retries + other.stats().retries));
}

TYPED_TEST(Repository, SnapshotsEveryNEventsAndLoadsAgreeWithAFullFold) {
  auto opts = this->options();
  opts.snapshot_every = 10;
  auto repo = std::make_unique<repository>(this->store(), opts);
  const auto a = tid(1);
  ASSERT_TRUE(run(*repo, a, create(a)));
  for (int i = 0; i < 24; ++i)
    ASSERT_TRUE(run(*repo, a, payment("p" + std::to_string(i))));
  repo->stop();  // drains the pool: the snapshot tasks are done
  EXPECT_EQ(repo->stats().snapshots, 2u);
  const auto snap = this->store().load_snapshot(a.str()).value();
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->first, 20u);

  std::vector<domain::event> all;
  for (const auto& e : this->store().read_stream(a.str(), 1, 100).value())
    all.push_back(codec::decode_event(e).value());
  const auto folded = domain::fold(all);

  repository fresh(this->store(), opts);  // empty cache: snapshot + 5 events
  const auto loaded = fresh.load(a).value();
  EXPECT_EQ(loaded.version, 25u);
  EXPECT_EQ(loaded.last_position, 25u);
  EXPECT_EQ(loaded.state, folded);
  EXPECT_EQ(fresh.load_as_of(a, 20).value().state, domain::fold({all.begin(), all.begin() + 20}));
  EXPECT_EQ(fresh.load_as_of(a, 7).value().state, domain::fold({all.begin(), all.begin() + 7}));

  // A snapshot that cannot be decoded is ignored.
  ASSERT_FALSE(this->store().store_snapshot(a.str(), 20, "not a snapshot"));
  repository again(this->store(), opts);
  EXPECT_EQ(again.load(a).value().state, folded);
}

TYPED_TEST(Repository, TheDomainIsReservedReleasedAndReclaimed) {
  const auto a = tid(1), b = tid(2);
  ASSERT_TRUE(run(this->repo(), a, create(a, "acme.test")));
  EXPECT_EQ(this->store().unique_owner("acme.test").value(), std::optional<std::string>(a.str()));
  const auto dup = run(this->repo(), b, create(b, "acme.test"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().k, execute_error::kind::domain);
  EXPECT_EQ(dup.error().domain_error.code, domain::errc::duplicate_domain);
  EXPECT_EQ(this->store().stream_version(b.str()).value(), 0u);

  ASSERT_TRUE(run(this->repo(), a, domain::deactivate_tenant{std::nullopt, "bye"}));
  EXPECT_EQ(this->store().unique_owner("acme.test").value(), std::nullopt);
  ASSERT_TRUE(run(this->repo(), b, create(b, "acme.test")));
  const auto back = run(this->repo(), a, domain::reactivate_tenant{std::nullopt});
  ASSERT_FALSE(back.has_value());
  EXPECT_EQ(back.error().domain_error.code, domain::errc::duplicate_domain);
}

TYPED_TEST(Repository, ConcurrentCreatesWithOneDomainHaveOneWinner) {
  constexpr int contenders = 8;
  std::atomic<int> wins{0}, dups{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < contenders; ++i)
    ts.emplace_back([&, i] {
      const auto id = tid(100 + i);
      const auto o = run(this->repo(), id, create(id, "contested.test"));
      if (o.has_value()) wins.fetch_add(1);
      if (!o.has_value() && o.error().domain_error.code == domain::errc::duplicate_domain)
        dups.fetch_add(1);
    });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(dups.load(), contenders - 1);
}

TYPED_TEST(Repository, AnEventIdSeedTurnsARetriedRequestIntoAReplay) {
  const auto a = tid(1);
  execute_options keyed;
  keyed.event_id_seed = "alice/key-1";
  const auto first = run(this->repo(), a, create(a), keyed);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  const auto stored = this->store().read_stream(a.str(), 1, 1).value();
  EXPECT_EQ(stored[0].event_id, domain::uuid::derived("alice/key-1/0").to_string());

  const auto retried = run(this->repo(), a, create(a), keyed);  // would be "already exists"
  ASSERT_TRUE(retried.has_value()) << retried.error().detail;
  ASSERT_TRUE(retried->append.has_value());
  EXPECT_TRUE(retried->append->replayed);
  EXPECT_EQ(retried->append->first_position, first->append->first_position);
  EXPECT_EQ(retried->position, first->position);
  EXPECT_EQ(retried->state(), first->state());
  EXPECT_EQ(retried->events, first->events);
  EXPECT_EQ(this->store().head(), 1u);

  // Later commands leave the replayed answer as it was: the state after the keyed append.
  ASSERT_TRUE(run(this->repo(), a, domain::suspend_tenant{"x"}));
  const auto late = run(this->repo(), a, create(a), keyed);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->state().version.value, 1u);

  const auto b = tid(2);
  const auto elsewhere = run(this->repo(), b, create(b), keyed);
  ASSERT_FALSE(elsewhere.has_value());
  EXPECT_EQ(elsewhere.error().store_error, make_error_code(errc::duplicate_event_id));
}

// A keyed command goes to its append without looking for the key's earlier run; the earlier
// run is still the answer when the retry would now succeed on its own (the store finds the
// key's event ids) or would now fail its If-Match.
TYPED_TEST(Repository, AKeyedRetryReplaysEvenWhereItsCommandWouldSucceedAgain) {
  const auto a = tid(1);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  execute_options keyed;
  keyed.event_id_seed = "alice/key-2";
  keyed.expected_version = 1;
  const auto first = run(this->repo(), a, domain::suspend_tenant{"first"}, keyed);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  ASSERT_TRUE(first->append.has_value());
  EXPECT_FALSE(first->append->replayed);
  ASSERT_TRUE(run(this->repo(), a, domain::reactivate_tenant{}));  // suspend would succeed again
  const auto head = this->store().head();

  // If-Match 1 is stale now: still the first run's answer, not 412.
  const auto stale = run(this->repo(), a, domain::suspend_tenant{"first"}, keyed);
  ASSERT_TRUE(stale.has_value()) << stale.error().detail;
  ASSERT_TRUE(stale->append.has_value());
  EXPECT_TRUE(stale->append->replayed);
  EXPECT_EQ(stale->position, first->position);
  EXPECT_EQ(stale->state().version.value, 2u);
  EXPECT_EQ(stale->state().status, domain::tenant_status::suspended);

  // Without If-Match the suspend decides again; its append meets the key's stored event id.
  keyed.expected_version.reset();
  const auto again = run(this->repo(), a, domain::suspend_tenant{"first"}, keyed);
  ASSERT_TRUE(again.has_value()) << again.error().detail;
  ASSERT_TRUE(again->append.has_value());
  EXPECT_TRUE(again->append->replayed);
  EXPECT_EQ(again->position, first->position);
  EXPECT_EQ(again->state(), first->state());
  EXPECT_EQ(again->events, first->events);
  EXPECT_EQ(this->store().head(), head);  // nothing appended twice
  EXPECT_EQ(this->repo().load(a).value().state.status, domain::tenant_status::active);
}

TYPED_TEST(Repository, LoadAsOfVersionAndTime) {
  const auto a = tid(1);
  const auto t0 = this->clock_.now();
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  this->clock_.advance(1h);
  ASSERT_TRUE(run(this->repo(), a, domain::suspend_tenant{"x"}));
  this->clock_.advance(1h);
  ASSERT_TRUE(run(this->repo(), a, domain::reactivate_tenant{std::nullopt}));

  EXPECT_EQ(this->repo().load_as_of(a, 1).value().state.status,
            domain::tenant_status::provisioning);
  EXPECT_EQ(this->repo().load_as_of(a, 2).value().state.status, domain::tenant_status::suspended);
  EXPECT_EQ(this->repo().load_as_of(a, 99).value().version, 3u);
  EXPECT_EQ(this->repo().load_as_of(a, 2).value().last_position, 2u);
  EXPECT_FALSE(this->repo().load_as_of(a, 0).value().state.exists());

  EXPECT_FALSE(this->repo().load_as_of(a, t0 - 1ms).value().state.exists());
  EXPECT_EQ(this->repo().load_as_of(a, t0).value().version, 1u);
  EXPECT_EQ(this->repo().load_as_of(a, t0 + 90min).value().version, 2u);
  EXPECT_EQ(this->repo().load_as_of(a, t0 + 3h).value().version, 3u);
}

TYPED_TEST(Repository, TheCacheFollowsAppendsMadeBesideTheRepository) {
  const auto a = tid(1);
  ASSERT_TRUE(run(this->repo(), a, create(a)));
  ASSERT_TRUE(run(this->repo(), a, payment("p1")));
  EXPECT_GE(this->repo().stats().cache_hits, 1u);
  // An append straight to the store (another writer): the cached state is stale now.
  const domain::event e{domain::payment_succeeded{"p-direct", 1, "EUR"}, this->clock_.now()};
  append_request r;
  r.stream_id = a.str();
  r.events.push_back(codec::to_proposed(e, test::new_event_id()));
  ASSERT_TRUE(test::append_sync(this->store(), r));
  const auto out = run(this->repo(), a, payment("p2"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(this->repo().stats().retries, 0u);  // reloaded before deciding, no conflict
  EXPECT_EQ(out->state().version.value, 4u);
  EXPECT_TRUE(out->state().seen_payment_ids.contains("p-direct"));
}

// A command runs on the caller's thread as far as its append while the tenant is in memory (a
// new stream, a cached state); a tenant that must be read from the store is loaded on the pool.
TYPED_TEST(Repository, OnlyACommandThatNeedsNoReadAppendsFromTheCallersThread) {
  const auto me = std::this_thread::get_id();
  const auto a = tid(1);
  conflicting_store spy(this->store(), "", 0);
  {
    repository repo(spy, this->options());
    ASSERT_TRUE(run(repo, a, create(a)));
    EXPECT_EQ(spy.append_thread(), me);  // a new stream
    ASSERT_TRUE(run(repo, a, payment("p1")));
    EXPECT_EQ(spy.append_thread(), me);  // cached
  }
  auto uncached = this->options();
  uncached.cache_entries = 0;
  repository repo(spy, uncached);
  ASSERT_TRUE(run(repo, a, payment("p2")));
  EXPECT_NE(spy.append_thread(), std::thread::id{});
  EXPECT_NE(spy.append_thread(), me);  // folded from the store: not on the caller's thread
}

// The tenant is released before the handler runs: a command sent from the handler is not queued
// behind the one that finished, so it appends from the handler's own thread.
TYPED_TEST(Repository, ACommandSentFromAHandlerFindsItsTenantFree) {
  const auto a = tid(1);
  conflicting_store spy(this->store(), "", 0);
  repository repo(spy, this->options());
  ASSERT_TRUE(run(repo, a, create(a)));
  std::promise<std::pair<std::thread::id, std::thread::id>> threads;  // handler's, append's
  std::promise<execute_outcome> second;
  repo.execute(a, payment("p1"), {}, [&](execute_outcome first) {
    EXPECT_TRUE(first.has_value());
    repo.execute(a, payment("p2"), {},
                 [&second](execute_outcome o) { second.set_value(std::move(o)); });
    threads.set_value({std::this_thread::get_id(), spy.append_thread()});
  });
  const auto [handler_thread, append_thread] = threads.get_future().get();
  EXPECT_EQ(append_thread, handler_thread);
  const auto out = second.get_future().get();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->state().version.value, 3u);
}

// Whatever the answer, a handler never runs inside execute() on the caller's thread (callers
// may hold locks the handler takes).
TYPED_TEST(Repository, HandlersNeverRunOnTheCallersThread) {
  const auto me = std::this_thread::get_id();
  const auto a = tid(1);
  std::thread::id where;
  const auto missing = run(this->repo(), a, domain::suspend_tenant{"x"}, {}, &where);
  EXPECT_FALSE(missing.has_value());  // a domain error
  EXPECT_NE(where, me);
  ASSERT_TRUE(run(this->repo(), a, create(a), {}, &where));  // an append
  EXPECT_NE(where, me);
  execute_options stale;
  stale.expected_version = 5;
  EXPECT_FALSE(run(this->repo(), a, domain::suspend_tenant{"x"}, stale, &where));  // 412
  EXPECT_NE(where, me);
  ASSERT_TRUE(run(this->repo(), a, domain::suspend_tenant{"x"}));
  const auto noop = run(this->repo(), a, domain::suspend_tenant{"x"}, {}, &where);
  ASSERT_TRUE(noop.has_value());
  EXPECT_TRUE(noop->events.empty());  // a no-op
  EXPECT_NE(where, me);
  execute_options keyed;
  keyed.event_id_seed = "key-1";
  ASSERT_TRUE(run(this->repo(), a, payment("p3"), keyed, &where));
  EXPECT_NE(where, me);
  const auto replayed = run(this->repo(), a, payment("p3"), keyed, &where);  // the key's replay
  ASSERT_TRUE(replayed.has_value());
  EXPECT_NE(where, me);
  // A store that refuses the append at once (stopped) while the tenant is still cached.
  this->store().stop();
  const auto closed = run(this->repo(), a, payment("p4"), {}, &where);
  ASSERT_FALSE(closed.has_value());
  EXPECT_EQ(closed.error().store_error, make_error_code(errc::closed));
  EXPECT_NE(where, me);
}

// As the header says: with no pool thread left, the handler runs at once on the caller's thread.
TYPED_TEST(Repository, AfterStopCommandsCompleteWithClosed) {
  this->repo().stop();
  std::thread::id where;
  const auto out = run(this->repo(), tid(1), create(tid(1)), {}, &where);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().store_error, make_error_code(errc::closed));
  EXPECT_EQ(where, std::this_thread::get_id());
}

}  // namespace
}  // namespace tenant::eventstore
