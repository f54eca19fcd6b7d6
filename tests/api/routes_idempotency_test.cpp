// Idempotency-Key on the tenant commands, and the pure pieces behind it.
#include <gtest/gtest.h>

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
