#include "tenant/api/operations.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/json/object.hpp>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>

#include "tenant/api/logging.hpp"

namespace tenant::api {

void counter::inc(double v) const {
  metric_->Increment(v);
}
double counter::value() const {
  return metric_->Value();
}
void gauge::set(double v) const {
  metric_->Set(v);
}
void gauge::inc(double v) const {
  metric_->Increment(v);
}
void gauge::dec(double v) const {
  metric_->Decrement(v);
}
double gauge::value() const {
  return metric_->Value();
}
void histogram::observe(double v) const {
  metric_->Observe(v);
}

struct metrics_registry::impl {
  prometheus::Registry registry{prometheus::Registry::InsertBehavior::Merge};
  std::mutex mutex;  // guards refreshers
  std::vector<std::function<void()>> refreshers;
};

metrics_registry::metrics_registry() : impl_(std::make_unique<impl>()) {}
metrics_registry::~metrics_registry() = default;

// prometheus-cpp reports misuse by throwing std::invalid_argument (bad names, a name reused
// with another type); that is the documented contract of these functions too.
counter metrics_registry::make_counter(std::string_view name, std::string_view help,
                                       const metric_labels& labels) {
  auto& family = prometheus::BuildCounter()
                     .Name(std::string(name))
                     .Help(std::string(help))
                     .Register(impl_->registry);
  return counter(&family.Add(labels));
}

gauge metrics_registry::make_gauge(std::string_view name, std::string_view help,
                                   const metric_labels& labels) {
  auto& family = prometheus::BuildGauge()
                     .Name(std::string(name))
                     .Help(std::string(help))
                     .Register(impl_->registry);
  return gauge(&family.Add(labels));
}

histogram metrics_registry::make_histogram(std::string_view name, std::string_view help,
                                           std::vector<double> bucket_bounds,
                                           const metric_labels& labels) {
  auto& family = prometheus::BuildHistogram()
                     .Name(std::string(name))
                     .Help(std::string(help))
                     .Register(impl_->registry);
  return histogram(&family.Add(labels, std::move(bucket_bounds)));
}

void metrics_registry::on_collect(std::function<void()> refresh) {
  std::lock_guard lock(impl_->mutex);
  impl_->refreshers.push_back(std::move(refresh));
}

std::string metrics_registry::serialize() const {
  std::vector<std::function<void()>> refreshers;
  {
    std::lock_guard lock(impl_->mutex);
    refreshers = impl_->refreshers;
  }
  for (auto& r : refreshers)
    r();
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

void readiness::add(std::string name, check fn) {
  std::lock_guard lock(mutex_);
  for (auto& [n, c] : checks_) {
    if (n == name) {
      c = std::move(fn);
      return;
    }
  }
  checks_.emplace_back(std::move(name), std::move(fn));
}

readiness::report readiness::evaluate() const {
  std::vector<std::pair<std::string, check>> checks;
  {
    std::lock_guard lock(mutex_);
    checks = checks_;
  }
  report out;
  for (auto& [name, fn] : checks) {
    status s;
    try {
      s = fn();
    } catch (const std::exception& e) {
      s = {false, std::string("check failed: ") + e.what()};
    }
    out.ready = out.ready && s.ready;
    out.checks.emplace_back(name, std::move(s));
  }
  return out;
}

void add_operations_routes(router& r, metrics_registry& metrics, readiness& checks) {
  r.add(
      http::verb::get, "/livez",
      [](request_context&) -> boost::asio::awaitable<response> {
        co_return json_response(http::status::ok, boost::json::object{{"status", "ok"}});
      },
      route_kind::operations, "livez");
  r.add(
      http::verb::get, "/readyz",
      [&checks](request_context&) -> boost::asio::awaitable<response> {
        auto rep = checks.evaluate();
        boost::json::object body;
        body["status"] = rep.ready ? "ready" : "unavailable";
        boost::json::object list;
        for (const auto& [name, s] : rep.checks)
          list[name] = boost::json::object{{"ready", s.ready}, {"detail", s.detail}};
        body["checks"] = std::move(list);
        co_return json_response(rep.ready ? http::status::ok : http::status::service_unavailable,
                                body);
      },
      route_kind::operations, "readyz");
  r.add(
      http::verb::get, "/metrics",
      [&metrics](request_context&) -> boost::asio::awaitable<response> {
        co_return text_response(http::status::ok, metrics.serialize(),
                                "text/plain; version=0.0.4; charset=utf-8");
      },
      route_kind::operations, "metrics");
}

namespace {

// Handles per label set, cached so that a request costs one hash lookup under a shared lock
// instead of a family lookup in the registry. Series are bounded: routes x methods x statuses.
class http_metrics {
 public:
  explicit http_metrics(metrics_registry& reg) : reg_(reg) {}

  void record(const completed_request& r) {
    std::string key;
    key.reserve(r.route.size() + r.method.size() + 6);
    key.append(r.route).push_back('\0');
    key.append(r.method);
    std::string status = std::to_string(r.status);
    const auto seconds = std::chrono::duration<double>(r.duration).count();
    duration_for(key, r).observe(seconds);
    key.push_back('\0');
    key.append(status);
    counter_for(key, r, status).inc();
  }

 private:
  static constexpr std::string_view requests_name = "http_requests_total";
  static constexpr std::string_view requests_help = "HTTP requests answered, by route pattern.";

  counter counter_for(const std::string& key, const completed_request& r,
                      const std::string& status) {
    {
      std::shared_lock lock(mutex_);
      if (auto it = counters_.find(key); it != counters_.end()) return it->second;
    }
    auto c = reg_.make_counter(
        requests_name, requests_help,
        {{"route", std::string(r.route)}, {"method", std::string(r.method)}, {"status", status}});
    std::unique_lock lock(mutex_);
    return counters_.emplace(key, c).first->second;
  }

  histogram duration_for(const std::string& key, const completed_request& r) {
    {
      std::shared_lock lock(mutex_);
      if (auto it = durations_.find(key); it != durations_.end()) return it->second;
    }
    auto h = reg_.make_histogram(
        "http_request_duration_seconds",
        "Time from a request's last byte read to its response's last byte written.",
        {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
        {{"route", std::string(r.route)}, {"method", std::string(r.method)}});
    std::unique_lock lock(mutex_);
    return durations_.emplace(key, h).first->second;
  }

  metrics_registry& reg_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, counter> counters_;
  std::unordered_map<std::string, histogram> durations_;
};

}  // namespace

request_observer make_request_observer(metrics_registry& metrics, bool access_log) {
  auto m = std::make_shared<http_metrics>(metrics);
  return [m, access_log](const completed_request& r) {
    m->record(r);
    if (access_log) log_access(r);
  };
}

}  // namespace tenant::api
