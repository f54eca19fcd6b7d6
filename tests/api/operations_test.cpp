#include "tenant/api/operations.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <stdexcept>

#include "tenant/api/logging.hpp"
#include "test_support.hpp"

namespace tenant::api {
namespace {

using test::body_json;
using test::dispatch;
using test::make_request;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(metrics_registry, same_name_and_labels_is_the_same_metric) {
  metrics_registry m;
  auto a = m.make_counter("events_appended_total", "Events appended.", {{"store", "rocksdb"}});
  auto b = m.make_counter("events_appended_total", "Events appended.", {{"store", "rocksdb"}});
  auto other = m.make_counter("events_appended_total", "Events appended.", {{"store", "memory"}});
  a.inc();
  b.inc(2);
  EXPECT_EQ(a.value(), 3);
  EXPECT_EQ(other.value(), 0);
  auto text = m.serialize();
  EXPECT_TRUE(contains(text, "# TYPE events_appended_total counter")) << text;
  EXPECT_TRUE(contains(text, R"(events_appended_total{store="rocksdb"} 3)")) << text;
}

TEST(metrics_registry, gauges_histograms_and_collect_hooks) {
  metrics_registry m;
  auto lag = m.make_gauge("projection_lag_events", "Events not yet projected.");
  std::atomic<int> source{5};
  m.on_collect([&] { lag.set(source.load()); });
  auto batch =
      m.make_histogram("group_commit_batch_events", "Events per group commit.", {1, 10, 100});
  batch.observe(3);
  batch.observe(50);
  auto text = m.serialize();
  EXPECT_TRUE(contains(text, "projection_lag_events 5")) << text;
  source = 9;
  text = m.serialize();
  EXPECT_TRUE(contains(text, "projection_lag_events 9")) << text;
  EXPECT_TRUE(contains(text, R"(group_commit_batch_events_bucket{le="10"} 1)")) << text;
  EXPECT_TRUE(contains(text, "group_commit_batch_events_count 2")) << text;
}

TEST(metrics_registry, reusing_a_name_with_another_type_is_refused) {
  metrics_registry m;
  m.make_counter("thing_total", "A thing.");
  EXPECT_THROW(m.make_gauge("thing_total", "A thing."), std::invalid_argument);
  EXPECT_THROW(m.make_counter("bad name", "x"), std::invalid_argument);
}

TEST(readiness, ready_only_when_every_check_passes) {
  readiness r;
  EXPECT_TRUE(r.evaluate().ready);  // nothing registered: nothing to wait for
  std::atomic<bool> store_open{false};
  r.add("eventstore", [&] { return readiness::status{store_open.load(), "open"}; });
  r.add("kafka", [] { return readiness::status{true, "reachable"}; });
  auto rep = r.evaluate();
  EXPECT_FALSE(rep.ready);
  ASSERT_EQ(rep.checks.size(), 2u);
  EXPECT_EQ(rep.checks[0].first, "eventstore");
  EXPECT_FALSE(rep.checks[0].second.ready);
  store_open = true;
  EXPECT_TRUE(r.evaluate().ready);
  // Re-adding a name replaces the check.
  r.add("kafka", [] { return readiness::status{false, "no broker"}; });
  EXPECT_EQ(r.evaluate().checks.size(), 2u);
  EXPECT_FALSE(r.evaluate().ready);
}

TEST(readiness, a_throwing_check_is_not_ready) {
  readiness r;
  r.add("broken", []() -> readiness::status { throw std::runtime_error("boom"); });
  auto rep = r.evaluate();
  EXPECT_FALSE(rep.ready);
  EXPECT_TRUE(contains(rep.checks[0].second.detail, "boom"));
}

class operations_routes : public ::testing::Test {
 protected:
  operations_routes() { add_operations_routes(routes, metrics, checks); }
  metrics_registry metrics;
  readiness checks;
  router routes;
};

TEST_F(operations_routes, livez_is_ok) {
  auto res = dispatch(routes, make_request(http::verb::get, "/livez"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"status":"ok"})");
  EXPECT_EQ(res[http::field::content_type], "application/json");
}

TEST_F(operations_routes, readyz_lists_each_check_and_is_503_until_all_pass) {
  std::atomic<bool> caught_up{false};
  checks.add("eventstore", [] { return readiness::status{true, "open"}; });
  checks.add("projections", [&] { return readiness::status{caught_up.load(), "lag 3"}; });
  auto res = dispatch(routes, make_request(http::verb::get, "/readyz"));
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res.body(),
            R"({"status":"unavailable","checks":{"eventstore":{"ready":true,"detail":"open"},)"
            R"("projections":{"ready":false,"detail":"lag 3"}}})");
  caught_up = true;
  auto ok = dispatch(routes, make_request(http::verb::get, "/readyz"));
  EXPECT_EQ(ok.result(), http::status::ok);
  EXPECT_EQ(body_json(ok).at("status"), "ready");
}

TEST_F(operations_routes, are_operations_routes) {
  for (const auto& r : routes.routes())
    EXPECT_EQ(r.kind, route_kind::operations) << r.pattern;
  EXPECT_EQ(routes.routes().size(), 3u);
}

TEST_F(operations_routes, metrics_record_requests_by_route_pattern) {
  auto observe = make_request_observer(metrics, false);
  completed_request done;
  done.method = "GET";
  done.route = "/api/v1/tenants/{id}";
  done.path = "/api/v1/tenants/tn_1";
  done.status = 200;
  done.duration = std::chrono::milliseconds(3);
  observe(done);
  done.path = "/api/v1/tenants/tn_2";
  observe(done);
  done.status = 404;
  observe(done);

  auto res = dispatch(routes, make_request(http::verb::get, "/metrics"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = res.body();
  EXPECT_TRUE(contains(
      text, R"(http_requests_total{method="GET",route="/api/v1/tenants/{id}",status="200"} 2)"))
      << text;
  EXPECT_TRUE(contains(
      text, R"(http_requests_total{method="GET",route="/api/v1/tenants/{id}",status="404"} 1)"))
      << text;
  EXPECT_TRUE(contains(
      text, R"(http_request_duration_seconds_count{method="GET",route="/api/v1/tenants/{id}"} 3)"))
      << text;
  EXPECT_TRUE(contains(
      text,
      R"(http_request_duration_seconds_bucket{method="GET",route="/api/v1/tenants/{id}",le="0.005"} 3)"))
      << text;
  EXPECT_FALSE(contains(text, "tn_1")) << "raw paths must not become labels";
}

TEST(access_log, line_is_one_json_object_with_the_request_facts) {
  completed_request r;
  r.request_id = "req-1";
  r.method = "POST";
  r.route = "/api/v1/tenants";
  r.path = "/api/v1/tenants";
  r.remote = "127.0.0.1:5000";
  r.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  r.tenant = "tn_01890a5d-ac96-774b-bcce-b302099a8057";
  r.status = 201;
  r.duration = std::chrono::microseconds(1500);
  r.response_bytes = 10;
  auto doc = boost::json::parse(access_log_line(r)).as_object();
  EXPECT_EQ(doc.at("logger"), "access");
  EXPECT_EQ(doc.at("request_id"), "req-1");
  EXPECT_EQ(doc.at("method"), "POST");
  EXPECT_EQ(doc.at("route"), "/api/v1/tenants");
  EXPECT_EQ(doc.at("status"), 201);
  EXPECT_EQ(doc.at("duration_us"), 1500);
  EXPECT_EQ(doc.at("remote"), "127.0.0.1:5000");
  EXPECT_EQ(doc.at("traceparent").as_string(), r.traceparent);
  EXPECT_EQ(doc.at("tenant").as_string(), r.tenant);
  EXPECT_FALSE(doc.contains("user_agent"));
  EXPECT_TRUE(doc.contains("time"));

  r.tenant = {};  // no tenant concerned (a list by an admin): no field rather than ""
  EXPECT_FALSE(boost::json::parse(access_log_line(r)).as_object().contains("tenant"));
}

}  // namespace
}  // namespace tenant::api
