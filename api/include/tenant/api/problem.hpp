#pragma once
/// Problem documents (RFC 9457 `application/problem+json`) and THE mapping of every error the
/// API can meet — domain errors, event store errors, HTTP-level refusals — to a status and a
/// wire `code` (DESIGN.md "HTTP", Errors). Handlers return `to_response(to_problem(e))`; nothing
/// else decides a status code for an error.
///
/// Body, members in this order:
///   {"type": "urn:tenantd:problem:tenant-not-found", "title": "Tenant not found", "status": 404,
///    "detail": "...", "code": "TENANT_NOT_FOUND", "message": "...", "errors": {...}}
/// `errors` (field -> messages) is present on every 422 and only there; a 422's `message` is
/// "The given data was invalid." so that seed 001's body is a subset of the document.

#include <boost/json/object.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tenant/api/http.hpp"
#include "tenant/domain/errors.hpp"
#include "tenant/domain/profile.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::api {

/// Wire codes (the `code` member). Numbers are not persisted; names are the contract.
enum class problem_code : std::uint8_t {
  tenant_not_found,        ///< 404 TENANT_NOT_FOUND
  tenant_suspended,        ///< 403 TENANT_SUSPENDED
  tenant_deactivated,      ///< 409 TENANT_DEACTIVATED
  plan_limit_exceeded,     ///< 422 PLAN_LIMIT_EXCEEDED
  duplicate_domain,        ///< 409 DUPLICATE_DOMAIN
  validation_failed,       ///< 422 VALIDATION_FAILED
  unauthenticated,         ///< 401 UNAUTHENTICATED, with WWW-Authenticate: Bearer
  forbidden,               ///< 403 FORBIDDEN
  rate_limited,            ///< 429 RATE_LIMITED
  precondition_failed,     ///< 412 PRECONDITION_FAILED
  concurrency_conflict,    ///< 409 CONCURRENCY_CONFLICT
  idempotency_key_reused,  ///< 422 IDEMPOTENCY_KEY_REUSED
  payload_too_large,       ///< 413 PAYLOAD_TOO_LARGE
  headers_too_large,       ///< 431 HEADERS_TOO_LARGE (not in DESIGN.md's list: Beast's limit)
  bad_request,             ///< 400 BAD_REQUEST
  not_found,               ///< 404 NOT_FOUND (no such route)
  method_not_allowed,      ///< 405 METHOD_NOT_ALLOWED, with Allow
  unsupported_media_type,  ///< 415 UNSUPPORTED_MEDIA_TYPE
  unavailable,             ///< 503 UNAVAILABLE
  not_writer,              ///< 421 NOT_WRITER
  internal,                ///< 500 INTERNAL
};

/// "TENANT_NOT_FOUND", ...
std::string_view wire_code(problem_code c);
http::status status_of(problem_code c);
/// Short, fixed summary of the problem type ("Tenant not found").
std::string_view title_of(problem_code c);
/// The `type` URI: "urn:tenantd:problem:" + kebab-case code.
std::string type_uri(problem_code c);
/// Parses a wire code back ("TENANT_NOT_FOUND" -> tenant_not_found), for clients and tests.
std::optional<problem_code> parse_wire_code(std::string_view code);

/// One problem occurrence. Build with make_problem / to_problem; add headers as needed.
struct problem {
  problem_code code = problem_code::internal;
  std::string detail;           ///< this occurrence, safe to show the caller
  domain::field_errors errors;  ///< 422 only; keys like "name", "settings.max_seats"
  /// Extra response headers (Allow, WWW-Authenticate, Retry-After, ...).
  std::vector<std::pair<std::string, std::string>> headers;

  http::status status() const { return status_of(code); }
};

/// A problem with the code's default detail when `detail` is empty.
problem make_problem(problem_code code, std::string detail = {});
/// 422 VALIDATION_FAILED with every field's messages.
problem validation_problem(domain::field_errors errors);
/// 405 with `Allow: GET, PUT` (methods in the given order).
problem method_not_allowed(std::span<const http::verb> allowed);
/// 401 with `WWW-Authenticate: Bearer`.
problem unauthenticated(std::string detail = {});

// ---- the mapping (one place) ----
/// Domain decision errors: not found 404, suspended 403, deactivated 409, plan limit 422,
/// duplicate domain 409, validation 422, already exists 409 CONCURRENCY_CONFLICT.
problem to_problem(const domain::error& e);
/// Event store errors (and any other category): storage_unavailable/closed 503 UNAVAILABLE,
/// wrong_expected_version 409 CONCURRENCY_CONFLICT, duplicate_domain 409 DUPLICATE_DOMAIN,
/// not_found 404 TENANT_NOT_FOUND, anything else 500 INTERNAL (detail kept generic: internal
/// messages are logged by the caller, not shown).
problem to_problem(std::error_code ec);
problem to_problem(const eventstore::append_error& e);

/// The JSON document (members in the documented order).
boost::json::object to_json(const problem& p);
/// The full response: status, `Content-Type: application/problem+json`, extra headers, body.
response to_response(const problem& p);

}  // namespace tenant::api
