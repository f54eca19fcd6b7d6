#include "tenant/api/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tenant/api/problem.hpp"
#include "test_support.hpp"

namespace tenant::api {
namespace {

using boost::asio::awaitable;
using test::body_json;
using test::dispatch;
using test::make_request;

// A handler that answers "<name>:<param id>" so tests can see which route ran.
handler named(std::string name) {
  return [name](request_context& ctx) -> awaitable<response> {
    std::string body = name;
    body += ":";
    body += ctx.path_param("id");
    co_return text_response(http::status::ok, std::move(body));
  };
}

class router_test : public ::testing::Test {
 protected:
  router_test() {
    r.add(http::verb::get, "/api/v1/tenants", named("list"));
    r.add(http::verb::post, "/api/v1/tenants", named("create"), route_kind::command);
    r.add(http::verb::get, "/api/v1/tenants/{id}", named("get"));
    r.add(http::verb::put, "/api/v1/tenants/{id}", named("put"), route_kind::command);
    r.add(http::verb::delete_, "/api/v1/tenants/{id}", named("delete"), route_kind::command);
    r.add(http::verb::get, "/api/v1/tenants/count", named("count"));
    r.add(http::verb::put, "/api/v1/tenants/{id}/plan", named("plan"), route_kind::command);
  }
  router r;
};

TEST_F(router_test, routes_by_method_and_pattern) {
  EXPECT_EQ(dispatch(r, make_request(http::verb::get, "/api/v1/tenants")).body(), "list:");
  EXPECT_EQ(dispatch(r, make_request(http::verb::post, "/api/v1/tenants")).body(), "create:");
  EXPECT_EQ(dispatch(r, make_request(http::verb::get, "/api/v1/tenants/tn_1")).body(), "get:tn_1");
  EXPECT_EQ(dispatch(r, make_request(http::verb::put, "/api/v1/tenants/tn_1")).body(), "put:tn_1");
  EXPECT_EQ(dispatch(r, make_request(http::verb::put, "/api/v1/tenants/tn_2/plan")).body(),
            "plan:tn_2");
}

TEST_F(router_test, literal_segment_beats_parameter_whatever_the_registration_order) {
  // "/count" was registered after "/{id}" and still wins.
  EXPECT_EQ(dispatch(r, make_request(http::verb::get, "/api/v1/tenants/count")).body(), "count:");
}

TEST_F(router_test, most_specific_pattern_decides_405_instead_of_falling_back_to_a_parameter) {
  auto res = dispatch(r, make_request(http::verb::delete_, "/api/v1/tenants/count"));
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

TEST_F(router_test, unknown_path_is_404_not_found_problem) {
  for (const char* target :
       {"/nope", "/api/v1/tenants/tn_1/unknown", "/api/v1/tenants/", "/api/v1//tenants", "/"}) {
    auto res = dispatch(r, make_request(http::verb::get, target));
    EXPECT_EQ(res.result(), http::status::not_found) << target;
    EXPECT_EQ(res[http::field::content_type], "application/problem+json") << target;
    EXPECT_EQ(body_json(res).at("code"), "NOT_FOUND") << target;
  }
}

TEST_F(router_test, wrong_method_is_405_with_allow_in_registration_order) {
  auto res = dispatch(r, make_request(http::verb::patch, "/api/v1/tenants/tn_1"));
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD, PUT, DELETE");
  auto body = body_json(res);
  EXPECT_EQ(body.at("code"), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(body.at("status"), 405);

  auto list = dispatch(r, make_request(http::verb::delete_, "/api/v1/tenants"));
  EXPECT_EQ(list[http::field::allow], "GET, HEAD, POST");
}

// RFC 9110 §9.3.2: HEAD is served wherever GET is, by the GET route (the server drops the body);
// it is no route of its own, so routes() (and the OpenAPI comparison) do not list it.
TEST_F(router_test, head_is_served_by_the_get_route_and_listed_in_allow_after_get) {
  request_context ctx(make_request(http::verb::head, "/api/v1/tenants/tn_1"));
  auto res = test::run_sync(r.dispatch(ctx));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "get:tn_1");
  ASSERT_NE(ctx.route(), nullptr);
  EXPECT_EQ(ctx.route()->pattern, "/api/v1/tenants/{id}");
  EXPECT_EQ(ctx.method(), http::verb::head);
  // Requests refused before dispatch (413) are labelled with the GET route too.
  const auto* count = r.route_for(http::verb::get, "/api/v1/tenants/count");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(r.route_for(http::verb::head, "/api/v1/tenants/count"), count);

  // No GET, no HEAD.
  auto plan = dispatch(r, make_request(http::verb::head, "/api/v1/tenants/tn_1/plan"));
  EXPECT_EQ(plan.result(), http::status::method_not_allowed);
  EXPECT_EQ(plan[http::field::allow], "PUT");
  for (const auto& route : r.routes())
    EXPECT_NE(route.method, http::verb::head) << route.pattern;

  // A HEAD route registered explicitly wins over the GET one.
  r.add(http::verb::head, "/api/v1/tenants", named("head"));
  EXPECT_EQ(dispatch(r, make_request(http::verb::head, "/api/v1/tenants")).body(), "head:");
  auto list = dispatch(r, make_request(http::verb::delete_, "/api/v1/tenants"));
  EXPECT_EQ(list[http::field::allow], "GET, POST, HEAD");
}

TEST_F(router_test, a_body_with_a_content_encoding_other_than_identity_is_415) {
  auto gzip = make_request(http::verb::post, "/api/v1/tenants", "\x1f\x8b...", "application/json");
  gzip.set(http::field::content_encoding, "gzip");
  auto res = dispatch(r, std::move(gzip));
  EXPECT_EQ(res.result(), http::status::unsupported_media_type);
  EXPECT_EQ(body_json(res).at("code"), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_NE(res.body().find("Content-Encoding 'gzip'"), std::string::npos) << res.body();

  auto identity = make_request(http::verb::post, "/api/v1/tenants", "{}", "application/json");
  identity.set(http::field::content_encoding, "identity");
  EXPECT_EQ(dispatch(r, std::move(identity)).body(), "create:");
  auto no_body = make_request(http::verb::get, "/api/v1/tenants");
  no_body.set(http::field::content_encoding, "gzip");
  EXPECT_EQ(dispatch(r, std::move(no_body)).body(), "list:");
}

TEST_F(router_test, path_parameters_are_percent_decoded) {
  auto res = dispatch(r, make_request(http::verb::get, "/api/v1/tenants/a%20b%2Fc"));
  EXPECT_EQ(res.body(), "get:a b/c");
}

TEST_F(router_test, query_string_is_not_part_of_the_match_and_is_decoded) {
  std::string seen;
  router q;
  q.add(http::verb::get, "/search", [&seen](request_context& ctx) -> awaitable<response> {
    seen = ctx.query("name").value_or("<none>") + "|" + ctx.query("flag").value_or("<none>") + "|" +
           ctx.query("missing").value_or("<none>");
    co_return text_response(http::status::ok, "");
  });
  auto res = dispatch(q, make_request(http::verb::get, "/search?name=Acme%20Corp&flag&x=1"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(seen, "Acme Corp||<none>");
}

TEST_F(router_test, target_that_is_not_origin_form_is_400) {
  for (const char* target :
       {"http://evil.example/api/v1/tenants", "*", "api/v1/tenants", "/api/v1/tenants?%zz"}) {
    auto res = dispatch(r, make_request(http::verb::get, target));
    EXPECT_EQ(res.result(), http::status::bad_request) << target;
    EXPECT_EQ(body_json(res).at("code"), "BAD_REQUEST") << target;
  }
}

TEST(router, exception_escaping_a_handler_is_a_500_internal_without_its_message) {
  router r;
  r.add(http::verb::get, "/boom", [](request_context&) -> awaitable<response> {
    throw std::runtime_error("secret database detail");
    co_return text_response(http::status::ok, "");
  });
  auto res = dispatch(r, make_request(http::verb::get, "/boom"));
  EXPECT_EQ(res.result(), http::status::internal_server_error);
  EXPECT_EQ(body_json(res).at("code"), "INTERNAL");
  EXPECT_EQ(res.body().find("secret"), std::string::npos);
}

TEST(router, middleware_runs_outermost_first_and_sees_the_route) {
  router r;
  std::string trace;
  r.add(
      http::verb::post, "/things/{id}",
      [&trace](request_context&) -> awaitable<response> {
        trace += "handler;";
        co_return text_response(http::status::ok, "done");
      },
      route_kind::command, "makeThing");
  r.use([&trace](request_context& ctx, next_handler next) -> awaitable<response> {
    trace += "outer(" + ctx.route()->name + ");";
    auto res = co_await next(ctx);
    res.set("X-Outer", "1");
    trace += "outer-after;";
    co_return res;
  });
  r.use([&trace](request_context& ctx, next_handler next) -> awaitable<response> {
    trace += std::string("inner(") + (ctx.route()->kind == route_kind::command ? "command" : "?") +
             "," + std::string(ctx.path_param("id")) + ");";
    co_return co_await next(ctx);
  });
  auto res = dispatch(r, make_request(http::verb::post, "/things/42"));
  EXPECT_EQ(res.body(), "done");
  EXPECT_EQ(res["X-Outer"], "1");
  EXPECT_EQ(trace, "outer(makeThing);inner(command,42);handler;outer-after;");
}

TEST(router, middleware_can_short_circuit_and_pass_values_to_the_handler) {
  struct principal {
    std::string sub;
  };
  router r;
  r.add(http::verb::get, "/me", [](request_context& ctx) -> awaitable<response> {
    auto* p = ctx.get<principal>();
    co_return text_response(http::status::ok, p ? p->sub : "anonymous");
  });
  r.use([](request_context& ctx, next_handler next) -> awaitable<response> {
    if (ctx.header(http::field::authorization).empty()) co_return to_response(unauthenticated());
    ctx.emplace<principal>(principal{"user-1"});
    co_return co_await next(ctx);
  });
  auto denied = dispatch(r, make_request(http::verb::get, "/me"));
  EXPECT_EQ(denied.result(), http::status::unauthorized);
  EXPECT_EQ(denied[http::field::www_authenticate], "Bearer");

  auto req = make_request(http::verb::get, "/me");
  req.set(http::field::authorization, "Bearer x");
  EXPECT_EQ(dispatch(r, std::move(req)).body(), "user-1");
}

TEST(router, middleware_does_not_run_for_404_and_405) {
  router r;
  int calls = 0;
  r.add(http::verb::get, "/a", named("a"));
  r.use([&calls](request_context& ctx, next_handler next) -> awaitable<response> {
    ++calls;
    co_return co_await next(ctx);
  });
  dispatch(r, make_request(http::verb::get, "/b"));
  dispatch(r, make_request(http::verb::post, "/a"));
  EXPECT_EQ(calls, 0);
  dispatch(r, make_request(http::verb::get, "/a"));
  EXPECT_EQ(calls, 1);
}

TEST(router, exception_in_middleware_is_a_500) {
  router r;
  r.add(http::verb::get, "/a", named("a"));
  r.use([](request_context&, next_handler) -> awaitable<response> {
    throw std::logic_error("bug");
    co_return response{};
  });
  EXPECT_EQ(dispatch(r, make_request(http::verb::get, "/a")).result(),
            http::status::internal_server_error);
}

TEST(router, lists_routes_in_registration_order) {
  router r;
  r.add(http::verb::get, "/b/{id}", named("x"), route_kind::query, "getB");
  route_info info;
  info.method = http::verb::post;
  info.pattern = "/a";
  info.name = "postA";
  info.kind = route_kind::command;
  info.tags = {"tms"};
  r.add(info, named("y"));
  auto routes = r.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].pattern, "/b/{id}");
  EXPECT_EQ(routes[0].method, http::verb::get);
  EXPECT_EQ(routes[0].name, "getB");
  EXPECT_EQ(routes[1].pattern, "/a");
  EXPECT_TRUE(routes[1].has_tag("tms"));
  EXPECT_FALSE(routes[1].has_tag("admin"));
}

TEST(router, rejects_malformed_patterns_and_duplicates) {
  router r;
  EXPECT_THROW(r.add(http::verb::get, "no-slash", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(http::verb::get, "/a//b", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(http::verb::get, "/a/{}", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(http::verb::get, "/a/{id", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(http::verb::get, "/a/x{id}", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(http::verb::get, "/a", handler{}), std::invalid_argument);
  r.add(http::verb::get, "/t/{id}", named("x"));
  // Same shape with another parameter name is the same route.
  EXPECT_THROW(r.add(http::verb::get, "/t/{tenant}", named("y")), std::invalid_argument);
  EXPECT_NO_THROW(r.add(http::verb::put, "/t/{tenant}", named("y")));
}

TEST(router, parameter_names_are_per_route) {
  router r;
  r.add(http::verb::get, "/t/{id}", named("get"));
  r.add(http::verb::put, "/t/{tenant}", [](request_context& ctx) -> awaitable<response> {
    co_return text_response(http::status::ok, std::string(ctx.path_param("tenant")));
  });
  EXPECT_EQ(dispatch(r, make_request(http::verb::get, "/t/7")).body(), "get:7");
  EXPECT_EQ(dispatch(r, make_request(http::verb::put, "/t/8")).body(), "8");
}

TEST(router, route_for_labels_requests_by_pattern) {
  router r;
  r.add(http::verb::post, "/api/v1/tenants/{id}/payments", named("p"));
  auto* route = r.route_for(http::verb::post, "/api/v1/tenants/tn_9/payments?x=1");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->pattern, "/api/v1/tenants/{id}/payments");
  EXPECT_EQ(r.route_for(http::verb::get, "/api/v1/tenants/tn_9/payments"), nullptr);
  EXPECT_EQ(r.route_for(http::verb::post, "not a target"), nullptr);
}

TEST(router, pattern_shape_ignores_parameter_names) {
  EXPECT_EQ(pattern_shape("/tenants/{id}/plan"), "/tenants/{}/plan");
  EXPECT_EQ(pattern_shape("/tenants/{tenantId}/plan"), "/tenants/{}/plan");
  EXPECT_EQ(pattern_shape("/livez"), "/livez");
}

}  // namespace
}  // namespace tenant::api
