#pragma once
/// The platform middleware: what every non-operations request goes through before its handler
/// (DESIGN.md "HTTP", Auth and Rate limits), and the platform's own routes.
///
/// Order of the checks for a route that is not `route_kind::operations`:
///   1. authentication: `Authorization: Bearer <JWT>` (token_verifier) -> 401 UNAUTHENTICATED
///      with `WWW-Authenticate: Bearer` (plus `error="invalid_token"` for a token that was sent
///      but refused);
///   2. `X-Tenant-Id`: must be a tenant id, equal to the token's `tenant_id` when it has one,
///      else a tenant the caller may touch -> else 403 FORBIDDEN; it becomes the principal's
///      effective tenant;
///   3. rate limits (when enabled), charged to the effective tenant, else the token's
///      `tenant_id`, else `user:<sub>` — a key only ever names a tenant the caller may touch, so
///      nobody can spend another tenant's quota. Every authenticated answer (including the 403s
///      below) carries the rate-limit headers; a refusal is 429 RATE_LIMITED;
///   4. scope by route: `/admin/*` (or tag "admin") needs `platform:admin`, commands
///      `tenants:write`, queries `tenants:read` or `tenants:write` -> 403 FORBIDDEN;
///   5. the route's `{id}`: the caller must be allowed to touch that tenant -> 403 FORBIDDEN.
///      For a non-admin an unknown (or malformed) id is also 403, so ids cannot be probed; an
///      admin reaches the handler (404 TENANT_NOT_FOUND). A command without `{id}` (a create)
///      is refused with 403 FORBIDDEN for a token confined to one tenant (`tenant_id`, not an
///      admin): it could never touch the tenant it created.
///
/// Memberships come from a projection, so right after a create (or switch) the caller's next
/// request may arrive before the membership projection folded the event: when a non-admin is
/// refused in step 2 or 5 while the projections are behind the store's head, the check waits
/// (bounded by `membership_wait`) for the projections to reach the head as it was when the
/// request arrived, then checks again. "Create, then GET at once" never spuriously 403s: when
/// the projections are still short of that head after the wait, the membership is not known
/// either way and the answer is 503 UNAVAILABLE with `Retry-After: 1`, not a guessed 403.
///
/// Suspension is not checked here: `domain::decide` is the one place that answers
/// TENANT_SUSPENDED (every write but suspend, reactivate/activate, deactivate/delete, payments
/// and subscription cancel), and the switch route applies the same rule.
///
/// Ownership: the middleware shares `platform_state` (shared_ptr) with whoever built it.
/// Threading: safe from every io thread. Lifecycle: the store, read model and blocking pool
/// must outlive the server.

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tenant/api/auth.hpp"
#include "tenant/api/blocking.hpp"
#include "tenant/api/operations.hpp"
#include "tenant/api/rate_limit.hpp"
#include "tenant/api/router.hpp"

namespace tenant::eventstore {
class event_store;
}
namespace tenant::projections {
class read_model;
}

namespace tenant::api {

/// What the platform middleware needs.
struct platform_state {
  std::shared_ptr<const token_verifier> verifier;  ///< required
  std::shared_ptr<rate_limiter> limiter;           ///< nullptr = `--rate-limits off`
  eventstore::event_store* store = nullptr;        ///< head() for the membership wait; optional
  projections::read_model* model = nullptr;        ///< memberships and plan tiers; required
  blocking_pool* blocking = nullptr;               ///< plan tier lookups that would block; optional
  std::chrono::milliseconds membership_wait{2'000};
  /// Token time (exp/nbf); empty = the system clock.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// Counts 429s by window (tenantd_rate_limited_requests_total{window}); optional.
  std::optional<counter> limited_minute, limited_endpoint, limited_day;
  /// Counts 401s (tenantd_auth_failures_total); optional. One counter, not one per reason: the
  /// reason is in the response, the count shows a misconfigured client or an attack.
  std::optional<counter> auth_failures;
};

/// The middleware of the file comment. Add it with `router::use` before any middleware that
/// reads the principal (the tenant routes' Idempotency-Key scoping).
middleware make_platform_middleware(std::shared_ptr<const platform_state> state);

/// Registers tenantd_rate_limited_requests_total{window} and tenantd_auth_failures_total in
/// `metrics` and stores their handles in `state`.
void add_platform_metrics(platform_state& state, metrics_registry& metrics);

/// Build facts shown by /admin/status.
struct build_info {
  std::string version;
  std::string git_commit;
  std::string build_type;
};
build_info current_build();

/// GET /admin/status and POST /admin/projections/{name}/rebuild (tag "admin": platform:admin).
/// `extra` adds members to the status document (e.g. "kafka"); it runs on the io thread and
/// must not block.
void add_admin_routes(router& r, eventstore::event_store& store, projections::read_model& model,
                      std::function<void(boost::json::object&)> extra = {});

/// GET /docs (and /docs/ assets): Swagger UI from swagger-ui-dist, embedded in the binary at
/// build time, pointed at /api/v1/openapi.json. route_kind::operations (no token).
void add_docs_routes(router& r);
/// Whether the Swagger UI assets were found at build time (docs/ui/node_modules). Without them
/// /docs answers a small HTML page linking the OpenAPI document.
bool docs_assets_embedded();

}  // namespace tenant::api
