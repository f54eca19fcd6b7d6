#pragma once
/// The tenant routes of both APIs (DESIGN.md "HTTP"), the request middleware they need, and the
/// OpenAPI document:
///
///   /api/v1/tenants...       the Tenant API (seed 002 dialect): full tenant resources, 201 on
///                            create, ETag / If-Match, X-Event-Position, time travel, events
///   /v1/tenants...           the TMS-compatible API (seed 001 bodies exactly), tag "tms"
///   /v0.1/tenants...         the same, deprecated: Deprecation, Sunset and Link headers
///   /api/v1/openapi.json     docs/openapi.yaml, converted to JSON at build time
///
/// Middleware installed by add_tenant_routes (after any middleware already in the router, so
/// authentication runs first): X-Min-Position on queries, Idempotency-Key on commands.
///
/// Commands go through `eventstore::repository::execute` (awaited without blocking: completion
/// resumes the request on its connection's executor); RocksDB reads through the read model's
/// non-blocking lookups first and the blocking pool on a miss; lists, time travel, events and
/// idempotency records on the blocking pool. No handler blocks an io_context thread.
///
/// Ownership: the handlers share one `tenant_services` (kept alive by the router's handlers);
/// the store, repository, read model and pool it names must outlive the server. Threading: the
/// handlers are safe from every io thread. Lifecycle: add before `server::start`.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "tenant/api/blocking.hpp"
#include "tenant/api/config.hpp"
#include "tenant/api/router.hpp"
#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::api {

/// What the tenant routes use. Everything referenced must outlive the server.
struct tenant_services {
  eventstore::event_store& store;
  /// nullptr on a read replica: every command answers 421 NOT_WRITER.
  eventstore::repository* repo = nullptr;
  projections::read_model& model;
  blocking_pool& blocking;
  /// Plan seat limits (validation), the X-Min-Position wait, the TMS deprecation dates.
  config cfg;
  /// true when the platform middleware authenticates every non-operations request: a request
  /// without a `principal` is then refused (401) rather than served as the anonymous admin.
  bool auth_required = false;
  /// Ids, trial ends and idempotency expiry; empty = the system clock.
  std::function<domain::clock_time()> clock;
};

/// Registers every tenant route of /api/v1, /v1 and /v0.1 plus the X-Min-Position and
/// Idempotency-Key middleware. Call once, after the platform middleware was added.
void add_tenant_routes(router& r, const tenant_services& services);

/// GET /api/v1/openapi.json (route_kind::operations: needs no token).
void add_openapi_route(router& r);

/// docs/openapi.yaml as JSON (generated at build time; never hand-maintained).
std::string_view openapi_json();

/// `/v0.1` answers carry these (RFC 9745 `Deprecation`, RFC 8594 `Sunset`).
inline constexpr std::string_view tms_v01_deprecation = "@1735689600";  // 2025-01-01T00:00:00Z
inline constexpr std::string_view tms_v01_sunset = "Thu, 31 Dec 2026 23:59:59 GMT";

}  // namespace tenant::api
