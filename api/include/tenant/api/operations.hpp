#pragma once
/// Operations endpoints and their registries: /livez, /readyz (named readiness checks other
/// modules register), /metrics (a Prometheus registry other modules add metrics to), and the
/// per-request observer that records `http_requests_total{route,method,status}`,
/// `http_request_duration_seconds{route,method}` and the access log.
///
/// prometheus-cpp stays behind this header (its types are only forward-declared): modules get
/// small handles (counter, gauge, histogram) that are cheap to copy and safe from any thread.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenant/api/router.hpp"
#include "tenant/api/server.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace tenant::api {

using metric_labels = std::map<std::string, std::string>;

/// A monotonically increasing count. Copyable handle; the registry owns the metric.
class counter {
 public:
  void inc(double v = 1.0) const;
  double value() const;

 private:
  friend class metrics_registry;
  explicit counter(prometheus::Counter* m) : metric_(m) {}
  prometheus::Counter* metric_;
};

class gauge {
 public:
  void set(double v) const;
  void inc(double v = 1.0) const;
  void dec(double v = 1.0) const;
  double value() const;

 private:
  friend class metrics_registry;
  explicit gauge(prometheus::Gauge* m) : metric_(m) {}
  prometheus::Gauge* metric_;
};

class histogram {
 public:
  void observe(double v) const;

 private:
  friend class metrics_registry;
  explicit histogram(prometheus::Histogram* m) : metric_(m) {}
  prometheus::Histogram* metric_;
};

/// The process's Prometheus registry.
///
/// Ownership: owns every metric; handles are valid for the registry's lifetime.
/// Threading: every member is thread-safe. Registering the same name and labels twice returns
/// the same metric; the same name with another type, or an invalid name, throws
/// std::invalid_argument (a start-up programmer error).
class metrics_registry {
 public:
  metrics_registry();
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  counter make_counter(std::string_view name, std::string_view help,
                       const metric_labels& labels = {});
  gauge make_gauge(std::string_view name, std::string_view help, const metric_labels& labels = {});
  histogram make_histogram(std::string_view name, std::string_view help,
                           std::vector<double> bucket_bounds, const metric_labels& labels = {});

  /// Runs before every scrape, on the scraping thread: refresh gauges from state that is
  /// cheaper to read on demand (store positions, consumer lag). Must be quick and not block.
  void on_collect(std::function<void()> refresh);

  /// Prometheus text exposition format (0.0.4).
  std::string serialize() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

/// Named readiness checks; /readyz is 200 when every check passes, else 503.
/// Threading: thread-safe; checks run on the io thread serving /readyz, so they must only read
/// state (an atomic flag, a cached status), never block.
class readiness {
 public:
  struct status {
    bool ready = false;
    std::string detail;  ///< shown in the /readyz body
  };
  using check = std::function<status()>;

  /// Adds or replaces the check called `name` ("eventstore", "projections", "kafka").
  void add(std::string name, check fn);

  struct report {
    bool ready = true;
    std::vector<std::pair<std::string, status>> checks;  ///< in registration order
  };
  report evaluate() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, check>> checks_;
};

/// GET /livez -> 200 {"status":"ok"}
/// GET /readyz -> 200/503 {"status":"ready"|"unavailable","checks":{"name":{"ready":b,
///   "detail":"..."}}}
/// GET /metrics -> 200 text/plain; version=0.0.4
/// All three are route_kind::operations. The registries must outlive the router.
void add_operations_routes(router& r, metrics_registry& metrics, readiness& checks);

/// The server's request observer: records http_requests_total{route,method,status} and
/// http_request_duration_seconds{route,method}, and writes the access log line when
/// `access_log` is set. The registry must outlive the returned function.
request_observer make_request_observer(metrics_registry& metrics, bool access_log);

}  // namespace tenant::api
