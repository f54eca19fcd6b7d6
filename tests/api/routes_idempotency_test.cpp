// Idempotency-Key on the tenant commands, and the pure pieces behind it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "routes_support.hpp"
#include "tenant/api/idempotency.hpp"

namespace tenant::api::test {
namespace {

using v = http::verb;

const std::string create_body =
    R"({"name":"Acme Corp","plan":"starter","admin_email":"admin@acme.com"})";

TEST(RoutesIdempotency, ASecondCreateWithTheKeyReplaysTheFirstAnswer) {
  api_fixture f;
  auto a = f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(a.status(), 201u) << a.res.body();
  EXPECT_TRUE(a.header("Idempotent-Replayed").empty());
  auto b = f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(b.status(), 201u);
  EXPECT_EQ(b.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(b.res.body(), a.res.body());
  EXPECT_EQ(b.header("Location"), a.header("Location"));
  EXPECT_EQ(b.header("ETag"), a.header("ETag"));
  EXPECT_EQ(b.header("X-Event-Position"), a.header("X-Event-Position"));
  EXPECT_EQ(f.store().head(), 1u);  // one tenant, one event
}

// Concurrent requests with one key: one of them is the original, every other one is its replay
// (the same status, headers and body, plus Idempotent-Replayed), and one set of events.
void expect_one_original(const std::vector<api_fixture::reply>& replies) {
  std::size_t originals = 0;
  const api_fixture::reply* original = nullptr;
  for (const auto& r : replies) {
    if (r.header("Idempotent-Replayed").empty()) {
      ++originals;
      original = &r;
    } else {
      EXPECT_EQ(r.header("Idempotent-Replayed"), "true");
    }
  }
  ASSERT_EQ(originals, 1u) << "every answer but one must be a replay";
  for (const auto& r : replies) {
    EXPECT_EQ(r.status(), original->status());
    EXPECT_EQ(r.res.body(), original->res.body());
    for (const char* h : {"Location", "ETag", "X-Event-Position", "Content-Type"})
      EXPECT_EQ(r.header(h), original->header(h)) << h;
  }
}

TEST(RoutesIdempotency, ConcurrentCreatesWithOneKeyHaveOneOriginalAndReplays) {
  api_fixture f;
  for (int round = 0; round < 5; ++round) {
    const auto key = "race-" + std::to_string(round);
    const auto replies =
        f.call_concurrently(8, v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", key}});
    ASSERT_EQ(replies[0].status(), 201u) << replies[0].res.body();
    expect_one_original(replies);
    EXPECT_EQ(f.store().head(), static_cast<std::uint64_t>(round + 1)) << "one TenantCreated";
  }
}

TEST(RoutesIdempotency, ConcurrentCommandsAndRefusalsWithOneKeyHaveOneOriginal) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto head = f.store().head();
  expect_one_original(f.call_concurrently(8, v::post, "/api/v1/tenants/" + id + "/payments",
                                          R"({"status":"failed","payment_id":"p-1"})",
                                          {{"Idempotency-Key", "pay-race"}}));
  EXPECT_EQ(f.store().head(), head + 1);
  // A refusal (no event at all) is stored and replayed the same way.
  expect_one_original(f.call_concurrently(8, v::post, "/api/v1/tenants", R"({"name":"abc"})",
                                          {{"Idempotency-Key", "invalid-race"}}));
  // The switch appends on the caller's stream (alice's current tenant is her second one).
  const auto first = f.create("Alice First", {}, {{"X-Test-Sub", "alice"}});
  f.create("Alice Second", {}, {{"X-Test-Sub", "alice"}});
  const auto before_switch = f.store().head();
  expect_one_original(
      f.call_concurrently(8, v::put, "/api/v1/tenants/" + first + "/switch", {},
                          {{"Idempotency-Key", "switch-race"}, {"X-Test-Sub", "alice"}}));
  EXPECT_EQ(f.store().head(), before_switch + 1);
}

TEST(RoutesIdempotency, TheSameKeyWithAnotherRequestIsRefused) {
  api_fixture f;
  f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", "k-2"}});
  auto other = f.call(v::post, "/api/v1/tenants",
                      R"({"name":"Other Corp","plan":"starter","admin_email":"a@b.com"})",
                      {{"Idempotency-Key", "k-2"}});
  EXPECT_EQ(other.status(), 422u);
  EXPECT_EQ(other.str("code"), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_TRUE(other.obj().contains("errors"));
}

TEST(RoutesIdempotency, ClientErrorsAreReplayedToo) {
  api_fixture f;
  auto a = f.call(v::post, "/api/v1/tenants", R"({"name":"abc"})", {{"Idempotency-Key", "k-3"}});
  ASSERT_EQ(a.status(), 422u);
  auto b = f.call(v::post, "/api/v1/tenants", R"({"name":"abc"})", {{"Idempotency-Key", "k-3"}});
  EXPECT_EQ(b.status(), 422u);
  EXPECT_EQ(b.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(b.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(b.res.body(), a.res.body());
}

TEST(RoutesIdempotency, KeysAreScopedPerCaller) {
  api_fixture f;
  auto a = f.call(v::post, "/api/v1/tenants", create_body,
                  {{"Idempotency-Key", "shared"}, {"X-Test-Sub", "alice"}});
  auto b = f.call(v::post, "/api/v1/tenants", create_body,
                  {{"Idempotency-Key", "shared"}, {"X-Test-Sub", "bob"}});
  ASSERT_EQ(a.status(), 201u);
  ASSERT_EQ(b.status(), 201u);
  EXPECT_TRUE(b.header("Idempotent-Replayed").empty());
  EXPECT_NE(a.str("id"), b.str("id"));
}

TEST(RoutesIdempotency, CommandsOnATenantReplayWithoutApplyingTwice) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto target = "/api/v1/tenants/" + id + "/payments";
  const std::string body = R"({"status":"failed","payment_id":"pay-1"})";
  auto a = f.call(v::post, target, body, {{"Idempotency-Key", "pay"}});
  auto b = f.call(v::post, target, body, {{"Idempotency-Key", "pay"}});
  EXPECT_EQ(b.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(a.res.body(), b.res.body());
  EXPECT_EQ(f.store().head(), 2u);
  // Same key on another path is another request.
  EXPECT_EQ(
      f.call(v::post, "/api/v1/tenants/" + id + "/suspend", body, {{"Idempotency-Key", "pay"}})
          .status(),
      422u);
}

TEST(RoutesIdempotency, MalformedKeysAre400AndQueriesIgnoreKeys) {
  api_fixture f;
  EXPECT_EQ(f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", "a b"}}).status(),
            400u);
  EXPECT_EQ(
      f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", std::string(256, 'k')}})
          .status(),
      400u);
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants", {}, {{"Idempotency-Key", "a b"}}).status(), 200u);
}

TEST(RoutesIdempotency, TheEventIdSeedMakesARetryAfterALostRecordSafe) {
  api_fixture f;
  // A crash between the append and the record leaves the events without the answer. The retry
  // must address the same stream with the same event ids, so that the repository finds them
  // stored (its replay path) instead of appending again: both derive from the scoped key.
  auto a = f.call(v::post, "/api/v1/tenants", create_body,
                  {{"Idempotency-Key", "seeded"}, {"X-Test-Sub", "carol"}});
  const auto scoped = scoped_idempotency_key("carol", "seeded");
  const auto expected =
      domain::tenant_id::from_uuid(domain::uuid::derived("tenant/" + scoped)).str();
  EXPECT_EQ(a.str("id"), expected);
  auto stored = f.store().read_stream(expected, 0, 10);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].event_id, domain::uuid::derived(scoped + "/0").to_string());
}

TEST(RoutesIdempotency, ARetryThatFindsTheKeysEventsButNoRecordIsMarkedAsAReplay) {
  // The record expired (24 h) while the events stay: the retry is answered from the events the
  // key's seed names, which is the first run's answer, so it says so.
  // Records are stamped with the routes' clock (the system clock here).
  auto now = std::make_shared<std::atomic<std::int64_t>>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  routes_options o;
  o.store_clock = [now] { return domain::clock_time(std::chrono::milliseconds(now->load())); };
  api_fixture f(o);
  auto a = f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", "late"}});
  ASSERT_EQ(a.status(), 201u) << a.res.body();
  *now += std::chrono::milliseconds(std::chrono::hours(25)).count();
  auto b = f.call(v::post, "/api/v1/tenants", create_body, {{"Idempotency-Key", "late"}});
  EXPECT_EQ(b.status(), 201u) << b.res.body();
  EXPECT_EQ(b.str("id"), a.str("id"));
  EXPECT_EQ(b.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(f.store().head(), 1u);
}

TEST(Idempotency, PureParts) {
  EXPECT_TRUE(valid_idempotency_key("abc-123_XYZ:~"));
  EXPECT_FALSE(valid_idempotency_key(""));
  EXPECT_FALSE(valid_idempotency_key("tab\there"));
  EXPECT_FALSE(valid_idempotency_key(std::string(256, 'a')));
  EXPECT_TRUE(valid_idempotency_key(std::string(255, 'a')));
  EXPECT_NE(scoped_idempotency_key("ab", "c"), scoped_idempotency_key("a", "bc"));
  EXPECT_EQ(scoped_idempotency_key("a", "b").size(), 64u);

  auto r1 = make_request(http::verb::post, "/x?a=1", "{}", "application/json");
  auto r2 = make_request(http::verb::post, "/x?a=2", "{}", "application/json");
  auto r3 = make_request(http::verb::put, "/x?a=1", "{}", "application/json");
  auto r4 = make_request(http::verb::post, "/x?a=1", "{ }", "application/json");
  EXPECT_NE(request_fingerprint(r1), request_fingerprint(r2));
  EXPECT_NE(request_fingerprint(r1), request_fingerprint(r3));
  EXPECT_NE(request_fingerprint(r1), request_fingerprint(r4));
  EXPECT_EQ(request_fingerprint(r1), request_fingerprint(r1));

  response res{http::status::created, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::location, "http://h/x");
  res.set("X-Event-Position", "5");
  res.body() = R"({"a":"\u00e9"})";
  res.prepare_payload();
  auto back = parse_stored_response(serialize_response(res));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->result(), http::status::created);
  EXPECT_EQ(back->body(), res.body());
  EXPECT_EQ((*back)[http::field::location], "http://h/x");
  EXPECT_EQ((*back)["X-Event-Position"], "5");
  EXPECT_FALSE(parse_stored_response("not json"));
  EXPECT_FALSE(parse_stored_response(R"({"status":99,"headers":[],"body":""})"));
}

}  // namespace
}  // namespace tenant::api::test
