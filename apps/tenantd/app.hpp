#pragma once
/// The wiring of tenantd: one object that owns every long-lived part and starts and stops them
/// in order. Modules plug in here, each in its own step of `start()`:
///
///   1. prepare_data_dir   the data directory
///   2. open_storage       event store (RocksDB at <data-dir>/eventstore)   [event store issue]
///   3. start_background   projections, process managers, Kafka relay and consumers
///   4. register_routes    operations endpoints now; /api/v1, /v1, /v0.1 routes and the
///                         middleware chain (auth, rate limits, replica refusal) later
///   5. the server         bind, TLS, signals
///
/// `run()` serves until SIGINT/SIGTERM, then stops in reverse order: server (drains requests),
/// background work, storage. Ownership: owns everything it wires. Threading: start/run/stop from
/// the main thread; the parts document their own threading.

#include <boost/system/result.hpp>
#include <memory>
#include <string>

#include "tenant/api/blocking.hpp"
#include "tenant/api/config.hpp"
#include "tenant/api/operations.hpp"
#include "tenant/api/router.hpp"
#include "tenant/api/server.hpp"

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

 private:
  boost::system::result<void, std::string> prepare_data_dir();
  boost::system::result<void, std::string> open_storage();
  boost::system::result<void, std::string> start_background();
  void register_routes();
  void stop_background();

  // Declaration order is destruction order reversed: the server goes first (it references the
  // router), the blocking pool after it (requests may still be waiting on it until then).
  tenant::api::config cfg_;
  tenant::api::metrics_registry metrics_;
  tenant::api::readiness readiness_;
  tenant::api::blocking_pool blocking_;
  tenant::api::router router_;
  std::unique_ptr<tenant::api::server> server_;
};

}  // namespace tenantd
