#pragma once
/// The wiring of tenantd: one object that owns every long-lived part and starts and stops them
/// in order. Modules plug in here, each in its own step of `start()`:
///
///   1. prepare_data_dir   the data directory
///   2. open_storage       event store (<data-dir>/eventstore), read model (<data-dir>/projections)
///   3. start_background   repository (writer), projector, provisioning process manager
///                         (writer), Kafka (kafka_wiring.hpp)
///   4. register_routes    operations endpoints, the platform middleware (auth, rate limits),
///                         the tenant routes of /api/v1, /v1 and /v0.1 and the OpenAPI document
///   5. the server         bind, TLS, signals
///
/// `run()` serves until SIGINT/SIGTERM, then stops in reverse order: server (drains requests),
/// background work, storage. Ownership: owns everything it wires. Threading: start/run/stop from
/// the main thread; the parts document their own threading.

#include <boost/system/result.hpp>
#include <memory>
#include <string>

#include "kafka_wiring.hpp"
#include "platform_wiring.hpp"
#include "tenant/api/blocking.hpp"
#include "tenant/api/config.hpp"
#include "tenant/api/operations.hpp"
#include "tenant/api/router.hpp"
#include "tenant/api/server.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/provisioning.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenantd {

class app {
 public:
  explicit app(tenant::api::config cfg);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  /// Everything up to a listening socket. The error is for the operator (logged, exit 1).
  boost::system::result<void, std::string> start();
  /// Serves until a signal or stop(); returns the process exit code.
  int run();
  /// Graceful shutdown from any thread.
  void stop();

  const tenant::api::config& config() const { return cfg_; }
  tenant::api::router& routes() { return router_; }
  tenant::api::metrics_registry& metrics() { return metrics_; }
  tenant::api::readiness& readiness() { return readiness_; }
  tenant::api::blocking_pool& blocking() { return blocking_; }
  /// Valid after a successful start().
  tenant::api::server& http() { return *server_; }
  /// Valid after open_storage.
  tenant::eventstore::event_store& store() { return *store_; }
  tenant::projections::read_model& read_model() { return *model_; }
  /// nullptr on a replica (it decides no commands).
  tenant::eventstore::repository* repository() { return repo_.get(); }
  /// Valid after start_background (the "kafka" object of /admin/status).
  kafka_wiring* kafka() { return kafka_.get(); }

 private:
  boost::system::result<void, std::string> prepare_data_dir();
  boost::system::result<void, std::string> open_storage();
  boost::system::result<void, std::string> start_background();
  void register_routes();
  void stop_background();
  void close_storage();

  // Declaration order is destruction order reversed: the server goes first (it references the
  // router, whose handlers reference everything above it), then the blocking pool (requests may
  // still be waiting on it until then), then the background parts, then the storage.
  tenant::api::config cfg_;
  tenant::api::metrics_registry metrics_;
  tenant::api::readiness readiness_;
  std::unique_ptr<tenant::eventstore::event_store> store_;
  std::unique_ptr<tenant::projections::read_model> model_;
  std::unique_ptr<tenant::eventstore::repository> repo_;
  std::unique_ptr<tenant::projections::provisioning_manager> provisioning_;
  /// Authentication, rate limits, /admin, /docs (platform_wiring.hpp).
  std::unique_ptr<platform_wiring> platform_;
  std::unique_ptr<kafka_wiring> kafka_;
  /// Set by the platform wiring when it installs authentication: the tenant routes then refuse
  /// a request without a principal instead of serving it as the anonymous admin.
  bool auth_installed_ = false;
  bool background_stopped_ = false;
  tenant::api::blocking_pool blocking_;
  tenant::api::router router_;
  std::unique_ptr<tenant::api::server> server_;
};

}  // namespace tenantd
