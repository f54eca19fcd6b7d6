#pragma once
/// Kafka in tenantd: starts consumers::service for this node (writer: embedded broker when no
/// --kafka-brokers, relay, billing and usage consumers; replica: the replica projector and its
/// usage consumer) and plugs its status into the operations endpoints:
///
///   /readyz        check "kafka": always ready (a writer keeps taking commands while Kafka is
///                  away: the backlog waits in the log), the detail warns with the lag
///   /metrics       tenantd_kafka_* gauges and counters, refreshed at scrape time
///   /admin/status  admin_status(): bootstrap servers, topic, relay/replica and consumers
///
/// Ownership: owns the service; borrows the store, repository, read model, registries (all must
/// outlive it). Threading: status getters from any thread; start/stop from the main thread.
/// Lifecycle: start() in app::start_background, stop() first in app::stop_background.

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <memory>
#include <string>

#include "tenant/api/config.hpp"
#include "tenant/api/operations.hpp"
#include "tenant/consumers/service.hpp"

namespace tenant::eventstore {
class event_store;
class repository;
}  // namespace tenant::eventstore
namespace tenant::projections {
class read_model;
}

namespace tenantd {

class kafka_wiring {
 public:
  /// `repo` is required on a writer; `model` (may be null) feeds tenant.usage.
  static boost::system::result<std::unique_ptr<kafka_wiring>, std::string> start(
      const tenant::api::config& cfg, tenant::eventstore::event_store& store,
      tenant::eventstore::repository* repo, tenant::projections::read_model* model,
      tenant::api::metrics_registry& metrics, tenant::api::readiness& readiness);

  ~kafka_wiring();
  kafka_wiring(const kafka_wiring&) = delete;
  kafka_wiring& operator=(const kafka_wiring&) = delete;

  tenant::consumers::service_status status() const;
  /// The "kafka" object of GET /admin/status.
  boost::json::object admin_status() const;
  void stop();

 private:
  explicit kafka_wiring(std::unique_ptr<tenant::consumers::service> s);
  std::unique_ptr<tenant::consumers::service> service_;
};

/// admin_status() of a status snapshot (pure; tested without Kafka).
boost::json::object to_json(const tenant::consumers::service_status& s);

}  // namespace tenantd
