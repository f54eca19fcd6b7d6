#include "tenant/api/problem.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <cctype>

namespace tenant::api {

namespace {

struct code_info {
  problem_code code;
  http::status status;
  std::string_view wire;
  std::string_view title;
  std::string_view default_detail;
};

// The table: one row per wire code. status_of/wire_code/title_of all read it.
constexpr std::array<code_info, 21> table{{
    {problem_code::tenant_not_found, http::status::not_found, "TENANT_NOT_FOUND",
     "Tenant not found", "The tenant does not exist."},
    {problem_code::tenant_suspended, http::status::forbidden, "TENANT_SUSPENDED",
     "Tenant suspended", "The tenant account is suspended."},
    {problem_code::tenant_deactivated, http::status::conflict, "TENANT_DEACTIVATED",
     "Tenant deactivated", "The tenant is deactivated."},
    {problem_code::plan_limit_exceeded, http::status::unprocessable_entity, "PLAN_LIMIT_EXCEEDED",
     "Plan limit exceeded", "The request exceeds the plan's seat limit."},
    {problem_code::duplicate_domain, http::status::conflict, "DUPLICATE_DOMAIN", "Duplicate domain",
     "The domain is already registered to another tenant."},
    {problem_code::validation_failed, http::status::unprocessable_entity, "VALIDATION_FAILED",
     "Validation failed", "The given data was invalid."},
    {problem_code::unauthenticated, http::status::unauthorized, "UNAUTHENTICATED",
     "Unauthenticated", "A valid bearer token is required."},
    {problem_code::forbidden, http::status::forbidden, "FORBIDDEN", "Forbidden",
     "The caller may not access this resource."},
    {problem_code::rate_limited, http::status::too_many_requests, "RATE_LIMITED",
     "Rate limit exceeded", "Too many requests; retry later."},
    {problem_code::precondition_failed, http::status::precondition_failed, "PRECONDITION_FAILED",
     "Precondition failed", "If-Match does not match the current version."},
    {problem_code::concurrency_conflict, http::status::conflict, "CONCURRENCY_CONFLICT",
     "Concurrency conflict", "The resource was changed concurrently; retry."},
    {problem_code::idempotency_key_reused, http::status::unprocessable_entity,
     "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused",
     "The Idempotency-Key was already used with a different request."},
    {problem_code::payload_too_large, http::status::payload_too_large, "PAYLOAD_TOO_LARGE",
     "Payload too large", "The request body exceeds the limit."},
    {problem_code::headers_too_large, http::status::request_header_fields_too_large,
     "HEADERS_TOO_LARGE", "Request header fields too large",
     "The request line and headers exceed the limit."},
    {problem_code::bad_request, http::status::bad_request, "BAD_REQUEST", "Bad request",
     "The request is malformed."},
    {problem_code::not_found, http::status::not_found, "NOT_FOUND", "Not found",
     "No resource at this path."},
    {problem_code::method_not_allowed, http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
     "Method not allowed", "The method is not allowed on this resource."},
    {problem_code::unsupported_media_type, http::status::unsupported_media_type,
     "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type",
     "The request body must be application/json."},
    {problem_code::unavailable, http::status::service_unavailable, "UNAVAILABLE",
     "Service unavailable", "The service is temporarily unavailable; retry later."},
    {problem_code::not_writer, http::status::misdirected_request, "NOT_WRITER", "Not the writer",
     "This node is a read replica; send commands to the writer."},
    {problem_code::internal, http::status::internal_server_error, "INTERNAL",
     "Internal server error", "An unexpected error occurred."},
}};

const code_info& info(problem_code c) {
  auto i = static_cast<std::size_t>(c);
  return i < table.size() ? table[i] : table.back();
}

}  // namespace

std::string_view wire_code(problem_code c) {
  return info(c).wire;
}
http::status status_of(problem_code c) {
  return info(c).status;
}
std::string_view title_of(problem_code c) {
  return info(c).title;
}

std::string type_uri(problem_code c) {
  std::string out = "urn:tenantd:problem:";
  for (char ch : info(c).wire)
    out += ch == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::optional<problem_code> parse_wire_code(std::string_view code) {
  for (const auto& row : table) {
    if (row.wire == code) return row.code;
  }
  return std::nullopt;
}

problem make_problem(problem_code code, std::string detail) {
  problem p;
  p.code = code;
  p.detail = detail.empty() ? std::string(info(code).default_detail) : std::move(detail);
  return p;
}

problem validation_problem(domain::field_errors errors) {
  problem p = make_problem(problem_code::validation_failed);
  p.errors = std::move(errors);
  return p;
}

problem method_not_allowed(std::span<const http::verb> allowed) {
  problem p = make_problem(problem_code::method_not_allowed);
  std::string allow;
  for (auto v : allowed) {
    if (!allow.empty()) allow += ", ";
    allow += http::to_string(v);
  }
  p.headers.emplace_back("Allow", std::move(allow));
  return p;
}

problem unauthenticated(std::string detail) {
  problem p = make_problem(problem_code::unauthenticated, std::move(detail));
  p.headers.emplace_back("WWW-Authenticate", "Bearer");
  return p;
}

problem to_problem(const domain::error& e) {
  using domain::errc;
  problem_code code = problem_code::internal;
  switch (e.code) {
    case errc::tenant_not_found:
      code = problem_code::tenant_not_found;
      break;
    case errc::tenant_suspended:
      code = problem_code::tenant_suspended;
      break;
    case errc::tenant_deactivated:
      code = problem_code::tenant_deactivated;
      break;
    case errc::plan_limit_exceeded:
      code = problem_code::plan_limit_exceeded;
      break;
    case errc::duplicate_domain:
      code = problem_code::duplicate_domain;
      break;
    case errc::validation_failed:
      code = problem_code::validation_failed;
      break;
    case errc::tenant_already_exists:
      // Creating a stream that exists only happens when two creates race on one id: a
      // concurrency conflict from the caller's point of view.
      code = problem_code::concurrency_conflict;
      break;
  }
  problem p = make_problem(code, e.detail);
  if (status_of(code) == http::status::unprocessable_entity) p.errors = e.fields;
  return p;
}

problem to_problem(std::error_code ec) {
  if (ec.category() == eventstore::error_category()) {
    switch (static_cast<eventstore::errc>(ec.value())) {
      case eventstore::errc::storage_unavailable:
        return make_problem(problem_code::unavailable,
                            "The event store is unavailable; retry later.");
      case eventstore::errc::closed:
        return make_problem(problem_code::unavailable, "The service is shutting down.");
      case eventstore::errc::wrong_expected_version:
        return make_problem(problem_code::concurrency_conflict);
      case eventstore::errc::duplicate_domain:
        return make_problem(problem_code::duplicate_domain);
      case eventstore::errc::not_found:
        return make_problem(problem_code::tenant_not_found);
      case eventstore::errc::duplicate_event_id:
      case eventstore::errc::invalid_argument:
      case eventstore::errc::corruption:
        break;
      default:
        // Codes added to the store later are internal until mapped here deliberately.
        break;
    }
  }
  return make_problem(problem_code::internal);
}

problem to_problem(const eventstore::append_error& e) {
  problem p = to_problem(eventstore::make_error_code(e.code));
  if (e.code == eventstore::errc::wrong_expected_version) {
    p.detail = "The tenant was changed concurrently (now at version " +
               std::to_string(e.actual_version) + "); retry.";
  }
  return p;
}

boost::json::object to_json(const problem& p) {
  boost::json::object o;
  o["type"] = type_uri(p.code);
  o["title"] = title_of(p.code);
  o["status"] = static_cast<unsigned>(p.status());
  o["detail"] = p.detail;
  o["code"] = wire_code(p.code);
  // Seed 001's 422 body says exactly this, whatever the detail of the occurrence.
  o["message"] = p.code == problem_code::validation_failed
                     ? std::string_view(info(p.code).default_detail)
                     : std::string_view(p.detail);
  if (p.status() == http::status::unprocessable_entity) {
    boost::json::object errors;
    for (const auto& [field, messages] : p.errors) {
      boost::json::array list;
      for (const auto& m : messages)
        list.emplace_back(m);
      errors[field] = std::move(list);
    }
    o["errors"] = std::move(errors);
  }
  return o;
}

response to_response(const problem& p) {
  response res{p.status(), 11};
  res.set(http::field::content_type, "application/problem+json");
  for (const auto& [name, value] : p.headers)
    res.set(name, value);
  res.body() = boost::json::serialize(to_json(p));
  res.prepare_payload();
  return res;
}

}  // namespace tenant::api
