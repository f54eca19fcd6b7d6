// Pure pieces of the tenant routes: pagination and JSON rendering.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tenant/api/pagination.hpp"
#include "tenant/api/tenant_json.hpp"

namespace tenant::api {
namespace {

using params = std::vector<std::pair<std::string, std::string>>;

TEST(Pagination, DefaultsAndBounds) {
  auto d = parse_page_request({});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->page, 1u);
  EXPECT_EQ(d->per_page, 10u);
  auto ok = parse_page_request(params{{"page", "3"}, {"per_page", "100"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->offset(), 200u);
  auto empty = parse_page_request(params{{"page", ""}, {"per_page", ""}});
  ASSERT_TRUE(empty);  // empty = absent
  EXPECT_EQ(empty->per_page, 10u);
  auto plus = parse_page_request(params{{"page", "+2"}});
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->page, 2u);
}

TEST(Pagination, EveryBadValueIs422WithLaravelMessages) {
  auto r = parse_page_request(params{{"page", "0"}, {"per_page", "101"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, problem_code::validation_failed);
  EXPECT_EQ(r.error().errors.at("page").at(0), "The page must be at least 1.");
  EXPECT_EQ(r.error().errors.at("per_page").at(0), "The per page must be between 1 and 100.");
  for (const char* bad : {"x", "1.0", "1e2", " 1", "-", "0x10"}) {
    auto e = parse_page_request(params{{"per_page", bad}});
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().errors.at("per_page").at(0), "The per page must be an integer.") << bad;
  }
  for (const char* below : {"-5", "-1", "0", "-0", "-99999999999999999999999"}) {
    auto e = parse_page_request(params{{"page", below}});
    ASSERT_FALSE(e) << below;
    EXPECT_EQ(e.error().errors.at("page").at(0), "The page must be at least 1.") << below;
  }
  EXPECT_FALSE(parse_page_request(params{{"per_page", "99999999999999999999999"}}));
  EXPECT_FALSE(parse_page_request(params{{"per_page", "-99999999999999999999999"}}));
}

// DESIGN.md documents no largest page: every positive integer is one, past the end an empty one.
TEST(Pagination, AnyPositivePageIsValidAndItsOffsetNeverWraps) {
  for (const auto& [text, page] : std::vector<std::pair<std::string, std::uint64_t>>{
           {"1000000000001", 1'000'000'000'001ULL},
           {"9223372036854775808", 9'223'372'036'854'775'808ULL},
           {"18446744073709551615", UINT64_MAX},
           {"99999999999999999999999", UINT64_MAX}}) {
    auto r = parse_page_request(params{{"page", text}, {"per_page", "100"}});
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(r->page, page) << text;
    EXPECT_GE(r->offset(), 100'000'000'000'000ULL) << text << ": no wrap-around";
  }
  EXPECT_EQ((page_request{UINT64_MAX, 100}.offset()), UINT64_MAX);
  EXPECT_EQ((page_request{UINT64_MAX, 1}.offset()), UINT64_MAX - 1);
  EXPECT_EQ((page_request{184467440737095517, 100}.offset()), 18446744073709551600ULL);

  std::string out = "{";
  append_page_links_meta(out, {UINT64_MAX, 10}, 25, 0, "http://h/v1/tenants", {});
  out += '}';
  const auto o = boost::json::parse(out).as_object();
  EXPECT_EQ(o.at("meta").at("current_page").as_uint64(), UINT64_MAX);
  EXPECT_EQ(o.at("meta").at("last_page").as_int64(), 3);
  EXPECT_TRUE(o.at("meta").at("from").is_null());
  EXPECT_TRUE(o.at("links").at("next").is_null());
  EXPECT_EQ(o.at("links").at("prev").as_string(), "http://h/v1/tenants?page=18446744073709551614");
}

TEST(Pagination, PositiveIntegerParametersShareTheirMessages) {
  domain::field_errors errors;
  EXPECT_EQ(parse_positive_integer("7", "as_of_version", errors), 7u);
  EXPECT_EQ(parse_positive_integer("-1", "as_of_version", errors), std::nullopt);
  EXPECT_EQ(parse_positive_integer("v2", "as_of_version", errors), std::nullopt);
  EXPECT_EQ(errors.at("as_of_version"),
            (std::vector<std::string>{"The as of version must be at least 1.",
                                      "The as of version must be an integer."}));
}

boost::json::object page_json(page_request p, std::uint64_t total, std::uint64_t items,
                              const params& q = {}) {
  std::string out = "{";
  append_page_links_meta(out, p, total, items, "http://h/v1/tenants", q);
  out += '}';
  return boost::json::parse(out).as_object();
}

TEST(Pagination, LinksAndMeta) {
  auto o = page_json({2, 10}, 25, 10, params{{"name", "a b&c"}, {"page", "2"}});
  const auto& links = o.at("links");
  EXPECT_EQ(links.at("first").as_string(), "http://h/v1/tenants?page=1&name=a%20b%26c");
  EXPECT_EQ(links.at("last").as_string(), "http://h/v1/tenants?page=3&name=a%20b%26c");
  EXPECT_EQ(links.at("prev").as_string(), "http://h/v1/tenants?page=1&name=a%20b%26c");
  EXPECT_EQ(links.at("next").as_string(), "http://h/v1/tenants?page=3&name=a%20b%26c");
  const auto& meta = o.at("meta");
  EXPECT_EQ(meta.at("from").as_int64(), 11);
  EXPECT_EQ(meta.at("to").as_int64(), 20);
  EXPECT_EQ(meta.at("last_page").as_int64(), 3);
  EXPECT_EQ(meta.at("total").as_int64(), 25);
  EXPECT_EQ(meta.at("path").as_string(), "http://h/v1/tenants");

  auto empty = page_json({1, 10}, 0, 0);
  EXPECT_EQ(empty.at("meta").at("last_page").as_int64(), 1);
  EXPECT_TRUE(empty.at("meta").at("from").is_null());
  EXPECT_TRUE(empty.at("meta").at("to").is_null());
  EXPECT_TRUE(empty.at("links").at("next").is_null());
  EXPECT_TRUE(empty.at("links").at("prev").is_null());

  // per_page in the links is the value in effect: an empty one is the default, a repeated one
  // the first.
  auto blank = page_json({1, 10}, 25, 10, params{{"per_page", ""}, {"name", "x"}});
  EXPECT_EQ(blank.at("links").at("next").as_string(),
            "http://h/v1/tenants?page=2&per_page=10&name=x");
  auto twice = page_json({1, 5}, 25, 5, params{{"per_page", "5"}, {"per_page", "50"}});
  EXPECT_EQ(twice.at("links").at("last").as_string(), "http://h/v1/tenants?page=5&per_page=5");
  auto padded = page_json({1, 7}, 25, 7, params{{"per_page", "+007"}});
  EXPECT_EQ(padded.at("links").at("first").as_string(), "http://h/v1/tenants?page=1&per_page=7");

  auto past = page_json({7, 10}, 25, 0);
  EXPECT_TRUE(past.at("links").at("next").is_null());
  EXPECT_EQ(past.at("links").at("prev").as_string(), "http://h/v1/tenants?page=6");
  EXPECT_EQ(past.at("meta").at("current_page").as_int64(), 7);
}

TEST(TenantJson, StringsAreEscaped) {
  std::string out;
  append_json_string(out, std::string("q\"b\\n\nt\t\x01\x1f é"));
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\nt\\t\\u0001\\u001f é\"");
  EXPECT_EQ(boost::json::parse(out).as_string(), std::string("q\"b\\n\nt\t\x01\x1f é"));
}

// Escapes are found 16 bytes at a time: one special character at every offset of a string longer
// than two blocks, and runs of them, are written as Boost.JSON's serializer writes them.
TEST(TenantJson, StringsAreEscapedAtEveryOffsetAsBoostJsonWritesThem) {
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123456789 /\x7f\xc3\xa9";
  for (const char special : {'"', '\\', '\n', '\r', '\t', '\b', '\f', '\x01', '\x1f', '\0'}) {
    for (std::size_t at = 0; at <= plain.size(); ++at) {
      std::string s = plain;
      s.insert(at, 1, special);
      std::string out;
      append_json_string(out, s);
      EXPECT_EQ(out, boost::json::serialize(boost::json::string(s)))
          << "special " << int(special) << " at " << at;
    }
  }
  const std::string run(40, '"');
  std::string out;
  append_json_string(out, run);
  EXPECT_EQ(out, boost::json::serialize(boost::json::string(run)));
  out.clear();
  append_json_string(out, plain + plain);  // nothing to escape across blocks
  EXPECT_EQ(out, "\"" + plain + plain + "\"");
}

TEST(TenantJson, ResourceIsValidJsonWithVersionAndNulls) {
  domain::tenant_state s;
  s.id = *domain::tenant_id::parse("tn_01890a5d-ac96-774b-bcce-b302099a8057");
  s.version = domain::stream_version(4);
  s.status = domain::tenant_status::suspended;
  s.profile.name = "Name \"quoted\"";
  s.profile.country_code = "DE";
  s.country_name = "Germany";
  s.users = domain::user_status::banned;
  s.subscription.plan = domain::plan_tier::enterprise;
  s.subscription.cancelled_at = domain::clock_time(std::chrono::milliseconds(1000));
  auto o = boost::json::parse(tenant_resource(s)).as_object();
  EXPECT_EQ(o.at("name").as_string(), "Name \"quoted\"");
  EXPECT_EQ(o.at("version").as_int64(), 4);
  EXPECT_EQ(o.at("status").as_string(), "suspended");
  EXPECT_EQ(o.at("plan").as_string(), "enterprise");
  EXPECT_EQ(o.at("user_status").as_int64(), 2);
  EXPECT_EQ(o.at("country_name").as_string(), "Germany");
  EXPECT_TRUE(o.at("city").is_null());
  EXPECT_EQ(o.at("subscription").at("cancelled_at").as_string(), "1970-01-01T00:00:01.000Z");
  EXPECT_TRUE(o.at("settings").at("max_seats").is_null());

  std::string tms;
  append_tms_tenant(tms, s, true);
  auto t = boost::json::parse(tms).as_object();
  EXPECT_EQ(t.size(), 10u);
  EXPECT_EQ(t.at("group_id").as_string(), "0");
}

TEST(TenantJson, Usage) {
  projections::usage_view u;
  u.tenant_id = *domain::tenant_id::parse("tn_01890a5d-ac96-774b-bcce-b302099a8057");
  u.seat_limit = std::nullopt;
  u.seats_in_use = 3;
  auto o = boost::json::parse(usage_resource(u)).as_object();
  EXPECT_EQ(o.size(), 9u);
  EXPECT_TRUE(o.at("seat_limit").is_null());
  EXPECT_TRUE(o.at("observed_at").is_null());
  EXPECT_EQ(o.at("seats_in_use").as_int64(), 3);
}

}  // namespace
}  // namespace tenant::api
