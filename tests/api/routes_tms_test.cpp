// The TMS-compatible routes (/v1, /v0.1): seed 001's bodies exactly.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "routes_support.hpp"

namespace tenant::api::test {
namespace {

using v = http::verb;

std::set<std::string> keys_of(const boost::json::value& v) {
  std::set<std::string> out;
  for (const auto& kv : v.as_object())
    out.insert(std::string(kv.key()));
  return out;
}

const std::set<std::string> seed_tenant_keys{
    "id", "name", "address", "city", "country_code", "country_name", "description", "is_trashed"};

TEST(RoutesTms, CreateAnswers200WithSeedKeysOnly) {
  api_fixture f;
  auto r = f.call(v::post, "/v1/tenants",
                  R"({"name":"Company","country_code":"US","city":"New York",
                      "address":"115 East 23rd Street 5th Floor","post_code":"10010",
                      "description":"New York","plan":"enterprise","admin_email":"ignored"})");
  ASSERT_EQ(r.status(), 200u) << r.res.body();
  ASSERT_TRUE(r.obj().contains("data"));
  EXPECT_EQ(keys_of(r.obj()), std::set<std::string>{"data"});
  const auto& d = r.obj().at("data");
  EXPECT_EQ(keys_of(d), seed_tenant_keys);
  EXPECT_EQ(d.at("name").as_string(), "Company");
  EXPECT_EQ(d.at("country_name").as_string(), "United States");
  EXPECT_EQ(d.at("is_trashed").as_bool(), false);
  // The TMS body carries no plan: starter, whatever else was sent.
  auto full = f.call(v::get, "/api/v1/tenants/" + std::string(d.at("id").as_string()));
  EXPECT_EQ(full.str("plan"), "starter");
  EXPECT_TRUE(full.obj().at("admin_email").is_null());
}

TEST(RoutesTms, Create422IsSeed001sBody) {
  api_fixture f;
  auto r = f.call(v::post, "/v1/tenants", R"({"country_code":"XX"})");
  ASSERT_EQ(r.status(), 422u);
  EXPECT_EQ(r.str("message"), "The given data was invalid.");
  const auto& errors = r.obj().at("errors").as_object();
  ASSERT_TRUE(errors.contains("name"));
  EXPECT_EQ(errors.at("name").as_array()[0].as_string(), "The name field is required.");
  ASSERT_TRUE(errors.contains("country_code"));
  EXPECT_EQ(errors.at("country_code").as_array()[0].as_string(),
            "The country code field is invalid. It must be ISO 3166-1 alpha-2 country code.");
}

TEST(RoutesTms, UpdateKeepsWhatATmsBodyDoesNotCarry) {
  api_fixture f;
  const auto id = f.create("Acme Corp",
                           R"(,"domain":"acme.example",
                               "settings":{"max_seats":8,"timezone":"Europe/Paris"})"
                           R"(,"group_id":"7","group_name":"Big ones")");
  auto r = f.call(v::put, "/v1/tenants/" + id,
                  R"({"name":"Acme Renamed","country_code":"FR","description":"new"})");
  ASSERT_EQ(r.status(), 200u) << r.res.body();
  EXPECT_EQ(keys_of(r.obj().at("data")), seed_tenant_keys);
  EXPECT_EQ(r.obj().at("data").at("name").as_string(), "Acme Renamed");
  EXPECT_EQ(r.obj().at("data").at("country_name").as_string(), "France");
  auto full = f.call(v::get, "/api/v1/tenants/" + id);
  EXPECT_EQ(full.str("plan"), "starter");
  EXPECT_EQ(full.str("admin_email"), "admin@example.com");
  EXPECT_EQ(full.str("domain"), "acme.example");
  EXPECT_EQ(full.obj().at("settings").at("max_seats").as_int64(), 8);
  EXPECT_EQ(full.obj().at("settings").at("timezone").as_string(), "Europe/Paris");
  EXPECT_EQ(full.str("group_name"), "Big ones");
  EXPECT_EQ(full.str("description"), "new");
  auto missing = f.call(v::put, "/v1/tenants/tn_01890a5d-ac96-774b-bcce-b302099a8057",
                        R"({"name":"Acme Renamed"})");
  EXPECT_EQ(missing.status(), 404u);
  EXPECT_EQ(f.call(v::put, "/v1/tenants/" + id, R"({"name":"abc"})").status(), 422u);
  EXPECT_EQ(f.call(v::put, "/v1/tenants/" + id, R"({"name":"Acme Again"})", {{"If-Match", "\"1\""}})
                .status(),
            412u);
}

TEST(RoutesTms, DeactivateActivateAnswerIsTrashed) {
  api_fixture f;
  const auto id = f.create("Acme Corp");
  auto d = f.call(v::put, "/v1/tenants/" + id + "/deactivate", R"({"user_status":0})");
  ASSERT_EQ(d.status(), 200u) << d.res.body();
  EXPECT_EQ(d.res.body(), R"({"is_trashed":true})");
  auto a = f.call(v::put, "/v1/tenants/" + id + "/activate?user_status=1");
  ASSERT_EQ(a.status(), 200u);
  EXPECT_EQ(a.res.body(), R"({"is_trashed":false})");
  auto full = f.call(v::get, "/api/v1/tenants/" + id);
  EXPECT_EQ(full.obj().at("user_status").as_int64(), 1);
  EXPECT_EQ(f.call(v::put, "/v1/tenants/" + id + "/activate?user_status=5").status(), 422u);
}

TEST(RoutesTms, ListCountGetAndSwitch) {
  api_fixture f;
  for (int i = 0; i < 12; ++i)
    f.call(v::post, "/v1/tenants",
           R"({"name":"Company )" + std::to_string(i) + R"(","description":"New York"})");
  auto l = f.call(v::get, "/v1/tenants");
  ASSERT_EQ(l.status(), 200u);
  const auto& data = l.obj().at("data").as_array();
  ASSERT_EQ(data.size(), 10u);
  auto item_keys = seed_tenant_keys;
  item_keys.insert("group_id");
  item_keys.insert("group_name");
  EXPECT_EQ(keys_of(data[0]), item_keys);
  EXPECT_EQ(data[0].at("group_id").as_string(), "0");
  EXPECT_EQ(data[0].at("group_name").as_string(), "");
  EXPECT_EQ(l.obj().at("links").at("first").as_string(),
            "http://tenants.example.com/v1/tenants?page=1");
  EXPECT_EQ(l.obj().at("links").at("next").as_string(),
            "http://tenants.example.com/v1/tenants?page=2");
  EXPECT_EQ(l.obj().at("meta").at("path").as_string(), "http://tenants.example.com/v1/tenants");
  auto c = f.call(v::get, "/v1/tenants/count?description=new%20york");
  EXPECT_EQ(c.res.body(), R"({"count":12})");
  const std::string id(data[3].at("id").as_string());
  auto g = f.call(v::get, "/v1/tenants/" + id);
  ASSERT_EQ(g.status(), 200u);
  EXPECT_EQ(keys_of(g.obj().at("data")), seed_tenant_keys);
  auto s = f.call(v::put, "/v1/tenants/" + id + "/switch");
  EXPECT_EQ(s.res.body(), R"({"success":true})");
}

TEST(RoutesTms, V01IsDeprecatedWithSuccessorLinks) {
  api_fixture f;
  auto r = f.call(v::get, "/v0.1/tenants?page=1");
  ASSERT_EQ(r.status(), 200u);
  EXPECT_EQ(r.header("Deprecation"), "@1735689600");
  EXPECT_EQ(r.header("Sunset"), "Thu, 31 Dec 2026 23:59:59 GMT");
  EXPECT_EQ(r.header("Link"), "<http://tenants.example.com/v1/tenants>; rel=\"successor-version\"");
  EXPECT_EQ(r.obj().at("meta").at("path").as_string(), "http://tenants.example.com/v0.1/tenants");
  auto err = f.call(v::get, "/v0.1/tenants/nope");
  EXPECT_EQ(err.status(), 404u);
  EXPECT_FALSE(err.header("Deprecation").empty());
  EXPECT_TRUE(f.call(v::get, "/v1/tenants").header("Deprecation").empty());
}

TEST(RoutesTms, RoutesAreTaggedTms) {
  api_fixture f;
  int tms = 0;
  for (const auto& r : f.routes().routes()) {
    const bool is_tms = r.pattern.rfind("/v1/", 0) == 0 || r.pattern.rfind("/v0.1/", 0) == 0;
    EXPECT_EQ(r.has_tag("tms"), is_tms) << r.pattern;
    tms += is_tms;
  }
  EXPECT_EQ(tms, 16);
}

}  // namespace
}  // namespace tenant::api::test
