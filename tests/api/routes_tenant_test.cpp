// The /api/v1 routes, driven through the router without sockets against the memory store, the
// real repository and the real read model.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <set>
#include <thread>
#include <tuple>

#include "routes_support.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::api::test {
namespace {

using v = http::verb;
namespace json = boost::json;

std::string code_of(const api_fixture::reply& r) {
  return r.body.is_object() ? r.str("code") : std::string();
}

TEST(RoutesTenant, CreateAnswers201WithTheFullResourceLocationAndVersionHeaders) {
  api_fixture f;
  auto r = f.call(v::post, "/api/v1/tenants",
                  R"({"name":"Acme Corp","plan":"professional","admin_email":"admin@acme.com",
                      "settings":{"timezone":"America/New_York","locale":"en-US","max_seats":50},
                      "country_code":"us","domain":"Acme.example"})");
  ASSERT_EQ(r.status(), 201u) << r.res.body();
  const auto id = r.str("id");
  EXPECT_EQ(id.rfind("tn_", 0), 0u);
  EXPECT_TRUE(domain::tenant_id::parse(id));
  EXPECT_EQ(r.header("Location"), "http://tenants.example.com/api/v1/tenants/" + id);
  EXPECT_EQ(r.header("ETag"), "\"1\"");
  EXPECT_EQ(r.header("X-Event-Position"), "1");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto& o = r.obj();
  EXPECT_EQ(r.str("name"), "Acme Corp");
  EXPECT_EQ(r.str("status"), "provisioning");
  EXPECT_EQ(r.str("plan"), "professional");
  EXPECT_EQ(r.str("admin_email"), "admin@acme.com");
  EXPECT_EQ(r.str("domain"), "acme.example");
  EXPECT_EQ(r.str("country_code"), "US");
  EXPECT_EQ(r.str("country_name"), "United States");
  EXPECT_EQ(o.at("version").as_int64(), 1);
  EXPECT_EQ(o.at("is_trashed").as_bool(), false);
  EXPECT_TRUE(o.at("user_status").is_null());
  EXPECT_TRUE(o.at("address").is_null());
  EXPECT_EQ(o.at("settings").at("max_seats").as_int64(), 50);
  EXPECT_EQ(o.at("settings").at("timezone").as_string(), "America/New_York");
  const auto& sub = o.at("subscription").as_object();
  EXPECT_EQ(sub.at("plan").as_string(), "professional");
  EXPECT_EQ(sub.at("status").as_string(), "trialing");
  EXPECT_TRUE(sub.at("cancelled_at").is_null());
  const auto created = domain::parse_time(r.str("created_at"));
  const auto trial = domain::parse_time(std::string(sub.at("trial_ends_at").as_string()));
  ASSERT_TRUE(created && trial);
  EXPECT_EQ(*trial - *created, std::chrono::days(14));
  for (const char* key : {"group_id", "group_name", "post_code", "description", "updated_at"})
    EXPECT_TRUE(o.contains(key)) << key;
}

TEST(RoutesTenant, CreateValidationAnswers422WithEveryFieldsMessages) {
  api_fixture f;
  auto r = f.call(v::post, "/api/v1/tenants",
                  R"({"name":"abc","country_code":"XX","settings":{"max_seats":"many"}})");
  ASSERT_EQ(r.status(), 422u);
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(code_of(r), "VALIDATION_FAILED");
  EXPECT_EQ(r.str("message"), "The given data was invalid.");
  const auto& errors = r.obj().at("errors").as_object();
  for (const char* key : {"name", "plan", "admin_email", "country_code", "settings.max_seats"})
    EXPECT_TRUE(errors.contains(key)) << key << " in " << r.res.body();
}

TEST(RoutesTenant, CreateRefusesBadBodiesWith400And415) {
  api_fixture f;
  EXPECT_EQ(f.call(v::post, "/api/v1/tenants", "{not json").status(), 400u);
  auto req = make_request(v::post, "/api/v1/tenants", R"({"name":"Acme Corp"})", "text/plain");
  request_context ctx(std::move(req));
  auto res = run_sync(f.routes().dispatch(ctx));
  EXPECT_EQ(static_cast<unsigned>(res.result()), 415u);
  EXPECT_NE(res.body().find("UNSUPPORTED_MEDIA_TYPE"), std::string::npos);
}

TEST(RoutesTenant, MaxSeatsAboveThePlansLimitIsPlanLimitExceeded) {
  api_fixture f;
  auto r = f.call(v::post, "/api/v1/tenants",
                  R"({"name":"Acme Corp","plan":"starter","admin_email":"a@acme.com",
                      "settings":{"max_seats":11}})");
  ASSERT_EQ(r.status(), 422u);
  EXPECT_EQ(code_of(r), "PLAN_LIMIT_EXCEEDED");
  EXPECT_TRUE(r.obj().at("errors").as_object().contains("settings.max_seats"));
}

TEST(RoutesTenant, ADomainHeldByALiveTenantIsDuplicateDomain) {
  api_fixture f;
  f.create("First Company", R"(,"domain":"shared.example")");
  auto r = f.call(v::post, "/api/v1/tenants",
                  R"({"name":"Second Company","plan":"starter","admin_email":"b@x.com",
                      "domain":"SHARED.example"})");
  EXPECT_EQ(r.status(), 409u);
  EXPECT_EQ(code_of(r), "DUPLICATE_DOMAIN");
}

TEST(RoutesTenant, GetRightAfterACommandSeesItWithoutAnyHint) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  // No X-Min-Position: reads by id are consistent with the log anyway.
  for (int i = 0; i < 20; ++i) {
    auto u = f.call(v::post, "/api/v1/tenants/" + id + "/payments",
                    R"({"status":"succeeded","payment_id":"p)" + std::to_string(i) + R"("})");
    ASSERT_EQ(u.status(), 200u) << u.res.body();
    auto g = f.call(v::get, "/api/v1/tenants/" + id);
    ASSERT_EQ(g.status(), 200u);
    EXPECT_EQ(g.header("ETag"), u.header("ETag"));
    EXPECT_EQ(g.obj().at("version").as_int64(), 2 + i);
  }
}

TEST(RoutesTenant, NewTenantIdsAreDistinctVersion7UuidsAcrossRandomRefills) {
  // Each id takes 10 random bytes from a per-thread 4 KiB draw of the CSPRNG: 450 creates
  // cross a refill. Ids are "tn_" + a UUID v7: the version nibble, the variant bits, and no
  // two random parts equal.
  api_fixture f;
  std::set<std::string> ids;
  std::set<std::string> random_parts;
  for (int i = 0; i < 450; ++i) {
    const auto id = f.create("Company " + std::to_string(i));
    ASSERT_EQ(id.size(), 39u) << id;
    EXPECT_EQ(id.substr(0, 3), "tn_");
    EXPECT_EQ(id[3 + 14], '7') << id;
    EXPECT_NE(std::string("89ab").find(id[3 + 19]), std::string::npos) << id;
    ids.insert(id);
    random_parts.insert(id.substr(3 + 15, 3) + id.substr(3 + 20));  // after the timestamp
  }
  EXPECT_EQ(ids.size(), 450u);
  EXPECT_EQ(random_parts.size(), 450u);
}

TEST(RoutesTenant, UnknownAndMalformedIdsAreTenantNotFound) {
  api_fixture f;
  auto missing = f.call(v::get, "/api/v1/tenants/tn_01890a5d-ac96-774b-bcce-b302099a8057");
  EXPECT_EQ(missing.status(), 404u);
  EXPECT_EQ(code_of(missing), "TENANT_NOT_FOUND");
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants/nope").status(), 404u);
  auto put = f.call(v::post, "/api/v1/tenants/tn_01890a5d-ac96-774b-bcce-b302099a8057/suspend");
  EXPECT_EQ(put.status(), 404u);
  EXPECT_EQ(code_of(put), "TENANT_NOT_FOUND");
}

TEST(RoutesTenant, UpdateReplacesTheProfileAndHonoursIfMatch) {
  api_fixture f;
  const auto id = f.create("Acme Corp", R"(,"description":"old","city":"Paris")");
  const std::string body =
      R"({"name":"Acme Renamed","plan":"starter","admin_email":"new@acme.com"})";
  auto stale = f.call(v::put, "/api/v1/tenants/" + id, body, {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status(), 412u);
  EXPECT_EQ(code_of(stale), "PRECONDITION_FAILED");
  EXPECT_EQ(stale.header("ETag"), "\"1\"");
  // A weak tag is well formed, and never matches (If-Match compares strongly).
  EXPECT_EQ(f.call(v::put, "/api/v1/tenants/" + id, body, {{"If-Match", "W/\"1\""}}).status(),
            412u);
  EXPECT_EQ(f.call(v::put, "/api/v1/tenants/" + id, body, {{"If-Match", "one"}}).status(), 400u);
  auto ok = f.call(v::put, "/api/v1/tenants/" + id, body, {{"If-Match", "\"1\""}});
  ASSERT_EQ(ok.status(), 200u) << ok.res.body();
  EXPECT_EQ(ok.str("name"), "Acme Renamed");
  EXPECT_EQ(ok.str("admin_email"), "new@acme.com");
  EXPECT_TRUE(ok.obj().at("description").is_null());  // PUT replaces: absent fields are cleared
  EXPECT_TRUE(ok.obj().at("city").is_null());
  EXPECT_EQ(ok.header("ETag"), "\"2\"");
  EXPECT_EQ(ok.obj().at("version").as_int64(), 2);
  // The same profile again is a no-op: same version, the stream's last position.
  auto again = f.call(v::put, "/api/v1/tenants/" + id, body);
  EXPECT_EQ(again.status(), 200u);
  EXPECT_EQ(again.header("ETag"), "\"2\"");
  EXPECT_EQ(again.header("X-Event-Position"), ok.header("X-Event-Position"));
  // A different plan in the PUT body is a plan change.
  auto up = f.call(v::put, "/api/v1/tenants/" + id,
                   R"({"name":"Acme Renamed","plan":"enterprise","admin_email":"new@acme.com"})");
  EXPECT_EQ(up.str("plan"), "enterprise");
  EXPECT_EQ(up.obj().at("version").as_int64(), 3);
}

// RFC 9110 §13.1.1: any well-formed entity tag that is not the tenant's ETag is a mismatch
// (412 with the current ETag); 400 only for what is not `*` nor a list of entity tags.
TEST(RoutesTenant, IfMatchOfOtherTagsIs412AndOfNoEntityTagAt400) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto plan = "/api/v1/tenants/" + id + "/plan";
  const std::string pro = R"({"plan":"professional"})";
  for (const std::string tag : {R"("abc")", R"("-1")", R"("")", R"(W/"1")", R"("01")", R"("1.0")",
                                R"("18446744073709551616")", R"( "2" , "3" )", R"(,"2",,)"}) {
    auto r = f.call(v::put, plan, pro, {{"If-Match", tag}});
    EXPECT_EQ(r.status(), 412u) << tag << " " << r.res.body();
    EXPECT_EQ(code_of(r), "PRECONDITION_FAILED") << tag;
    EXPECT_EQ(r.header("ETag"), "\"1\"") << tag;
  }
  for (const std::string garbage :
       {"one", "1", R"("1)", R"(*, "1")", R"("1" "2")", "W/1", ",", R"("a b")", "**"}) {
    auto r = f.call(v::put, plan, pro, {{"If-Match", garbage}});
    EXPECT_EQ(r.status(), 400u) << garbage << " " << r.res.body();
    EXPECT_EQ(code_of(r), "BAD_REQUEST") << garbage;
  }
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants/" + id).header("ETag"), "\"1\"") << "nothing changed";
  // A list matches when one of its tags is the ETag.
  auto listed = f.call(v::put, plan, pro, {{"If-Match", R"("abc", W/"1", "1")"}});
  ASSERT_EQ(listed.status(), 200u) << listed.res.body();
  EXPECT_EQ(listed.header("ETag"), "\"2\"");
  auto again = f.call(v::put, plan, R"({"plan":"enterprise"})", {{"If-Match", R"("7", "2")"}});
  EXPECT_EQ(again.status(), 200u) << again.res.body();
  EXPECT_EQ(again.header("ETag"), "\"3\"");
  // The same rules on the switch and on the TMS update.
  EXPECT_EQ(
      f.call(v::put, "/api/v1/tenants/" + id + "/switch", {}, {{"If-Match", R"("x")"}}).status(),
      412u);
  EXPECT_EQ(
      f.call(v::put, "/v1/tenants/" + id + "/switch", {}, {{"If-Match", R"("2", "3")"}}).status(),
      200u);
  EXPECT_EQ(f.call(v::put, "/v1/tenants/" + id, R"({"name":"Acme Again"})", {{"If-Match", "\"\""}})
                .status(),
            412u);
  EXPECT_EQ(
      f.call(v::put, "/v1/tenants/" + id, R"({"name":"Acme Again"})", {{"If-Match", "3"}}).status(),
      400u);
}

// A tenant that does not exist is 404 whatever If-Match says: a precondition does not apply to
// a request that fails without it (RFC 9110 §13.2.1). Creates have nothing to match (412).
TEST(RoutesTenant, IfMatchOnAMissingTenantIs404AndOnACreate412) {
  api_fixture f;
  const std::string missing = "tn_0190b1a0-0000-7000-8000-0000000000ff";
  for (const std::string tag : {R"("1")", "*", R"("abc")", R"("0")", R"("1", "2")"}) {
    for (const auto& [method, path, body] : std::vector<std::tuple<v, std::string, std::string>>{
             {v::put, "/api/v1/tenants/" + missing + "/plan", R"({"plan":"professional"})"},
             {v::post, "/api/v1/tenants/" + missing + "/suspend", ""},
             {v::put, "/api/v1/tenants/" + missing + "/switch", ""},
             {v::put, "/v1/tenants/" + missing, R"({"name":"Acme Again"})"},
             {v::put, "/v1/tenants/" + missing + "/deactivate", ""}}) {
      auto r = f.call(method, path, body, {{"If-Match", tag}});
      EXPECT_EQ(r.status(), 404u) << tag << " " << path << " " << r.res.body();
      EXPECT_EQ(code_of(r), "TENANT_NOT_FOUND") << tag << " " << path;
      EXPECT_EQ(r.header("ETag"), "") << tag << " " << path;
    }
  }
  const std::string create =
      R"({"name":"Acme Corp","plan":"starter","admin_email":"admin@example.com"})";
  EXPECT_EQ(f.call(v::post, "/api/v1/tenants", create, {{"If-Match", "*"}}).status(), 412u);
  EXPECT_EQ(f.call(v::post, "/api/v1/tenants", create, {{"If-Match", "nonsense"}}).status(), 400u);
  EXPECT_EQ(f.call(v::post, "/v1/tenants", R"({"name":"Acme Corp"})", {{"If-Match", "*"}}).status(),
            412u);
  EXPECT_EQ(f.store().head(), 0u);
}

TEST(RoutesTenant, SuspendedTenantsRefuseWritesButNotTheExceptions) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto base = "/api/v1/tenants/" + id;
  auto s = f.call(v::post, base + "/suspend", R"({"reason":"fraud check"})");
  ASSERT_EQ(s.status(), 200u);
  EXPECT_EQ(s.str("status"), "suspended");
  auto again = f.call(v::post, base + "/suspend");
  EXPECT_EQ(again.status(), 200u);  // no-op
  EXPECT_EQ(again.header("ETag"), s.header("ETag"));
  EXPECT_EQ(again.header("X-Event-Position"), s.header("X-Event-Position"));
  auto upd = f.call(v::put, base + "/plan", R"({"plan":"professional"})");
  EXPECT_EQ(upd.status(), 403u);
  EXPECT_EQ(code_of(upd), "TENANT_SUSPENDED");
  auto sw = f.call(v::put, base + "/switch");
  EXPECT_EQ(sw.status(), 403u);
  EXPECT_EQ(f.call(v::post, base + "/payments", R"({"status":"failed","payment_id":"x"})").status(),
            200u);
  auto r = f.call(v::post, base + "/reactivate");
  EXPECT_EQ(r.status(), 200u);
  EXPECT_EQ(r.str("status"), "active");
}

TEST(RoutesTenant, DeactivateAndActivateCarryUserStatus) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto base = "/api/v1/tenants/" + id;
  auto d = f.call(v::delete_, base + "?user_status=2");
  ASSERT_EQ(d.status(), 200u) << d.res.body();
  EXPECT_EQ(d.str("status"), "deactivated");
  EXPECT_TRUE(d.obj().at("is_trashed").as_bool());
  EXPECT_EQ(d.obj().at("user_status").as_int64(), 2);
  auto plan = f.call(v::put, base + "/plan", R"({"plan":"professional"})");
  EXPECT_EQ(plan.status(), 409u);
  EXPECT_EQ(code_of(plan), "TENANT_DEACTIVATED");
  auto bad = f.call(v::put, base + "/activate", R"({"user_status":7})");
  EXPECT_EQ(bad.status(), 422u);
  EXPECT_TRUE(bad.obj().at("errors").as_object().contains("user_status"));
  auto a = f.call(v::put, base + "/activate", R"({"user_status":1})");
  ASSERT_EQ(a.status(), 200u);
  EXPECT_FALSE(a.obj().at("is_trashed").as_bool());
  EXPECT_EQ(a.obj().at("user_status").as_int64(), 1);
  auto d2 = f.call(v::put, base + "/deactivate", "", {{"Content-Type", ""}});
  EXPECT_EQ(d2.status(), 200u);
  EXPECT_TRUE(d2.obj().at("is_trashed").as_bool());
}

TEST(RoutesTenant, PlanChangesAndValidation) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto base = "/api/v1/tenants/" + id;
  EXPECT_EQ(f.call(v::put, base + "/plan", R"({"plan":"gold"})").status(), 422u);
  EXPECT_EQ(f.call(v::put, base + "/plan", R"({})").status(), 422u);
  EXPECT_EQ(f.call(v::put, base + "/plan", R"({"plan":3})").status(), 422u);
  auto up = f.call(v::put, base + "/plan", R"({"plan":"enterprise"})");
  ASSERT_EQ(up.status(), 200u);
  EXPECT_EQ(up.str("plan"), "enterprise");
  auto down = f.call(v::put, base + "/plan", R"({"plan":"starter"})");
  EXPECT_EQ(down.str("plan"), "starter");
  auto events = f.call(v::get, base + "/events");
  const auto& data = events.obj().at("data").as_array();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[1].at("type").as_string(), "PlanUpgraded");
  EXPECT_EQ(data[2].at("type").as_string(), "PlanDowngraded");
}

TEST(RoutesTenant, PaymentsPolicyAndRepeatedPaymentIds) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto base = "/api/v1/tenants/" + id + "/payments";
  auto bad = f.call(v::post, base, R"({"status":"lost","amount_cents":-1,"currency":"dollars"})");
  ASSERT_EQ(bad.status(), 422u);
  const auto& errors = bad.obj().at("errors").as_object();
  for (const char* key : {"status", "payment_id", "amount_cents", "currency"})
    EXPECT_TRUE(errors.contains(key)) << key;
  auto one = f.call(v::post, base,
                    R"({"status":"failed","payment_id":"p1","amount_cents":100,"currency":"eur"})");
  EXPECT_EQ(one.obj().at("subscription").at("status").as_string(), "past_due");
  auto repeat = f.call(v::post, base, R"({"status":"failed","payment_id":"p1"})");
  EXPECT_EQ(repeat.header("ETag"), one.header("ETag"));  // no event
  f.call(v::post, base, R"({"status":"failed","payment_id":"p2"})");
  auto third = f.call(v::post, base, R"({"status":"failed","payment_id":"p3"})");
  EXPECT_EQ(third.str("status"), "suspended");
  auto paid = f.call(v::post, base, R"({"status":"succeeded","payment_id":"p4"})");
  EXPECT_EQ(paid.obj().at("subscription").at("status").as_string(), "active");
  EXPECT_EQ(paid.str("status"), "suspended");  // payment does not reactivate
}

TEST(RoutesTenant, CancelSubscription) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  auto c = f.call(v::post, "/api/v1/tenants/" + id + "/subscription/cancel",
                  R"({"reason":"too expensive"})");
  ASSERT_EQ(c.status(), 200u);
  EXPECT_EQ(c.obj().at("subscription").at("status").as_string(), "cancelled");
  EXPECT_TRUE(c.obj().at("subscription").at("cancelled_at").is_string());
}

TEST(RoutesTenant, UsageView) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  auto u = f.call(v::get, "/api/v1/tenants/" + id + "/usage");
  ASSERT_EQ(u.status(), 200u) << u.res.body();
  EXPECT_EQ(u.str("tenant_id"), id);
  EXPECT_EQ(u.str("plan"), "starter");
  EXPECT_EQ(u.obj().at("seat_limit").as_int64(), 10);
  EXPECT_EQ(u.obj().at("seats_in_use").as_int64(), 0);
  EXPECT_TRUE(u.obj().at("observed_at").is_null());
  EXPECT_EQ(u.obj().at("events_recorded").as_int64(), 1);
  for (const char* key : {"storage_bytes", "api_calls_today", "api_calls_month"})
    EXPECT_TRUE(u.obj().contains(key)) << key;
  f.call(v::put, "/api/v1/tenants/" + id + "/plan", R"({"plan":"enterprise"})");
  auto e = f.call(v::get, "/api/v1/tenants/" + id + "/usage");
  EXPECT_TRUE(e.obj().at("seat_limit").is_null());
  EXPECT_EQ(
      f.call(v::get, "/api/v1/tenants/tn_01890a5d-ac96-774b-bcce-b302099a8057/usage").status(),
      404u);
}

TEST(RoutesTenant, ListPaginationFiltersAndCount) {
  api_fixture f;
  for (int i = 0; i < 23; ++i)
    f.create("Tenant number " + std::to_string(i),
             i % 2 ? R"(,"description":"Blue Ocean shipping")" : R"(,"description":"green")");
  auto first = f.call(v::get, "/api/v1/tenants");
  ASSERT_EQ(first.status(), 200u);
  EXPECT_EQ(first.obj().at("data").as_array().size(), 10u);
  const auto& meta = first.obj().at("meta").as_object();
  EXPECT_EQ(meta.at("current_page").as_int64(), 1);
  EXPECT_EQ(meta.at("from").as_int64(), 1);
  EXPECT_EQ(meta.at("to").as_int64(), 10);
  EXPECT_EQ(meta.at("per_page").as_int64(), 10);
  EXPECT_EQ(meta.at("last_page").as_int64(), 3);
  EXPECT_EQ(meta.at("total").as_int64(), 23);
  EXPECT_EQ(meta.at("path").as_string(), "http://tenants.example.com/api/v1/tenants");
  const auto& links = first.obj().at("links").as_object();
  EXPECT_EQ(links.at("first").as_string(), "http://tenants.example.com/api/v1/tenants?page=1");
  EXPECT_EQ(links.at("last").as_string(), "http://tenants.example.com/api/v1/tenants?page=3");
  EXPECT_TRUE(links.at("prev").is_null());
  EXPECT_EQ(links.at("next").as_string(), "http://tenants.example.com/api/v1/tenants?page=2");
  // Creation order.
  EXPECT_EQ(first.obj().at("data").as_array()[0].at("name").as_string(), "Tenant number 0");

  auto last = f.call(v::get, "/api/v1/tenants?page=3&per_page=10");
  EXPECT_EQ(last.obj().at("data").as_array().size(), 3u);
  EXPECT_TRUE(last.obj().at("links").at("next").is_null());
  EXPECT_EQ(last.obj().at("links").at("prev").as_string(),
            "http://tenants.example.com/api/v1/tenants?page=2&per_page=10");
  auto past = f.call(v::get, "/api/v1/tenants?page=9");
  EXPECT_EQ(past.status(), 200u);
  EXPECT_TRUE(past.obj().at("data").as_array().empty());
  EXPECT_TRUE(past.obj().at("meta").at("from").is_null());

  for (const char* bad : {"page=0", "page=x", "per_page=0", "per_page=101", "per_page=1.5",
                          "status=sleeping", "plan=gold", "description=%FF%FE", "name=a%C3"}) {
    auto r = f.call(v::get, std::string("/api/v1/tenants?") + bad);
    EXPECT_EQ(r.status(), 422u) << bad;
    EXPECT_TRUE(r.obj().contains("errors")) << bad;
  }
  // Not UTF-8: refused by name, not read as a query without words (which matches every tenant).
  auto garbled = f.call(v::get, "/api/v1/tenants/count?description=blue%20%FF");
  ASSERT_EQ(garbled.status(), 422u);
  EXPECT_EQ(garbled.obj().at("errors").at("description").as_array()[0].as_string(),
            "The description must be valid UTF-8 text.");
  // Text without a word (punctuation, a symbol, an emoji) would be dropped and match every
  // tenant: refused on both endpoints. Spaces alone are no filter, as an empty value.
  for (const char* wordless : {"%21%21%21", "%F0%9F%9A%80", "%E2%80%8F", "-%20-"}) {
    for (const char* path : {"/api/v1/tenants?description=", "/api/v1/tenants/count?description=",
                             "/v1/tenants?description="}) {
      auto r = f.call(v::get, std::string(path) + wordless);
      ASSERT_EQ(r.status(), 422u) << path << wordless;
      EXPECT_EQ(r.obj().at("errors").at("description").as_array()[0].as_string(),
                "The description must contain a letter or a digit (it is searched for as words "
                "and word prefixes).");
    }
  }
  auto spaces = f.call(v::get, "/api/v1/tenants/count?description=%20%20");
  ASSERT_EQ(spaces.status(), 200u);
  EXPECT_EQ(spaces.obj().at("count").as_int64(), 23);
  auto blue = f.call(v::get, "/api/v1/tenants?description=blue%20oc&per_page=100");
  EXPECT_EQ(blue.obj().at("meta").at("total").as_int64(), 11);
  auto count = f.call(v::get, "/api/v1/tenants/count?description=blue%20oc");
  ASSERT_EQ(count.status(), 200u);
  EXPECT_EQ(count.obj().at("count").as_int64(), 11);
  auto named = f.call(v::get, "/api/v1/tenants/count?name=TENANT%20NUMBER%207");
  EXPECT_EQ(named.obj().at("count").as_int64(), 1);
  auto active = f.call(v::get, "/api/v1/tenants/count?status=active");
  EXPECT_EQ(active.obj().at("count").as_int64(), 0);  // no provisioning manager here
  auto prov = f.call(v::get, "/api/v1/tenants/count?status=provisioning&plan=starter");
  EXPECT_EQ(prov.obj().at("count").as_int64(), 23);
}

// No largest page is documented: any positive integer is a page, past the end an empty one
// with correct links and meta. Links carry the per_page in effect.
TEST(RoutesTenant, HugePagesAreEmptyPagesAndLinksCarryTheEffectivePerPage) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  for (const std::string prefix : {"/api/v1", "/v1"}) {
    for (const std::string page :
         {"1000000000001", "9223372036854775808", "18446744073709551615", "99999999999999999999"}) {
      auto r = f.call(v::get, prefix + "/tenants?page=" + page);
      ASSERT_EQ(r.status(), 200u) << prefix << " page " << page << ": " << r.res.body();
      EXPECT_TRUE(r.obj().at("data").as_array().empty());
      const auto& meta = r.obj().at("meta");
      EXPECT_TRUE(meta.at("from").is_null());
      EXPECT_TRUE(meta.at("to").is_null());
      EXPECT_EQ(meta.at("total").as_int64(), 1);
      EXPECT_EQ(meta.at("last_page").as_int64(), 1);
      EXPECT_TRUE(r.obj().at("links").at("next").is_null());
    }
    auto r = f.call(v::get, prefix + "/tenants?page=1000000000001&per_page=100");
    EXPECT_EQ(r.obj().at("meta").at("current_page").as_int64(), 1'000'000'000'001);
    EXPECT_EQ(r.obj().at("links").at("prev").as_string(),
              "http://tenants.example.com" + prefix + "/tenants?page=1000000000000&per_page=100");
    auto blank = f.call(v::get, prefix + "/tenants?per_page=&status=provisioning");
    ASSERT_EQ(blank.status(), 200u) << blank.res.body();
    EXPECT_EQ(
        blank.obj().at("links").at("first").as_string(),
        "http://tenants.example.com" + prefix + "/tenants?page=1&per_page=10&status=provisioning");
  }
  auto events = f.call(v::get, "/api/v1/tenants/" + id + "/events?page=99999999999999999999");
  ASSERT_EQ(events.status(), 200u) << events.res.body();
  EXPECT_TRUE(events.obj().at("data").as_array().empty());
}

// as_of_version reads as page does: "at least 1" below 1, "an integer" for what is none, and a
// version past the end is the current state.
TEST(RoutesTenant, QueryIntegersFollowOneRule) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  // Both parameters answer `q` with the same message, but for their labels.
  const auto expect_both = [&](const std::string& q, const std::string& message) {
    auto version = f.call(v::get, "/api/v1/tenants/" + id + "?as_of_version=" + q);
    EXPECT_EQ(version.obj().at("errors").at("as_of_version").as_array().at(0).as_string(),
              "The as of version " + message)
        << q;
    auto page = f.call(v::get, "/api/v1/tenants?page=" + q);
    EXPECT_EQ(page.obj().at("errors").at("page").as_array().at(0).as_string(),
              "The page " + message)
        << q;
  };
  for (const std::string q : {"-1", "0", "-99999999999999999999"})
    expect_both(q, "must be at least 1.");
  for (const std::string q : {"v1", "1.0", "%201"})
    expect_both(q, "must be an integer.");
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants/" + id + "?as_of_version=%2B1").status(), 200u);
  auto future = f.call(v::get, "/api/v1/tenants/" + id + "?as_of_version=99999999999999999999");
  EXPECT_EQ(future.status(), 200u) << future.res.body();
  EXPECT_EQ(future.str("id"), id);
}

// One rule for integers wherever they come from: a JSON integer of any size is valid JSON (422
// with the field's bounds, never 400), a query integer below 1 is "at least 1", and nested
// fields are labelled as Laravel labels them ("settings.max seats").
TEST(RoutesTenant, IntegerMessagesAreConsistent) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  const auto errors_of = [](const api_fixture::reply& r, const char* key) {
    std::vector<std::string> out;
    if (r.body.is_object() && r.obj().contains("errors") &&
        r.obj().at("errors").as_object().contains(key)) {
      for (const auto& m : r.obj().at("errors").at(key).as_array())
        out.emplace_back(m.as_string());
    }
    return out;
  };
  const auto create_seats = [&](const std::string& seats) {
    return f.call(v::post, "/api/v1/tenants",
                  R"({"name":"Acme Corp","plan":"enterprise","admin_email":"a@acme.com",)"
                  R"("settings":{"max_seats":)" +
                      seats + "}}");
  };
  using msgs = std::vector<std::string>;
  for (const std::string seats : {"18446744073709551616", "4294967296", "9223372036854775808",
                                  "123456789012345678901234567890"}) {
    auto r = create_seats(seats);
    EXPECT_EQ(r.status(), 422u) << seats << ": " << r.res.body();
    EXPECT_EQ(errors_of(r, "settings.max_seats"),
              msgs{"The settings.max seats may not be greater than 4294967295."})
        << seats;
  }
  for (const std::string seats : {"0", "-18446744073709551616"}) {
    EXPECT_EQ(errors_of(create_seats(seats), "settings.max_seats"),
              msgs{"The settings.max seats must be at least 1."})
        << seats;
  }
  EXPECT_EQ(errors_of(create_seats(R"("ten")"), "settings.max_seats"),
            msgs{"The settings.max seats must be an integer."});
  auto limit = f.call(v::post, "/api/v1/tenants",
                      R"({"name":"Acme Corp","plan":"starter","admin_email":"a@acme.com",)"
                      R"("settings":{"max_seats":11}})");
  EXPECT_EQ(errors_of(limit, "settings.max_seats"),
            msgs{"The settings.max seats may not be greater than 10, the seat limit of the "
                 "starter plan."});

  const auto payment = [&](const std::string& amount) {
    return f.call(v::post, "/api/v1/tenants/" + id + "/payments",
                  R"({"status":"failed","payment_id":"p-1","amount_cents":)" + amount + "}");
  };
  for (const std::string amount : {"9223372036854775808", "18446744073709551616"}) {
    auto r = payment(amount);
    EXPECT_EQ(r.status(), 422u) << amount << ": " << r.res.body();
    EXPECT_EQ(errors_of(r, "amount_cents"),
              msgs{"The amount cents may not be greater than 9223372036854775807."})
        << amount;
  }
  EXPECT_EQ(errors_of(payment("-1"), "amount_cents"), msgs{"The amount cents must be at least 0."});
  EXPECT_EQ(errors_of(payment("1.5"), "amount_cents"),
            msgs{"The amount cents must be an integer."});

  for (const std::string status : {"7", "18446744073709551616", "-1"}) {
    auto r =
        f.call(v::put, "/api/v1/tenants/" + id + "/activate", R"({"user_status":)" + status + "}");
    EXPECT_EQ(errors_of(r, "user_status"), msgs{"The selected user status is invalid."}) << status;
  }
}

TEST(RoutesTenant, ListItemsAndGetsAreTheCurrentResourceAfterEveryChange) {
  // Both are rendered once per view and kept with it: what a page or a GET shows must be the
  // resource of the latest version, byte for byte what the command answered.
  api_fixture f;
  const auto id = f.create("Render Me", R"(,"description":"first")");
  auto list_item = [&](const std::string& prefix) {
    auto page = f.call(v::get, prefix + "/tenants?name=Render%20Me");
    EXPECT_EQ(page.status(), 200u);
    return boost::json::serialize(page.obj().at("data").as_array().at(0));
  };
  auto get = f.call(v::get, "/api/v1/tenants/" + id);
  ASSERT_EQ(get.status(), 200u);
  EXPECT_EQ(list_item("/api/v1"), boost::json::serialize(get.obj()));
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants/" + id).res.body(), get.res.body());  // kept bytes
  const std::string tms_before = list_item("/v1");
  for (int round = 0; round < 3; ++round) {
    const std::string desc = "round " + std::to_string(round);
    auto put = f.call(v::put, "/api/v1/tenants/" + id,
                      R"({"name":"Render Me","plan":"starter","admin_email":"a@b.example",)"
                      R"("description":")" +
                          desc + R"("})");
    ASSERT_EQ(put.status(), 200u) << put.res.body();
    auto again = f.call(v::get, "/api/v1/tenants/" + id);
    EXPECT_EQ(again.res.body(), put.res.body());
    EXPECT_EQ(again.str("description"), desc);
    EXPECT_EQ(again.obj().at("version").as_int64(), 2 + round);
    EXPECT_EQ(list_item("/api/v1"), boost::json::serialize(put.obj()));
  }
  const std::string tms_after = list_item("/v1");
  EXPECT_NE(tms_after, tms_before);
  EXPECT_NE(tms_after.find("round 2"), std::string::npos);
  EXPECT_EQ(tms_after.find("\"version\""), std::string::npos);  // the TMS item, not ours
}

TEST(RoutesTenant, NonAdminListsShowOnlyTheirTenants) {
  api_fixture f;
  const auto mine = f.create("Mine Company", {}, {{"X-Test-Sub", "alice"}});
  f.create("Other Company", {}, {{"X-Test-Sub", "bob"}});
  auto r = f.call(v::get, "/api/v1/tenants", {}, {{"X-Test-Sub", "alice"}});
  ASSERT_EQ(r.status(), 200u);
  const auto& data = r.obj().at("data").as_array();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].at("id").as_string(), mine);
  auto admin = f.call(v::get, "/api/v1/tenants/count", {},
                      {{"X-Test-Sub", "root"}, {"X-Test-Scope", "platform:admin"}});
  EXPECT_EQ(admin.obj().at("count").as_int64(), 2);
  auto events = f.call(v::get, "/api/v1/tenants/" + mine + "/events");
  EXPECT_EQ(events.obj().at("data").as_array()[0].at("metadata").at("actor").as_string(), "alice");
}

// A token with tenant_id lists and counts that tenant alone, whatever else its sub belongs to
// (and even when its sub belongs to nothing), in both APIs.
TEST(RoutesTenant, ConfinedTokensListAndCountOnlyTheirTenant) {
  api_fixture f;
  const auto a = f.create("Alice First", {}, {{"X-Test-Sub", "alice"}});
  f.create("Alice Second", {}, {{"X-Test-Sub", "alice"}});
  f.create("Bob Company", {}, {{"X-Test-Sub", "bob"}});
  for (const std::string sub : {"alice", "dave"}) {
    const std::vector<std::pair<std::string, std::string>> confined{{"X-Test-Sub", sub},
                                                                    {"X-Test-Tenant", a}};
    for (const std::string prefix : {"/api/v1", "/v1"}) {
      auto list = f.call(v::get, prefix + "/tenants", {}, confined);
      ASSERT_EQ(list.status(), 200u) << list.res.body();
      const auto& data = list.obj().at("data").as_array();
      ASSERT_EQ(data.size(), 1u) << sub << " " << prefix;
      EXPECT_EQ(data[0].at("id").as_string(), a);
      EXPECT_EQ(list.obj().at("meta").at("total").as_int64(), 1);
      auto count = f.call(v::get, prefix + "/tenants/count", {}, confined);
      EXPECT_EQ(count.obj().at("count").as_int64(), 1) << sub << " " << prefix;
    }
  }
}

TEST(RoutesTenant, EventsArePagedInAscendingVersion) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  for (int i = 0; i < 4; ++i)
    f.call(v::post, "/api/v1/tenants/" + id + "/payments",
           R"({"status":"succeeded","payment_id":"p)" + std::to_string(i) + R"("})");
  auto page = f.call(v::get, "/api/v1/tenants/" + id + "/events?per_page=2&page=2");
  ASSERT_EQ(page.status(), 200u) << page.res.body();
  const auto& data = page.obj().at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].at("version").as_int64(), 3);
  EXPECT_EQ(data[1].at("version").as_int64(), 4);
  EXPECT_EQ(data[0].at("stream_id").as_string(), id);
  EXPECT_EQ(page.obj().at("meta").at("total").as_int64(), 5);
  EXPECT_EQ(page.obj().at("meta").at("last_page").as_int64(), 3);
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants/" + id + "/events?per_page=500").status(), 422u);
  EXPECT_EQ(
      f.call(v::get, "/api/v1/tenants/tn_01890a5d-ac96-774b-bcce-b302099a8057/events").status(),
      404u);
}

TEST(RoutesTenant, TimeTravelByVersionAndTime) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  f.call(v::post, "/api/v1/tenants/" + id + "/suspend");
  auto v1 = f.call(v::get, "/api/v1/tenants/" + id + "?as_of_version=1");
  ASSERT_EQ(v1.status(), 200u) << v1.res.body();
  EXPECT_EQ(v1.str("status"), "provisioning");
  EXPECT_EQ(v1.header("ETag"), "\"1\"");
  auto now = f.call(v::get, "/api/v1/tenants/" + id);
  EXPECT_EQ(now.str("status"), "suspended");
  auto then = f.call(v::get, "/api/v1/tenants/" + id + "?as_of=" + now.str("created_at"));
  EXPECT_EQ(then.status(), 200u);
  auto before = f.call(v::get, "/api/v1/tenants/" + id + "?as_of=2001-01-01T00:00:00Z");
  EXPECT_EQ(before.status(), 404u);
  for (const char* bad : {"as_of_version=0", "as_of_version=x", "as_of=yesterday",
                          "as_of_version=1&as_of=2001-01-01T00:00:00Z"}) {
    auto r = f.call(v::get, "/api/v1/tenants/" + id + "?" + bad);
    EXPECT_EQ(r.status(), 422u) << bad;
  }
}

TEST(RoutesTenant, SwitchAppendsOnTheCallersStream) {
  api_fixture f;
  const auto a = f.create("First Company", {}, {{"X-Test-Sub", "alice"}});
  const auto b = f.create("Second Company", {}, {{"X-Test-Sub", "alice"}});
  auto s = f.call(v::put, "/api/v1/tenants/" + a + "/switch", {}, {{"X-Test-Sub", "alice"}});
  ASSERT_EQ(s.status(), 200u) << s.res.body();
  EXPECT_EQ(s.res.body(), R"({"success":true})");
  const auto pos = std::stoull(s.header("X-Event-Position"));
  auto stream = f.store().read_stream("user-alice", 0, 10);
  ASSERT_TRUE(stream);
  ASSERT_EQ(stream->size(), 1u);
  EXPECT_EQ((*stream)[0].type, "UserSwitchedTenant");
  EXPECT_EQ((*stream)[0].position, pos);
  EXPECT_EQ((*stream)[0].tenant_id, a);
  // Read-your-writes through X-Min-Position, then the membership shows the switch.
  auto q = f.call(v::get, "/api/v1/tenants/count", {},
                  {{"X-Test-Sub", "alice"}, {"X-Min-Position", std::to_string(pos)}});
  EXPECT_EQ(q.obj().at("count").as_int64(), 2);
  EXPECT_EQ(f.model().current_tenant(domain::user_id("alice"))->str(), a);
  (void)b;
}

TEST(RoutesTenant, SwitchingToTheCurrentTenantAppendsNothing) {
  api_fixture f;
  const auto a = f.create("First Company", {}, {{"X-Test-Sub", "alice"}});
  const auto b = f.create("Second Company", {}, {{"X-Test-Sub", "alice"}});
  const auto sw = [&](const std::string& id) {
    return f.call(v::put, "/api/v1/tenants/" + id + "/switch", {}, {{"X-Test-Sub", "alice"}});
  };
  const auto events = [&] {
    auto stream = f.store().read_stream("user-alice", 0, 10);
    EXPECT_TRUE(stream);
    return stream ? stream->size() : 0u;
  };
  // The last create made b current: switching to it is a no-op.
  auto same = sw(b);
  ASSERT_EQ(same.status(), 200u) << same.res.body();
  EXPECT_EQ(same.res.body(), R"({"success":true})");
  EXPECT_EQ(events(), 0u);
  EXPECT_EQ(std::stoull(same.header("X-Event-Position")), f.store().head());
  // A real switch appends once; repeating it appends nothing more.
  ASSERT_EQ(sw(a).status(), 200u);
  EXPECT_EQ(events(), 1u);
  for (int i = 0; i < 3; ++i) {
    auto again = sw(a);
    ASSERT_EQ(again.status(), 200u);
    EXPECT_EQ(again.res.body(), R"({"success":true})");
  }
  EXPECT_EQ(events(), 1u);
  auto back = sw(b);
  ASSERT_EQ(back.status(), 200u);
  EXPECT_EQ(events(), 2u);
  // Read-your-writes: once the projections hold the switch, b is current again.
  auto q = f.call(v::get, "/api/v1/tenants/count", {},
                  {{"X-Test-Sub", "alice"}, {"X-Min-Position", back.header("X-Event-Position")}});
  ASSERT_EQ(q.status(), 200u);
  EXPECT_EQ(f.model().current_tenant(domain::user_id("alice"))->str(), b);
}

TEST(RoutesTenant, MinPositionWaitsOrAnswers503) {
  api_fixture f({.min_position_wait = std::chrono::milliseconds(100)});
  const auto id = f.create("Acme Corp");
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants/" + id, {}, {{"X-Min-Position", "1"}}).status(), 200u);
  auto late = f.call(v::get, "/api/v1/tenants/" + id, {}, {{"X-Min-Position", "999"}});
  EXPECT_EQ(late.status(), 503u);
  EXPECT_EQ(code_of(late), "UNAVAILABLE");
  auto bad = f.call(v::get, "/api/v1/tenants/" + id, {}, {{"X-Min-Position", "-3"}});
  EXPECT_EQ(bad.status(), 400u);
  EXPECT_EQ(code_of(bad), "BAD_REQUEST");
  // Commands ignore it.
  EXPECT_EQ(f.call(v::post, "/api/v1/tenants/" + id + "/suspend", {}, {{"X-Min-Position", "999"}})
                .status(),
            200u);
}

TEST(RoutesTenant, ReplicasRefuseCommandsWithNotWriter) {
  api_fixture f({.replica = true});
  auto r = f.call(v::post, "/api/v1/tenants",
                  R"({"name":"Acme Corp","plan":"starter","admin_email":"a@acme.com"})");
  EXPECT_EQ(r.status(), 421u);
  EXPECT_EQ(code_of(r), "NOT_WRITER");
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants").status(), 200u);
}

TEST(RoutesTenant, WithAuthenticationRequiredARequestWithoutPrincipalIs401) {
  api_fixture f({.auth_required = true});
  auto r = f.call(v::get, "/api/v1/tenants");
  EXPECT_EQ(r.status(), 401u);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(f.call(v::get, "/api/v1/tenants", {}, {{"X-Test-Sub", "alice"}}).status(), 200u);
}

}  // namespace
}  // namespace tenant::api::test
