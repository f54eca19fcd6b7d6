// The platform middleware without sockets: authentication, scopes, tenant scoping, X-Tenant-Id,
// rate limits and their headers, metrics; /docs.
#include "tenant/api/platform.hpp"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "auth_test_support.hpp"
#include "tenant/api/problem.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "test_support.hpp"

namespace {

using namespace tenant::api;
using namespace tenant::api::test;
namespace net = boost::asio;
using tp = std::chrono::system_clock::time_point;

const std::string secret = "platform-test-secret-0123456789abcdef";
const std::string tenant_a = "tn_0190b1a0-0000-7000-8000-00000000000a";
const std::string tenant_b = "tn_0190b1a0-0000-7000-8000-00000000000b";
const std::string tenant_e = "tn_0190b1a0-0000-7000-8000-00000000000e";
const std::string unknown = "tn_0190b1a0-0000-7000-8000-0000000000ff";
const tp now = tp(std::chrono::seconds(1'768'469'400));

tenant::domain::tenant_id tid(const std::string& s) {
  return *tenant::domain::tenant_id::parse(s);
}

// Echoes what the middleware left for handlers.
handler echo() {
  return [](request_context& ctx) -> net::awaitable<response> {
    boost::json::object o;
    const auto* p = ctx.get<principal>();
    o["sub"] = p ? p->sub.str() : "";
    o["effective"] = p && p->effective_tenant ? p->effective_tenant->str() : "";
    co_return json_response(http::status::ok, o);
  };
}

class Platform : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.add_member("alice", tid(tenant_a));
    model_.add_tenant(tid(tenant_a), tenant::domain::plan_tier::starter);
    model_.add_tenant(tid(tenant_b), tenant::domain::plan_tier::starter);
    model_.add_member("erin", tid(tenant_e));
    model_.add_tenant(tid(tenant_e), tenant::domain::plan_tier::enterprise);
  }

  void build(std::optional<rate_limit_settings> limits = std::nullopt) {
    token_settings ts;
    ts.key = secret;
    auto st = std::make_shared<platform_state>();
    st->verifier = std::shared_ptr<const token_verifier>(make_verifier(ts));
    if (limits) {
      limiter_ = std::make_shared<rate_limiter>(*limits, [this] { return clock_; });
      st->limiter = limiter_;
    }
    st->model = &model_;
    st->store = store_.get();
    st->membership_wait = membership_wait_;
    st->clock = [this] { return clock_; };
    add_platform_metrics(*st, metrics_);
    router_ = std::make_unique<router>();
    router_->use(make_platform_middleware(st));
    const auto add = [&](http::verb m, std::string pattern, route_kind k,
                         std::vector<std::string> tags = {}) {
      route_info i;
      i.method = m;
      i.pattern = std::move(pattern);
      i.kind = k;
      i.tags = std::move(tags);
      router_->add(std::move(i), echo());
    };
    add(http::verb::get, "/livez", route_kind::operations);
    add(http::verb::get, "/api/v1/tenants", route_kind::query);
    add(http::verb::post, "/api/v1/tenants", route_kind::command);
    add(http::verb::get, "/api/v1/tenants/{id}", route_kind::query);
    add(http::verb::post, "/api/v1/tenants/{id}/suspend", route_kind::command);
    add(http::verb::get, "/v1/tenants", route_kind::query, {"tms"});
    add(http::verb::get, "/admin/status", route_kind::query, {"admin"});
  }

  std::string token(const std::string& sub, const std::string& scope,
                    std::optional<std::string> tenant = std::nullopt) {
    boost::json::object c{{"sub", sub}, {"scope", scope}, {"exp", 1'768'469'400 + 3600}};
    if (tenant) c["tenant_id"] = *tenant;
    return hs256_jwt(c, secret);
  }

  response call(http::verb m, std::string target, std::optional<std::string> tok,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto req = make_request(m, std::move(target));
    if (tok) req.set(http::field::authorization, "Bearer " + *tok);
    for (const auto& [k, v] : headers)
      req.set(k, v);
    return dispatch(*router_, std::move(req));
  }

  static std::string code(const response& r) {
    auto v = body_json(r);
    return v.is_object() && v.as_object().contains("code") ? std::string(v.at("code").as_string())
                                                           : std::string();
  }

  // The store's head is what the membership wait waits for (none: no wait).
  void append_one(const std::string& event_id) {
    if (!store_) store_ = tenant::eventstore::make_memory_store();
    tenant::eventstore::append_request r;
    r.stream_id = "user-bob";
    tenant::eventstore::proposed_event e;
    e.event_id = event_id;
    e.type = "UserSwitchedTenant";
    e.data_json = "{}";
    r.events.push_back(std::move(e));
    std::promise<bool> done;
    store_->append(std::move(r), [&done](tenant::eventstore::append_outcome o) {
      done.set_value(o.has_value());
    });
    ASSERT_TRUE(done.get_future().get());
  }

  fake_read_model model_;
  std::unique_ptr<tenant::eventstore::event_store> store_;
  std::chrono::milliseconds membership_wait_{2'000};
  metrics_registry metrics_;
  std::shared_ptr<rate_limiter> limiter_;
  std::unique_ptr<router> router_;
  tp clock_ = now;
};

TEST_F(Platform, OperationsNeedNoToken) {
  build(rate_limit_settings{});
  auto r = call(http::verb::get, "/livez", std::nullopt);
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(r.find("X-RateLimit-Limit"), r.end()) << "operations are not counted";
}

TEST_F(Platform, MissingOrBadTokenIs401WithAChallenge) {
  build(rate_limit_settings{});
  auto none = call(http::verb::get, "/api/v1/tenants", std::nullopt);
  EXPECT_EQ(none.result(), http::status::unauthorized);
  EXPECT_EQ(code(none), "UNAUTHENTICATED");
  EXPECT_EQ(none[http::field::www_authenticate], "Bearer realm=\"tenantd\"");
  EXPECT_EQ(none.find("X-RateLimit-Limit"), none.end());

  auto bad = call(http::verb::get, "/api/v1/tenants", std::string("x.y.z"));
  EXPECT_EQ(bad.result(), http::status::unauthorized);
  EXPECT_EQ(bad[http::field::www_authenticate],
            "Bearer realm=\"tenantd\", error=\"invalid_token\"");

  auto req = make_request(http::verb::get, "/api/v1/tenants");
  req.set(http::field::authorization, "Basic dXNlcjpwYXNz");
  auto basic = dispatch(*router_, std::move(req));
  EXPECT_EQ(basic.result(), http::status::unauthorized);

  boost::json::object expired{{"sub", "alice"}, {"scope", "tenants:read"}, {"exp", 1'768'469'000}};
  auto old = call(http::verb::get, "/api/v1/tenants", hs256_jwt(expired, secret));
  EXPECT_EQ(old.result(), http::status::unauthorized);
  EXPECT_NE(body_json(old).at("detail").as_string().find("expired"), std::string::npos);
  EXPECT_EQ(metrics_.make_counter("tenantd_auth_failures_total", "").value(), 4.0);
}

TEST_F(Platform, ScopesByRouteKind) {
  build();
  const auto ro = token("alice", "tenants:read");
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", ro).result(), http::status::ok);
  auto w = call(http::verb::post, "/api/v1/tenants", ro);
  EXPECT_EQ(w.result(), http::status::forbidden);
  EXPECT_EQ(code(w), "FORBIDDEN");
  const auto rw = token("alice", "tenants:write");
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", rw).result(), http::status::ok);
  EXPECT_EQ(call(http::verb::post, "/api/v1/tenants", rw).result(), http::status::ok);
  const auto none = token("alice", "");
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", none).result(), http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/admin/status", rw).result(), http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/admin/status", token("root", "platform:admin")).result(),
            http::status::ok);
}

TEST_F(Platform, TenantInThePath) {
  build();
  const auto alice = token("alice", "tenants:read tenants:write");
  auto own = call(http::verb::get, "/api/v1/tenants/" + tenant_a, alice);
  EXPECT_EQ(own.result(), http::status::ok);
  EXPECT_EQ(body_json(own).at("sub").as_string(), "alice");
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_b, alice).result(),
            http::status::forbidden);
  // Unknown and malformed ids: 403 as well, so that a non-admin cannot probe which ids exist.
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + unknown, alice).result(),
            http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/acme", alice).result(), http::status::forbidden);
  EXPECT_EQ(call(http::verb::post, "/api/v1/tenants/" + tenant_b + "/suspend", alice).result(),
            http::status::forbidden);
  // Admins reach the handler (which answers 404 for an unknown tenant).
  const auto admin = token("root", "platform:admin");
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + unknown, admin).result(), http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_b, admin).result(), http::status::ok);
  // A token scoped to b may touch b (without membership), and not a (despite alice's).
  const auto scoped = token("alice", "tenants:read", tenant_b);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_b, scoped).result(),
            http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_a, scoped).result(),
            http::status::forbidden);
}

// A token confined to one tenant could never touch a tenant it created: creates are refused,
// while its own tenant stays reachable. Admins (even with a tenant_id) and unconfined users
// create as before.
TEST_F(Platform, ATokenConfinedToOneTenantMayNotCreateTenants) {
  build();
  const auto confined = token("dave", "tenants:read tenants:write", tenant_a);
  auto create = call(http::verb::post, "/api/v1/tenants", confined);
  EXPECT_EQ(create.result(), http::status::forbidden);
  ASSERT_EQ(code(create), "FORBIDDEN") << create.body();
  EXPECT_EQ(create[http::field::content_type], "application/problem+json");
  EXPECT_NE(body_json(create).at("detail").as_string().find("confined to tenant " + tenant_a),
            std::string::npos)
      << create.body();
  // Also with X-Tenant-Id naming its own tenant.
  EXPECT_EQ(
      call(http::verb::post, "/api/v1/tenants", confined, {{"X-Tenant-Id", tenant_a}}).result(),
      http::status::forbidden);
  EXPECT_EQ(call(http::verb::post, "/api/v1/tenants/" + tenant_a + "/suspend", confined).result(),
            http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", confined).result(), http::status::ok);
  EXPECT_EQ(call(http::verb::post, "/api/v1/tenants", token("dave", "tenants:write")).result(),
            http::status::ok);
  EXPECT_EQ(
      call(http::verb::post, "/api/v1/tenants", token("root", "platform:admin", tenant_a)).result(),
      http::status::ok);
}

// The memberships trail the log: the check waits for them (bounded), and when they are still
// behind after the wait the answer is 503 with Retry-After, not a 403 that may be wrong.
TEST_F(Platform, ATenantCheckWaitsForTheMembershipsAndDoesNotGuess) {
  append_one("0190b1a0-0000-7000-8000-000000000001");  // head 1, the projection at 0
  membership_wait_ = std::chrono::milliseconds(50);
  build();
  const auto bob = token("bob", "tenants:read");
  auto behind = call(http::verb::get, "/api/v1/tenants/" + tenant_b, bob);
  EXPECT_EQ(behind.result(), http::status::service_unavailable);
  EXPECT_EQ(code(behind), "UNAVAILABLE");
  EXPECT_EQ(behind[http::field::retry_after], "1");
  auto header = call(http::verb::get, "/api/v1/tenants", bob, {{"X-Tenant-Id", tenant_b}});
  EXPECT_EQ(header.result(), http::status::service_unavailable);
  // A member, an admin and a malformed id do not depend on the projection's position.
  const auto alice = token("alice", "tenants:read");
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_a, alice).result(), http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/acme", bob).result(), http::status::forbidden);

  // Caught up without bob's membership: a refusal is now known to be right.
  model_.set_position(1);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_b, bob).result(),
            http::status::forbidden);

  // The membership arrives during the wait (as right after bob's own create): allowed.
  append_one("0190b1a0-0000-7000-8000-000000000002");  // head 2
  membership_wait_ = std::chrono::milliseconds(10'000);
  build();
  std::jthread projector([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    model_.add_member("bob", tid(tenant_b));
    model_.set_position(2);
  });
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants/" + tenant_b, bob).result(), http::status::ok);
}

TEST_F(Platform, XTenantId) {
  build();
  const auto alice = token("alice", "tenants:read");
  auto ok = call(http::verb::get, "/api/v1/tenants", alice, {{"X-Tenant-Id", tenant_a}});
  EXPECT_EQ(ok.result(), http::status::ok);
  EXPECT_EQ(body_json(ok).at("effective").as_string(), tenant_a);
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", alice, {{"X-Tenant-Id", tenant_b}}).result(),
            http::status::forbidden);
  auto malformed = call(http::verb::get, "/api/v1/tenants", alice, {{"X-Tenant-Id", "acme"}});
  EXPECT_EQ(malformed.result(), http::status::bad_request);

  const auto scoped = token("alice", "tenants:read", tenant_b);
  auto same = call(http::verb::get, "/api/v1/tenants", scoped, {{"X-Tenant-Id", tenant_b}});
  EXPECT_EQ(same.result(), http::status::ok);
  EXPECT_EQ(body_json(same).at("effective").as_string(), tenant_b);
  // Differs from the token's tenant_id, although alice belongs to a.
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", scoped, {{"X-Tenant-Id", tenant_a}}).result(),
            http::status::forbidden);
  // Without the header the token's tenant_id is the effective tenant.
  EXPECT_EQ(body_json(call(http::verb::get, "/api/v1/tenants", scoped)).at("effective").as_string(),
            tenant_b);
  const auto admin = token("root", "platform:admin");
  EXPECT_EQ(body_json(call(http::verb::get, "/api/v1/tenants", admin, {{"X-Tenant-Id", unknown}}))
                .at("effective")
                .as_string(),
            unknown);
}

TEST_F(Platform, RateLimitsHeadersAnd429) {
  rate_limit_settings s;
  s.standard_per_minute = 3;
  s.enterprise_per_minute = 5;
  s.tms_endpoint_per_minute = 2;
  build(s);
  const auto alice = token("alice", "tenants:read");
  for (int i = 0; i < 3; ++i) {
    auto r = call(http::verb::get, "/api/v1/tenants", alice, {{"X-Tenant-Id", tenant_a}});
    ASSERT_EQ(r.result(), http::status::ok) << i;
    EXPECT_EQ(r["X-RateLimit-Limit"], "3");
    EXPECT_EQ(r["X-RateLimit-Remaining"], std::to_string(2 - i));
    EXPECT_EQ(r["X-RateLimit-Reset"], "1768469460");
    EXPECT_EQ(r["RateLimit-Policy"], "\"minute\";q=3;w=60, \"day\";q=10000;w=86400");
    EXPECT_EQ(r["RateLimit"], "\"minute\";r=" + std::to_string(2 - i) + ";t=60");
  }
  clock_ += std::chrono::seconds(15);
  auto refused = call(http::verb::get, "/api/v1/tenants", alice, {{"X-Tenant-Id", tenant_a}});
  EXPECT_EQ(refused.result(), http::status::too_many_requests);
  EXPECT_EQ(code(refused), "RATE_LIMITED");
  EXPECT_EQ(refused["Retry-After"], "45");
  EXPECT_EQ(refused["X-Rate-Limit-Reset"], "2026-01-15T09:31:00.0000000Z");
  EXPECT_EQ(refused["X-RateLimit-Remaining"], "0");
  // The key is the tenant: alice without X-Tenant-Id is charged as herself.
  EXPECT_EQ(call(http::verb::get, "/api/v1/tenants", alice).result(), http::status::ok);
  // A 403 is counted and carries the headers; a refused X-Tenant-Id charges the caller, never
  // the tenant it named.
  auto forbidden = call(http::verb::get, "/api/v1/tenants", alice, {{"X-Tenant-Id", tenant_b}});
  EXPECT_EQ(forbidden.result(), http::status::forbidden);
  EXPECT_EQ(forbidden["X-RateLimit-Remaining"], "1");
  EXPECT_EQ(limiter_->check({tenant_b}).remaining, 2u);

  // Enterprise tier from the tenant's plan.
  const auto erin = token("erin", "tenants:read");
  auto ent = call(http::verb::get, "/api/v1/tenants", erin, {{"X-Tenant-Id", tenant_e}});
  EXPECT_EQ(ent["X-RateLimit-Limit"], "5");

  // TMS per-endpoint quota.
  const auto bob = token("bob", "tenants:read");
  EXPECT_EQ(call(http::verb::get, "/v1/tenants", bob)["X-RateLimit-Limit"], "2");
  EXPECT_EQ(call(http::verb::get, "/v1/tenants", bob).result(), http::status::ok);
  auto tms = call(http::verb::get, "/v1/tenants", bob);
  EXPECT_EQ(tms.result(), http::status::too_many_requests);
  EXPECT_NE(tms["RateLimit-Policy"].find("\"endpoint\";q=2;w=60"), std::string::npos);

  EXPECT_EQ(metrics_.make_counter("tenantd_rate_limited_requests_total", "", {{"window", "minute"}})
                .value(),
            1.0);
  EXPECT_EQ(
      metrics_.make_counter("tenantd_rate_limited_requests_total", "", {{"window", "endpoint"}})
          .value(),
      1.0);
  EXPECT_NE(metrics_.serialize().find("tenantd_rate_limited_requests_total"), std::string::npos);
}

TEST_F(Platform, LimitsOffMeansNoHeaders) {
  build(std::nullopt);
  const auto alice = token("alice", "tenants:read");
  for (int i = 0; i < 150; ++i) {
    auto r = call(http::verb::get, "/api/v1/tenants", alice);
    ASSERT_EQ(r.result(), http::status::ok);
    ASSERT_EQ(r.find("X-RateLimit-Limit"), r.end());
    ASSERT_EQ(r.find("RateLimit"), r.end());
  }
}

TEST(PlatformDocs, ServesThePageAndAssets) {
  router r;
  add_docs_routes(r);
  auto page = dispatch(r, make_request(http::verb::get, "/docs"));
  EXPECT_EQ(page.result(), http::status::ok);
  EXPECT_NE(page[http::field::content_type].find("text/html"), std::string_view::npos);
  EXPECT_TRUE(page.body().find("/api/v1/openapi.json") != std::string::npos ||
              page.body().find("init.js") != std::string::npos);
  if (docs_assets_embedded()) {
    auto js = dispatch(r, make_request(http::verb::get, "/docs/swagger-ui-bundle.js"));
    EXPECT_EQ(js.result(), http::status::ok);
    EXPECT_GT(js.body().size(), 100'000u);
    EXPECT_NE(js.body().find("SwaggerUIBundle"), std::string::npos);
    auto css = dispatch(r, make_request(http::verb::get, "/docs/swagger-ui.css"));
    EXPECT_EQ(css.result(), http::status::ok);
    auto init = dispatch(r, make_request(http::verb::get, "/docs/init.js"));
    EXPECT_NE(init.body().find("/api/v1/openapi.json"), std::string::npos);
  }
  EXPECT_NE(dispatch(r, make_request(http::verb::get, "/docs/../../etc/passwd")).result(),
            http::status::ok);
  EXPECT_EQ(dispatch(r, make_request(http::verb::get, "/docs/nothing.js")).result(),
            http::status::not_found);
}

}  // namespace
