#pragma once
/// Platform concerns in tenantd (DESIGN.md "HTTP": Auth, Rate limits, Operations):
///
///   - the bearer-token verifier from --jwt-secret (HS256) or --jwt-public-key (RS256); with
///     neither, a development secret kept in <data-dir>/dev-jwt-secret and a `platform:admin`
///     development token printed on stdout at start (one plain line, never a log record);
///   - the platform middleware (authentication, X-Tenant-Id, rate limits, scopes, tenant
///     scoping: api/platform.hpp), installed before the tenant routes' middleware;
///   - GET /admin/status, POST /admin/projections/{name}/rebuild, GET /docs;
///   - metrics: tenantd_events_appended_total, tenantd_appends_total,
///     tenantd_group_commit_events (histogram, from the store's commit observer),
///     tenantd_eventstore_head_position, tenantd_projection_checkpoint_position{projection},
///     tenantd_projection_lag_events{projection}, tenantd_rate_limited_requests_total{window},
///     tenantd_auth_failures_total.
///
/// Ownership: shares the middleware's state; borrows the store, read model, pool and registries
/// (all must outlive the server). Threading: install from the main thread before the server
/// starts. Lifecycle: keep the object for the process's lifetime (app member).

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <functional>
#include <memory>
#include <string>

#include "tenant/api/blocking.hpp"
#include "tenant/api/config.hpp"
#include "tenant/api/operations.hpp"
#include "tenant/api/platform.hpp"
#include "tenant/api/router.hpp"

namespace tenant::eventstore {
class event_store;
}
namespace tenant::projections {
class read_model;
}

namespace tenantd {

class platform_wiring {
 public:
  /// `admin_extra` adds members to /admin/status (e.g. the "kafka" object); non-blocking.
  /// The error is an operator message (an unreadable key file, a data dir that cannot hold the
  /// development secret).
  static boost::system::result<std::unique_ptr<platform_wiring>, std::string> install(
      const tenant::api::config& cfg, tenant::api::router& router,
      tenant::api::metrics_registry& metrics, tenant::eventstore::event_store& store,
      tenant::projections::read_model& model, tenant::api::blocking_pool& blocking,
      std::function<void(boost::json::object&)> admin_extra = {});

  /// The development token printed at start; empty when a key was configured.
  const std::string& development_token() const { return dev_token_; }
  /// nullptr with --rate-limits off.
  tenant::api::rate_limiter* limiter() const { return state_->limiter.get(); }

 private:
  platform_wiring() = default;
  std::shared_ptr<tenant::api::platform_state> state_;
  std::string dev_token_;
};

}  // namespace tenantd
