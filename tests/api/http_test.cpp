#include "tenant/api/http.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "test_support.hpp"

namespace tenant::api {
namespace {

using test::make_request;

TEST(request_context, exposes_path_segments_and_query) {
  request_context ctx(make_request(http::verb::get, "/api/v1/tenants?name=a%2Bb&page=2&page=3"));
  EXPECT_TRUE(ctx.target_valid());
  EXPECT_EQ(ctx.path(), "/api/v1/tenants");
  EXPECT_EQ(ctx.segments(), (std::vector<std::string>{"api", "v1", "tenants"}));
  EXPECT_EQ(ctx.query("name"), "a+b");
  EXPECT_EQ(ctx.query("page"), "2");  // the first occurrence
  auto all = ctx.query_params();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2], (std::pair<std::string, std::string>{"page", "3"}));
}

// Plain paths skip Boost.URL; every target must still get Boost.URL's verdict and segments.
TEST(request_context, segments_and_validity_agree_with_boost_url_for_every_target) {
  const std::string alphabet = "a/.-%2F?=+:@~_!*xZ9 #[";
  std::mt19937 rng(20261123);
  std::vector<std::string> targets = {
      "/",      "//",    "/a",     "/a/",
      "//a",    "/a//b", "/.",     "/./a",
      "/a/..",  "/a/.b", "/a.b/c", "/%41",
      "/a?b=c", "a/b",   "",       "/api/v1/tenants/tn_01a20a63-2a0e-7443-b706-73275fa492d9"};
  for (int i = 0; i < 20000; ++i) {
    std::string t;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k)
      t += alphabet[rng() % alphabet.size()];
    if (rng() % 4 != 0) t.insert(t.begin(), '/');
    targets.push_back(t);
  }
  for (const auto& t : targets) {
    // The one character of the alphabet a query may hold raw beyond RFC 3986 (lenient_query).
    std::string expect = t;
    if (const auto q = expect.find('?');
        q != std::string::npos && expect.find_first_of(" #", q) == std::string::npos)
      for (auto at = expect.find('[', q); at != std::string::npos; at = expect.find('[', at))
        expect.replace(at, 1, "%5B");
    auto parsed = boost::urls::parse_origin_form(expect);
    std::vector<std::string> want;
    if (parsed)
      for (auto seg : parsed->segments())
        want.push_back(std::string(seg));
    request req{http::verb::get, t, 11};
    request_context ctx(std::move(req));
    ASSERT_EQ(ctx.target_valid(), parsed.has_value()) << "[" << t << "]";
    if (!parsed) continue;
    EXPECT_EQ(ctx.segments(), want) << "[" << t << "]";
    EXPECT_EQ(ctx.path(), std::string_view(parsed->encoded_path())) << "[" << t << "]";
    EXPECT_EQ(ctx.query_params().size(), parsed->params().size()) << "[" << t << "]";
  }
}

TEST(request_context, a_query_takes_what_browsers_and_php_clients_send_unencoded) {
  request_context ctx(make_request(
      http::verb::get, "/api/v1/tenants?filter[name]=a|b&q={x}^`\\&u=caf\xc3\xa9&e=%5B"));
  ASSERT_TRUE(ctx.target_valid());
  EXPECT_EQ(ctx.path(), "/api/v1/tenants");
  EXPECT_EQ(ctx.query("filter[name]"), "a|b");
  EXPECT_EQ(ctx.query("q"), "{x}^`\\");
  EXPECT_EQ(ctx.query("u"), "caf\xc3\xa9");
  EXPECT_EQ(ctx.query("e"), "[");
  EXPECT_EQ(ctx.target(), "/api/v1/tenants?filter[name]=a|b&q={x}^`\\&u=caf\xc3\xa9&e=%5B");

  // Only the query: a path with such characters, a fragment, a space or a bad escape stay
  // invalid.
  for (const char* bad : {"/api/v1/[x]?a=b", "/t?a=[b]#frag", "/t?a=[b] c", "/t?a=[b]&c=%zz"}) {
    request_context c(make_request(http::verb::get, bad));
    EXPECT_FALSE(c.target_valid()) << bad;
  }
  EXPECT_EQ(lenient_query("/t?a=b"), std::nullopt);
  EXPECT_EQ(lenient_query("/t"), std::nullopt);
  EXPECT_EQ(lenient_query("/t?a=[1]&b=2"), "/t?a=%5B1%5D&b=2");
}

TEST(request_context, plus_in_a_query_is_a_space_as_in_html_forms) {
  // As PHP/Laravel (seed 001's server) read queries: '+' and %20 are spaces, %2B is a plus.
  request_context ctx(make_request(http::verb::get, "/t?q=a+b&r=a%20b&s=a%2Bb"));
  EXPECT_EQ(ctx.query("q"), "a b");
  EXPECT_EQ(ctx.query("r"), "a b");
  EXPECT_EQ(ctx.query("s"), "a+b");
}

TEST(request_context, headers_are_case_insensitive_and_empty_when_absent) {
  auto req = make_request(http::verb::get, "/");
  req.set("X-Min-Position", "42");
  request_context ctx(std::move(req));
  EXPECT_EQ(ctx.header("x-min-position"), "42");
  EXPECT_EQ(ctx.header(http::field::authorization), "");
}

// header() walks the fields in arrival order instead of the container's find(): the same answer
// (the first occurrence, any case) for known and unknown names, repeated fields, and fields as
// the parser stores them.
TEST(request_context, header_lookups_agree_with_beasts_find_on_parsed_requests) {
  const std::string raw =
      "GET /api/v1/tenants HTTP/1.1\r\n"
      "host: example.test\r\n"
      "AUTHORIZATION: Bearer first\r\n"
      "Authorization: Bearer second\r\n"
      "X-Min-Position: 7\r\n"
      "x-min-position: 8\r\n"
      "Idempotency-Key: k-1\r\n"
      "If-Match: \"3\"\r\n"
      "X-Empty:\r\n"
      "\r\n";
  http::request_parser<http::string_body> parser;
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(raw), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  const auto req = parser.get();
  request_context ctx(parser.release());
  const auto expected = [&req](std::string_view name) -> std::string_view {
    const auto it = req.find(name);
    return it == req.end() ? std::string_view{} : std::string_view(it->value());
  };
  for (std::string_view name :
       {"Host", "HOST", "authorization", "Authorization", "x-min-position", "X-MIN-POSITION",
        "idempotency-key", "if-match", "IF-MATCH", "x-empty", "content-type", "x-absent", ""}) {
    EXPECT_EQ(ctx.header(name), expected(name)) << name;
  }
  EXPECT_EQ(ctx.header("authorization"), "Bearer first");
  EXPECT_EQ(ctx.header("x-min-position"), "7");
  EXPECT_EQ(ctx.header("x-empty"), "");
  for (const auto f : {http::field::host, http::field::authorization, http::field::if_match,
                       http::field::content_type, http::field::accept}) {
    const auto it = req.find(f);
    EXPECT_EQ(ctx.header(f), it == req.end() ? std::string_view{} : std::string_view(it->value()))
        << http::to_string(f);
  }
  EXPECT_EQ(ctx.header(http::field::unknown), "");
}

TEST(request_context, base_url_prefers_the_configured_public_url) {
  request_context::peer_info peer;
  peer.public_base_url = "https://api.example.com/tms/";
  request_context ctx(make_request(http::verb::get, "/"), peer);
  EXPECT_EQ(ctx.base_url(), "https://api.example.com/tms");
}

TEST(request_context, base_url_from_host_follows_the_connection_scheme) {
  request_context plain(make_request(http::verb::get, "/"));
  EXPECT_EQ(plain.base_url(), "http://tenants.example.com");
  request_context::peer_info tls;
  tls.secure = true;
  auto req = make_request(http::verb::get, "/");
  req.set(http::field::host, "[::1]:8443");
  request_context secure(std::move(req), tls);
  EXPECT_EQ(secure.base_url(), "https://[::1]:8443");
}

TEST(request_context, a_host_that_could_rewrite_links_is_not_used) {
  for (const char* host : {"evil.example/path", "a@b", "a b", ""}) {
    auto req = make_request(http::verb::get, "/");
    req.set(http::field::host, host);
    request_context ctx(std::move(req));
    EXPECT_EQ(ctx.base_url(), "") << host;
  }
}

TEST(request_context, typed_slots_hold_one_value_per_type) {
  request_context ctx(make_request(http::verb::get, "/"));
  EXPECT_EQ(ctx.get<int>(), nullptr);
  ctx.emplace<int>(1);
  ctx.emplace<std::string>("x");
  ctx.emplace<int>(2);
  ASSERT_NE(ctx.get<int>(), nullptr);
  EXPECT_EQ(*ctx.get<int>(), 2);
  EXPECT_EQ(*ctx.get<std::string>(), "x");
  const auto& cref = ctx;
  EXPECT_EQ(*cref.get<int>(), 2);
}

TEST(responses, json_and_text_builders_set_type_and_length) {
  auto j = json_response(http::status::created, boost::json::object{{"id", "tn_1"}});
  EXPECT_EQ(j.result(), http::status::created);
  EXPECT_EQ(j[http::field::content_type], "application/json");
  EXPECT_EQ(j.body(), R"({"id":"tn_1"})");
  EXPECT_EQ(j[http::field::content_length], "13");
  auto t = text_response(http::status::ok, "hi", "text/html");
  EXPECT_EQ(t[http::field::content_type], "text/html");
}

// The server's own head writer must produce what Beast's serializer writes, byte for byte.
TEST(responses, the_head_writer_matches_beasts_serializer) {
  std::vector<response> cases;
  cases.push_back(text_response(http::status::ok, "hello"));
  cases.push_back(json_response(http::status::created, boost::json::object{{"id", "tn_x"}}));
  {
    response r{http::status::no_content, 11};
    r.set(http::field::etag, "\"7\"");
    r.prepare_payload();
    cases.push_back(r);
  }
  {
    response r{http::status::unprocessable_entity, 10};  // HTTP/1.0, keep-alive header
    r.set(http::field::content_type, "application/problem+json");
    r.set("X-Request-Id", "abc");
    r.insert(http::field::link, "<a>; rel=\"next\"");
    r.insert(http::field::link, "<b>; rel=\"prev\"");
    r.body() = R"({"code":"VALIDATION_ERROR"})";
    r.keep_alive(true);
    r.prepare_payload();
    cases.push_back(r);
  }
  {
    response r{http::status::ok, 11};
    r.reason("Fine");  // an explicit reason phrase wins over the standard one
    r.keep_alive(false);
    r.body() = std::string(70000, 'x');
    r.prepare_payload();
    cases.push_back(r);
  }
  {
    response r{static_cast<http::status>(599), 11};  // unknown code: Beast's reason
    r.prepare_payload();
    cases.push_back(r);
  }
  for (const auto& r : cases) {
    std::ostringstream beast_wrote;
    beast_wrote << r;
    std::string ours;
    ASSERT_TRUE(append_response_head(r, ours));
    ours += r.body();
    EXPECT_EQ(ours, beast_wrote.str());
    // The request id as a last field: what the serializer writes once it is set on the response.
    response with_id = r;
    with_id.set("X-Request-Id", "0194c3a2-7f00-7000-8000-000000000005");
    std::ostringstream beast_with_id;
    beast_with_id << with_id;
    std::string ours_with_id;
    ASSERT_TRUE(append_response_head(r, ours_with_id, "0194c3a2-7f00-7000-8000-000000000005"));
    ours_with_id += r.body();
    EXPECT_EQ(ours_with_id, beast_with_id.str());
  }
  response chunked{http::status::ok, 11};
  chunked.chunked(true);
  std::string out = "kept";
  EXPECT_FALSE(append_response_head(chunked, out));
  EXPECT_EQ(out, "kept");
}

TEST(media_type, only_json_with_utf8_charset) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("application/json;charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/json; foo=bar"));
  EXPECT_FALSE(is_json_media_type("application/json; charset=iso-8859-1"));
  EXPECT_FALSE(is_json_media_type("application/problem+json"));
  EXPECT_FALSE(is_json_media_type(""));
}

}  // namespace
}  // namespace tenant::api
