#include "tenant/api/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tenant::api {
namespace {

struct expected_code {
  problem_code code;
  unsigned status;
  std::string_view wire;
};

// DESIGN.md "HTTP" Errors: every code and its status.
const expected_code all_codes[] = {
    {problem_code::tenant_not_found, 404, "TENANT_NOT_FOUND"},
    {problem_code::tenant_suspended, 403, "TENANT_SUSPENDED"},
    {problem_code::tenant_deactivated, 409, "TENANT_DEACTIVATED"},
    {problem_code::plan_limit_exceeded, 422, "PLAN_LIMIT_EXCEEDED"},
    {problem_code::duplicate_domain, 409, "DUPLICATE_DOMAIN"},
    {problem_code::validation_failed, 422, "VALIDATION_FAILED"},
    {problem_code::unauthenticated, 401, "UNAUTHENTICATED"},
    {problem_code::forbidden, 403, "FORBIDDEN"},
    {problem_code::rate_limited, 429, "RATE_LIMITED"},
    {problem_code::precondition_failed, 412, "PRECONDITION_FAILED"},
    {problem_code::concurrency_conflict, 409, "CONCURRENCY_CONFLICT"},
    {problem_code::idempotency_key_reused, 422, "IDEMPOTENCY_KEY_REUSED"},
    {problem_code::payload_too_large, 413, "PAYLOAD_TOO_LARGE"},
    {problem_code::headers_too_large, 431, "HEADERS_TOO_LARGE"},
    {problem_code::bad_request, 400, "BAD_REQUEST"},
    {problem_code::not_found, 404, "NOT_FOUND"},
    {problem_code::method_not_allowed, 405, "METHOD_NOT_ALLOWED"},
    {problem_code::unsupported_media_type, 415, "UNSUPPORTED_MEDIA_TYPE"},
    {problem_code::unavailable, 503, "UNAVAILABLE"},
    {problem_code::not_writer, 421, "NOT_WRITER"},
    {problem_code::internal, 500, "INTERNAL"},
};

TEST(problem, every_code_has_its_status_and_wire_name) {
  for (const auto& e : all_codes) {
    EXPECT_EQ(static_cast<unsigned>(status_of(e.code)), e.status) << e.wire;
    EXPECT_EQ(wire_code(e.code), e.wire);
    EXPECT_EQ(parse_wire_code(e.wire), e.code);
    EXPECT_FALSE(title_of(e.code).empty()) << e.wire;
  }
  EXPECT_EQ(parse_wire_code("NOPE"), std::nullopt);
}

TEST(problem, every_document_has_the_members_in_order_and_errors_only_on_422) {
  for (const auto& e : all_codes) {
    auto res = to_response(make_problem(e.code));
    EXPECT_EQ(res.result_int(), e.status) << e.wire;
    EXPECT_EQ(res[http::field::content_type], "application/problem+json") << e.wire;
    auto doc = boost::json::parse(res.body()).as_object();
    std::vector<std::string> keys;
    for (const auto& kv : doc)
      keys.emplace_back(kv.key());
    std::vector<std::string> expected{"type", "title", "status", "detail", "code", "message"};
    if (e.status == 422) expected.emplace_back("errors");
    EXPECT_EQ(keys, expected) << e.wire;
    EXPECT_EQ(doc.at("status"), e.status);
    EXPECT_EQ(doc.at("code").as_string(), e.wire);
    EXPECT_EQ(doc.at("title").as_string(), title_of(e.code));
    EXPECT_EQ(doc.at("type").as_string(), type_uri(e.code));
  }
}

TEST(problem, exact_body_of_a_not_found) {
  auto res = to_response(make_problem(problem_code::tenant_not_found, "No tenant tn_x."));
  EXPECT_EQ(res.body(),
            R"({"type":"urn:tenantd:problem:tenant-not-found","title":"Tenant not found",)"
            R"("status":404,"detail":"No tenant tn_x.","code":"TENANT_NOT_FOUND",)"
            R"("message":"No tenant tn_x."})");
}

TEST(problem, exact_body_of_a_validation_failure_contains_seed_001s_body) {
  domain::field_errors errors{
      {"name", {"The name field is required."}},
      {"country_code",
       {"The country code field is invalid. It must be ISO 3166-1 alpha-2 country code."}},
  };
  auto res = to_response(validation_problem(errors));
  EXPECT_EQ(res.result(), http::status::unprocessable_entity);
  EXPECT_EQ(
      res.body(),
      R"({"type":"urn:tenantd:problem:validation-failed","title":"Validation failed",)"
      R"("status":422,"detail":"The given data was invalid.","code":"VALIDATION_FAILED",)"
      R"("message":"The given data was invalid.","errors":{"country_code":["The country code )"
      R"(field is invalid. It must be ISO 3166-1 alpha-2 country code."],"name":["The name )"
      R"(field is required."]}})");
}

TEST(problem, validation_message_stays_the_seed_sentence_whatever_the_detail) {
  auto p = make_problem(problem_code::validation_failed, "Two fields are wrong.");
  auto doc = to_json(p);
  EXPECT_EQ(doc.at("detail"), "Two fields are wrong.");
  EXPECT_EQ(doc.at("message"), "The given data was invalid.");
  EXPECT_TRUE(doc.at("errors").as_object().empty());
}

TEST(problem, nested_fields_are_dotted_keys) {
  auto doc = to_json(validation_problem({{"settings.max_seats", {"m"}}}));
  EXPECT_EQ(boost::json::serialize(doc.at("errors")), R"({"settings.max_seats":["m"]})");
}

TEST(problem, method_not_allowed_lists_allow) {
  const http::verb allowed[] = {http::verb::get, http::verb::put, http::verb::delete_};
  auto res = to_response(method_not_allowed(allowed));
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, PUT, DELETE");
}

TEST(problem, unauthenticated_challenges_with_bearer) {
  auto res = to_response(unauthenticated("The token expired."));
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_EQ(res[http::field::www_authenticate], "Bearer");
  EXPECT_EQ(boost::json::parse(res.body()).at("detail"), "The token expired.");
}

TEST(problem, domain_errors_map_to_their_codes) {
  struct row {
    domain::errc in;
    problem_code out;
    unsigned status;
  };
  const row rows[] = {
      {domain::errc::tenant_not_found, problem_code::tenant_not_found, 404},
      {domain::errc::tenant_suspended, problem_code::tenant_suspended, 403},
      {domain::errc::tenant_deactivated, problem_code::tenant_deactivated, 409},
      {domain::errc::plan_limit_exceeded, problem_code::plan_limit_exceeded, 422},
      {domain::errc::duplicate_domain, problem_code::duplicate_domain, 409},
      {domain::errc::validation_failed, problem_code::validation_failed, 422},
      {domain::errc::tenant_already_exists, problem_code::concurrency_conflict, 409},
  };
  for (const auto& r : rows) {
    auto p = to_problem(domain::error{r.in, "detail text", {}});
    EXPECT_EQ(p.code, r.out) << static_cast<int>(r.in);
    EXPECT_EQ(static_cast<unsigned>(p.status()), r.status);
    EXPECT_EQ(p.detail, "detail text");
  }
}

TEST(problem, domain_field_errors_reach_the_422_body) {
  domain::error e{domain::errc::plan_limit_exceeded,
                  "Too many seats.",
                  {{"settings.max_seats", {"The max seats may not be greater than 10."}}}};
  auto doc = to_json(to_problem(e));
  EXPECT_EQ(doc.at("code"), "PLAN_LIMIT_EXCEEDED");
  EXPECT_EQ(boost::json::serialize(doc.at("errors")),
            R"({"settings.max_seats":["The max seats may not be greater than 10."]})");
  // A non-422 domain error never shows an errors member even if fields were attached.
  domain::error nf{domain::errc::tenant_not_found, "", {{"x", {"y"}}}};
  auto nf_doc = to_json(to_problem(nf));
  EXPECT_FALSE(nf_doc.contains("errors"));
  EXPECT_EQ(nf_doc.at("detail"), "The tenant does not exist.");
}

TEST(problem, event_store_errors_map_to_their_codes) {
  using eventstore::errc;
  struct row {
    errc in;
    problem_code out;
  };
  const row rows[] = {
      {errc::storage_unavailable, problem_code::unavailable},
      {errc::closed, problem_code::unavailable},
      {errc::wrong_expected_version, problem_code::concurrency_conflict},
      {errc::duplicate_domain, problem_code::duplicate_domain},
      {errc::not_found, problem_code::tenant_not_found},
      {errc::corruption, problem_code::internal},
      {errc::invalid_argument, problem_code::internal},
      {errc::duplicate_event_id, problem_code::internal},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(to_problem(eventstore::make_error_code(r.in)).code, r.out) << static_cast<int>(r.in);
  }
  // Another category is an internal error, and its message is not shown.
  auto other = to_problem(std::make_error_code(std::errc::permission_denied));
  EXPECT_EQ(other.code, problem_code::internal);
  EXPECT_EQ(other.detail.find("ermission"), std::string::npos);
}

TEST(problem, append_conflict_names_the_current_version) {
  eventstore::append_error e{eventstore::errc::wrong_expected_version, 7, "internal"};
  auto p = to_problem(e);
  EXPECT_EQ(p.code, problem_code::concurrency_conflict);
  EXPECT_NE(p.detail.find("version 7"), std::string::npos);
  EXPECT_EQ(to_problem(eventstore::append_error{eventstore::errc::storage_unavailable, 0, "disk"})
                .status(),
            http::status::service_unavailable);
}

}  // namespace
}  // namespace tenant::api
