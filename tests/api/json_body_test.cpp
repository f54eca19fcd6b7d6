#include "tenant/api/json_body.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "test_support.hpp"

namespace tenant::api {
namespace {

using test::make_request;

request json(std::string body, std::string content_type = "application/json") {
  return make_request(http::verb::post, "/api/v1/tenants", std::move(body),
                      std::move(content_type));
}

problem_code refusal(const request& req) {
  auto r = parse_json_body(req);
  EXPECT_FALSE(r.has_value());
  return r ? problem_code::internal : r.error().code;
}

TEST(json_body, accepts_application_json_with_parameters) {
  for (const char* ct : {"application/json", "application/json; charset=utf-8",
                         "Application/JSON;charset=\"UTF-8\"", "application/json ; charset=UTF8"}) {
    EXPECT_TRUE(parse_json_body(json("{}", ct)).has_value()) << ct;
  }
}

TEST(json_body, other_content_types_are_415) {
  for (const char* ct : {"text/plain", "application/jsonx", "application/x-www-form-urlencoded",
                         "application/json; charset=latin1", "application/json; garbage", "json"}) {
    EXPECT_EQ(refusal(json("{}", ct)), problem_code::unsupported_media_type) << ct;
  }
  // No Content-Type at all.
  auto req = json("{}", "");
  EXPECT_EQ(refusal(req), problem_code::unsupported_media_type);
  EXPECT_EQ(status_of(problem_code::unsupported_media_type), http::status::unsupported_media_type);
}

TEST(json_body, malformed_json_is_400) {
  for (const char* body : {"{\"a\":", "", "   ", "{'a':1}", "{\"a\":1,}", "{\"a\":1} x", "nul",
                           "{\"a\":01}", "{\"a\":\"\x01\"}"}) {
    auto r = parse_json_body(json(body));
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, problem_code::bad_request) << body;
    EXPECT_FALSE(r.error().detail.empty());
  }
}

TEST(json_body, invalid_utf8_is_400) {
  auto r = parse_json_body(json("{\"name\":\"caf\xC3\x28\"}"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, problem_code::bad_request);
  EXPECT_NE(r.error().detail.find("UTF-8"), std::string::npos);
}

TEST(json_body, duplicate_keys_are_400_at_any_depth) {
  for (const char* body :
       {R"({"name":"a","name":"b"})", R"({"settings":{"locale":"a","locale":"b"}})",
        R"({"list":[{"k":1,"k":2}]})",
        R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":0})"}) {
    auto r = parse_json_body(json(body));
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, problem_code::bad_request) << body;
    EXPECT_NE(r.error().detail.find("more than once"), std::string::npos) << body;
  }
  EXPECT_TRUE(parse_json_body(json(R"({"a":{"k":1},"b":{"k":2}})")).has_value());
}

std::string nested(std::size_t depth) {
  std::string s = "{\"a\":";
  for (std::size_t i = 1; i < depth; ++i)
    s += "[";
  s += "1";
  for (std::size_t i = 1; i < depth; ++i)
    s += "]";
  return s + "}";
}

TEST(json_body, nesting_is_bounded) {
  EXPECT_TRUE(parse_json_body(json(nested(8))).has_value());
  auto deep = parse_json_body(json(nested(max_json_depth + 5)));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, problem_code::bad_request);
  auto very_deep = parse_json_body(json(nested(100000)));
  ASSERT_FALSE(very_deep.has_value());
  EXPECT_EQ(very_deep.error().code, problem_code::bad_request);
}

TEST(json_body, top_level_must_be_an_object) {
  for (const char* body : {"[1,2]", "\"x\"", "42", "null", "true"}) {
    auto r = parse_json_body(json(body));
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, problem_code::bad_request);
    EXPECT_EQ(r.error().detail, "The request body must be a JSON object.");
  }
}

TEST(json_body, typed_accessors_read_values_and_collect_type_errors) {
  auto r = parse_json_body(
      json(R"({"s":"text","i":42,"neg":-7,"f":1.5,"b":true,"n":null,"o":{"x":1},"a":[1],)"
           R"("big":9223372036854775808,"whole":5.0,"exp":1e3,"num_s":"5"})"));
  ASSERT_TRUE(r.has_value());
  auto& body = *r;
  EXPECT_EQ(body.string("s"), "text");
  EXPECT_EQ(body.integer("i"), 42);
  EXPECT_EQ(body.integer("neg"), -7);
  EXPECT_EQ(body.number("f"), 1.5);
  EXPECT_EQ(body.number("i"), 42.0);
  EXPECT_EQ(body.boolean("b"), true);
  EXPECT_TRUE(body.errors().empty());

  // Absent and null read as "not given" without an error.
  EXPECT_EQ(body.string("missing"), std::nullopt);
  EXPECT_EQ(body.string("n"), std::nullopt);
  EXPECT_EQ(body.integer("n"), std::nullopt);
  EXPECT_TRUE(body.errors().empty());
  EXPECT_EQ(body.kind("n"), json_kind::null);
  EXPECT_EQ(body.kind("missing"), json_kind::missing);
  EXPECT_FALSE(body.has("n"));
  EXPECT_TRUE(body.has("s"));
  EXPECT_EQ(body.kind("o"), json_kind::object);
  EXPECT_EQ(body.kind("a"), json_kind::array);
  EXPECT_EQ(body.kind("f"), json_kind::number);
  EXPECT_EQ(body.kind("big"), json_kind::integer);

  EXPECT_EQ(body.string("i"), std::nullopt);
  EXPECT_EQ(body.integer("f"), std::nullopt);
  EXPECT_EQ(body.integer("big"), std::nullopt);
  EXPECT_EQ(body.integer("whole"), std::nullopt);
  EXPECT_EQ(body.integer("exp"), std::nullopt);
  EXPECT_EQ(body.integer("num_s"), std::nullopt);
  EXPECT_EQ(body.boolean("s"), std::nullopt);
  EXPECT_EQ(body.number("s"), std::nullopt);
  EXPECT_EQ(body.object("a"), std::nullopt);
  domain::field_errors expected{
      {"i", {"The i must be a string."}},
      {"f", {"The f must be an integer."}},
      {"big", {"The big may not be greater than 9223372036854775807."}},
      {"whole", {"The whole must be an integer."}},
      {"exp", {"The exp must be an integer."}},
      {"num_s", {"The num s must be an integer."}},
      {"s", {"The s field must be true or false.", "The s must be a number."}},
      {"a", {"The a must be an object."}},
  };
  EXPECT_EQ(body.errors(), expected);
  EXPECT_EQ(body.take_errors(), expected);
  EXPECT_TRUE(body.errors().empty());
}

// Integers of any size are valid JSON: beyond 64 bits they are out of every field's range (a
// 422 message), not a 400. Malformed numbers (and doubles beyond their range) stay a 400.
TEST(json_body, integers_beyond_64_bits_are_out_of_range_not_malformed) {
  auto r = parse_json_body(json(
      R"({"up":18446744073709551616,"huge":123456789012345678901234567890,"down":-9223372036854775809,)"
      R"("s":"18446744073709551616 \" 99999999999999999999","max":18446744073709551615,)"
      R"("i64":9223372036854775807,"list":[1,-99999999999999999999,3]})"));
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  auto& b = *r;
  EXPECT_EQ(b.kind("up"), json_kind::integer);
  EXPECT_EQ(b.kind("down"), json_kind::integer);
  EXPECT_EQ(b.string("s"), R"(18446744073709551616 " 99999999999999999999)") << "strings stay";
  EXPECT_EQ(b.integer("up"), std::nullopt);
  EXPECT_EQ(b.integer("huge", {.min = 1, .max = 4294967295}), std::nullopt);
  EXPECT_EQ(b.integer("down", {.min = 0}), std::nullopt);
  EXPECT_EQ(b.integer("down"), std::nullopt);
  EXPECT_EQ(b.integer("max"), std::nullopt);
  EXPECT_EQ(b.integer("i64"), INT64_MAX);
  EXPECT_EQ(b.integer("i64", {.min = 0, .max = 2, .outside = "The selected i64 is invalid."}),
            std::nullopt);
  domain::field_errors expected{
      {"up", {"The up may not be greater than 9223372036854775807."}},
      {"huge", {"The huge may not be greater than 4294967295."}},
      {"down", {"The down must be at least 0.", "The down must be at least -9223372036854775807."}},
      {"max", {"The max may not be greater than 9223372036854775807."}},
      {"i64", {"The selected i64 is invalid."}},
  };
  EXPECT_EQ(b.errors(), expected);

  for (const char* bad :
       {R"({"a":01})", R"({"a":1e400})", R"({"a":-})", R"({"a":1.})",
        R"({"a":99999999999999999999x})", R"({"a":"x","b":99999999999999999999)"}) {
    auto e = parse_json_body(json(bad));
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_EQ(e.error().code, problem_code::bad_request) << bad;
  }
}

TEST(json_body, integer_ranges_name_their_bounds) {
  auto r = parse_json_body(json(R"({"low":-1,"high":11,"ok":5,"f":5.5})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->integer("low", {.min = 0, .max = 10}), std::nullopt);
  EXPECT_EQ(r->integer("high", {.min = 0, .max = 10}), std::nullopt);
  EXPECT_EQ(r->integer("ok", {.min = 0, .max = 10}), 5);
  EXPECT_EQ(r->integer("f", {.min = 0, .max = 10}), std::nullopt);
  EXPECT_EQ(r->errors(), (domain::field_errors{{"low", {"The low must be at least 0."}},
                                               {"high", {"The high may not be greater than 10."}},
                                               {"f", {"The f must be an integer."}}}));
}

TEST(json_body, nested_objects_prefix_their_paths) {
  auto r = parse_json_body(json(R"({"settings":{"max_seats":"ten","locale":"en-US"}})"));
  ASSERT_TRUE(r.has_value());
  auto settings = r->object("settings");
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->path(), "settings");
  EXPECT_EQ(settings->string("locale"), "en-US");
  EXPECT_EQ(settings->integer("max_seats"), std::nullopt);
  settings->add_error("locale", "custom");
  domain::field_errors expected{
      {"settings.max_seats", {"The settings.max seats must be an integer."}},
      {"settings.locale", {"custom"}}};
  EXPECT_EQ(r->errors(), expected);  // shared with the parent reader
}

TEST(json_body, reader_of_a_replaced_document_refuses_to_read) {
  auto first = parse_json_body(json(R"({"a":"1"})"));
  ASSERT_TRUE(first.has_value());
  auto second = parse_json_body(json(R"({"a":"2"})"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->string("a"), "2");
  EXPECT_THROW((void)first->string("a"), std::logic_error);
}

TEST(json_body, read_profile_fills_every_field) {
  auto r = read_profile(json(R"({
    "name": "Acme Corp", "plan": "professional", "admin_email": "admin@acme.com",
    "domain": "acme.example", "address": "115 East 23rd Street", "city": "New York",
    "country_code": "US", "post_code": "10010", "description": "New York office",
    "group_id": "7", "group_name": "East",
    "settings": {"timezone": "America/New_York", "locale": "en-US", "max_seats": 50},
    "unknown": {"ignored": [1, 2, 3]}
  })"));
  ASSERT_TRUE(r.has_value());
  const auto& p = *r;
  EXPECT_EQ(p.name, "Acme Corp");
  EXPECT_EQ(p.plan, "professional");
  EXPECT_EQ(p.admin_email, "admin@acme.com");
  EXPECT_EQ(p.domain, "acme.example");
  EXPECT_EQ(p.address, "115 East 23rd Street");
  EXPECT_EQ(p.city, "New York");
  EXPECT_EQ(p.country_code, "US");
  EXPECT_EQ(p.post_code, "10010");
  EXPECT_EQ(p.description, "New York office");
  EXPECT_EQ(p.group_id, "7");
  EXPECT_EQ(p.group_name, "East");
  EXPECT_EQ(p.timezone, "America/New_York");
  EXPECT_EQ(p.locale, "en-US");
  EXPECT_EQ(p.max_seats, 50);
  EXPECT_TRUE(p.type_errors.empty());
}

TEST(json_body, read_profile_reports_wrong_types_and_leaves_absent_fields_unset) {
  auto r = read_profile(json(R"({"name": 12345, "plan": null, "country_code": ["US"],
                                 "settings": {"max_seats": "50", "timezone": 3}})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->name, std::nullopt);
  EXPECT_EQ(r->plan, std::nullopt);
  EXPECT_EQ(r->admin_email, std::nullopt);
  EXPECT_EQ(r->max_seats, std::nullopt);
  domain::field_errors expected{
      {"name", {"The name must be a string."}},
      {"country_code", {"The country code must be a string."}},
      {"settings.max_seats", {"The settings.max seats must be an integer."}},
      {"settings.timezone", {"The settings.timezone must be a string."}},
  };
  EXPECT_EQ(r->type_errors, expected);

  auto bad_settings = read_profile(json(R"({"name":"Acme Corp","settings":"none"})"));
  ASSERT_TRUE(bad_settings.has_value());
  EXPECT_EQ(bad_settings->type_errors,
            (domain::field_errors{{"settings", {"The settings must be an object."}}}));
}

TEST(json_body, read_profile_passes_refusals_through) {
  auto r = read_profile(json("{", "application/json"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, problem_code::bad_request);
  auto ct = read_profile(json("{}", "text/plain"));
  ASSERT_FALSE(ct.has_value());
  EXPECT_EQ(ct.error().code, problem_code::unsupported_media_type);
}

TEST(json_body, field_label_reads_like_laravel) {
  EXPECT_EQ(field_label("country_code"), "country code");
  EXPECT_EQ(field_label("settings.max_seats"), "settings.max seats");
  EXPECT_EQ(field_label("name"), "name");
}

}  // namespace
}  // namespace tenant::api
