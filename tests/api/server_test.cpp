// The server over real sockets on 127.0.0.1 with ephemeral ports. Clients are synchronous
// Beast clients on their own io_context; the server runs on its own threads.
#include "tenant/api/server.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tenant/api/problem.hpp"

namespace tenant::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::use_awaitable);
}

std::string big_body() {
  std::string b(6u << 20, ' ');
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<char>('a' + (i * 7919 % 26));
  return b;
}

config test_config() {
  config c;
  c.listen = {"127.0.0.1", 0};
  c.io_threads = 2;
  c.access_log = false;
  return c;
}

/// A router with the handlers the tests need, and a server running it on its own threads.
class running_server {
 public:
  explicit running_server(config c = test_config()) : cfg_(std::move(c)) {
    routes_.add(http::verb::get, "/hello", [](request_context&) -> net::awaitable<response> {
      co_return text_response(http::status::ok, "hello");
    });
    // Answers n after (4 - n) * 30 ms: pipelined 1, 2, 3 finish in reverse order if run
    // concurrently, so in-order answers show they are not.
    routes_.add(http::verb::get, "/n/{n}", [](request_context& ctx) -> net::awaitable<response> {
      std::string n(ctx.path_param("n"));
      co_await sleep_for(std::chrono::milliseconds((4 - std::stoi(n)) * 30));
      co_return text_response(http::status::ok, n);
    });
    // The thread that runs the handler, after a hop through a foreign thread's io_context
    // (as a handler's await on the blocking pool or the append pipeline does).
    routes_.add(http::verb::get, "/thread", [this](request_context&) -> net::awaitable<response> {
      const auto before = std::this_thread::get_id();
      co_await net::co_spawn(
          foreign_.get_executor(), []() -> net::awaitable<void> { co_return; }, net::use_awaitable);
      const auto after = std::this_thread::get_id();
      std::ostringstream out;
      out << before << (before == after ? "" : " resumed on another thread");
      co_return text_response(http::status::ok, out.str());
    });
    // More than a socket's send buffer takes at once: the rest goes out asynchronously.
    routes_.add(http::verb::get, "/big", [](request_context&) -> net::awaitable<response> {
      co_return text_response(http::status::ok, big_body());
    });
    routes_.add(http::verb::post, "/echo", [](request_context& ctx) -> net::awaitable<response> {
      co_return text_response(http::status::ok, ctx.req().body());
    });
    routes_.add(http::verb::get, "/slow", [this](request_context&) -> net::awaitable<response> {
      slow_started_.set_value();
      co_await sleep_for(slow_for_);
      co_return text_response(http::status::ok, "finished");
    });
    routes_.add(http::verb::get, "/boom", [](request_context&) -> net::awaitable<response> {
      throw std::runtime_error("boom");
      co_return response{};
    });
  }

  boost::system::result<void, std::string> start() {
    foreign_thread_ = std::thread([this] { foreign_.run(); });
    server_ = std::make_unique<server>(cfg_, routes_, [this](const completed_request& r) {
      std::lock_guard lock(mutex_);
      observed_.push_back(std::string(r.route) + " " + std::to_string(r.status));
    });
    auto r = server_->start();
    if (r) thread_ = std::thread([this] { server_->run(); });
    return r;
  }

  void stop_and_join() {
    if (!thread_.joinable()) return;
    server_->shutdown();
    thread_.join();
  }

  ~running_server() {
    stop_and_join();
    foreign_work_.reset();
    if (foreign_thread_.joinable()) foreign_thread_.join();
  }

  unsigned short port() const { return server_->local_endpoint().port(); }
  server& srv() { return *server_; }
  std::future<void> slow_started() { return slow_started_.get_future(); }
  void set_slow_for(std::chrono::milliseconds d) { slow_for_ = d; }
  std::vector<std::string> observed() {
    std::lock_guard lock(mutex_);
    return observed_;
  }

 private:
  config cfg_;
  std::promise<void> slow_started_;
  std::chrono::milliseconds slow_for_{300};
  std::mutex mutex_;
  std::vector<std::string> observed_;
  router routes_;
  net::io_context foreign_;
  net::executor_work_guard<net::io_context::executor_type> foreign_work_{
      net::make_work_guard(foreign_)};
  std::thread foreign_thread_;
  // Last: destroyed first, while the router and the observer's state still exist.
  std::unique_ptr<server> server_;
  std::thread thread_;
};

/// A blocking HTTP/1.1 client on one connection.
class client {
 public:
  explicit client(unsigned short port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  void send_raw(std::string_view bytes) { net::write(socket_, net::buffer(bytes)); }

  void send(http::verb method, std::string target, std::string body = {},
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    for (const auto& [k, v] : headers)
      req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket_, req);
  }

  http::response<http::string_body> receive() {
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    return res;
  }

  void read_with(http::response_parser<http::string_body>& parser) {
    http::read(socket_, buffer_, parser);
  }

  /// Reads an interim (1xx) response, which has no body.
  void read_header_only(http::response<http::empty_body>& res) {
    http::response_parser<http::empty_body> parser;
    http::read_header(socket_, buffer_, parser);
    res = parser.release();
  }

  http::response<http::string_body> get(std::string target) {
    send(http::verb::get, std::move(target));
    return receive();
  }

  /// Reads until the server closes; the error that ended reading (eof for a clean close).
  beast::error_code wait_closed(std::string* received = nullptr) {
    beast::error_code ec;
    char sink[512];
    for (;;) {
      auto n = socket_.read_some(net::buffer(sink), ec);
      if (received) received->append(sink, n);
      if (ec) return ec;
    }
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string code_of(const http::response<http::string_body>& res) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(res.body(), ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("code"))
    return "<not a problem document: " + res.body() + ">";
  return std::string(doc.at("code").as_string());
}

TEST(server, answers_over_keep_alive) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  for (int i = 0; i < 3; ++i) {
    auto res = c.get("/hello");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), "hello");
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(s.srv().connection_count(), 1u);
}

// Each io thread runs its own io_context and a connection stays on one of them: its handlers
// never run on two threads (what a strand guaranteed before), they resume on their own thread
// after awaiting work elsewhere, and connections are spread over all the threads.
TEST(server, a_connection_stays_on_one_thread_and_connections_use_every_thread) {
  running_server s;
  ASSERT_TRUE(s.start());
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 6; ++i)
    clients.push_back(std::make_unique<client>(s.port()));
  std::set<std::string> threads;
  for (auto& c : clients) {
    const auto first = c->get("/thread");
    ASSERT_EQ(first.result(), http::status::ok);
    EXPECT_EQ(first.body().find("another"), std::string::npos) << first.body();
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(c->get("/thread").body(), first.body());
    threads.insert(first.body());
  }
  EXPECT_EQ(threads.size(), 2u);  // test_config: io_threads = 2
}

// A response larger than the kernel takes in one non-blocking write arrives whole and in order,
// and the connection serves the next request after it.
TEST(server, a_response_larger_than_the_send_buffer_arrives_whole) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send(http::verb::get, "/big");
  std::this_thread::sleep_for(50ms);  // let the server fill the socket before we read
  http::response_parser<http::string_body> parser;
  parser.body_limit(16u << 20);
  c.read_with(parser);
  EXPECT_EQ(parser.get().result(), http::status::ok);
  EXPECT_TRUE(parser.get().body() == big_body());
  EXPECT_EQ(c.get("/hello").body(), "hello");
}

TEST(server, answers_pipelined_requests_in_order) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send_raw(
      "GET /n/1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /n/2 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfifth"
      // Chunked in any case (and with trailing space) is the one Transfer-Encoding taken.
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked \r\n\r\n"
      "5\r\nsixth\r\n0\r\n\r\n"
      "GET /n/3 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.receive().body(), "1");
  EXPECT_EQ(c.receive().body(), "2");
  EXPECT_EQ(c.receive().body(), "fifth");
  EXPECT_EQ(c.receive().body(), "sixth");
  EXPECT_EQ(c.receive().body(), "3");
}

TEST(server, answers_expect_100_continue_before_the_body) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  // The interim answer arrives although the body has not been sent.
  http::response<http::empty_body> interim;
  c.read_header_only(interim);
  EXPECT_EQ(interim.result(), http::status::continue_);
  c.send_raw("hello");
  auto res = c.receive();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "hello");
}

TEST(server, echoes_a_sane_request_id_and_generates_one_otherwise) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send(http::verb::get, "/hello", {}, {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(c.receive()["X-Request-Id"], "abc-123");
  c.send(http::verb::get, "/hello", {}, {{"X-Request-Id", "has spaces and {braces}"}});
  auto generated = c.receive();
  EXPECT_NE(generated["X-Request-Id"], "has spaces and {braces}");
  EXPECT_EQ(generated["X-Request-Id"].size(), 36u);  // a UUID
  auto again = c.get("/hello");
  EXPECT_NE(again["X-Request-Id"], generated["X-Request-Id"]);
}

TEST(server, oversized_headers_are_431_problem_and_close) {
  auto cfg = test_config();
  cfg.header_limit = 1024;
  running_server s(cfg);
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send(http::verb::get, "/hello", {}, {{"X-Big", std::string(4096, 'a')}});
  auto res = c.receive();
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
  EXPECT_EQ(res[http::field::content_type], "application/problem+json");
  EXPECT_EQ(code_of(res), "HEADERS_TOO_LARGE");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(c.wait_closed(), net::error::eof);
}

TEST(server, oversized_body_is_413_payload_too_large) {
  auto cfg = test_config();
  running_server s(cfg);
  ASSERT_TRUE(s.start());
  {
    client c(s.port());
    c.send(http::verb::post, "/echo", std::string(64 * 1024, 'x'));  // exactly the limit
    EXPECT_EQ(c.receive().result(), http::status::ok);
  }
  client c(s.port());
  c.send(http::verb::post, "/echo", std::string(64 * 1024 + 1, 'x'));
  auto res = c.receive();
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_EQ(code_of(res), "PAYLOAD_TOO_LARGE");
  EXPECT_FALSE(res.keep_alive());
  // Labelled with the route the request was for, not "unmatched".
  s.stop_and_join();
  auto seen = s.observed();
  EXPECT_NE(std::find(seen.begin(), seen.end(), "/echo 413"), seen.end())
      << ::testing::PrintToString(seen);
}

TEST(server, oversized_chunked_body_is_413) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  std::string chunk(40 * 1024, 'y');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  std::string raw = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i)
    raw += std::string(size) + "\r\n" + chunk + "\r\n";
  raw += "0\r\n\r\n";
  c.send_raw(raw);
  auto res = c.receive();
  EXPECT_EQ(res.result(), http::status::payload_too_large);
}

TEST(server, malformed_request_is_400_problem) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send_raw("GET /hello HTTP/1.1\r\nHost x\r\n\r\n");
  auto res = c.receive();
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(code_of(res), "BAD_REQUEST");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(c.wait_closed(), net::error::eof);
}

/// Sends `bytes` on a fresh connection and returns everything the server sends until it closes.
std::string exchange_raw(unsigned short port, std::string_view bytes) {
  client c(port);
  c.send_raw(bytes);
  std::string received;
  c.wait_closed(&received);
  return received;
}

/// The responses in `raw` (each with a Content-Length), parsed in order; a response to HEAD has
/// none of its body in `raw`, so `head_at` lists the responses that answer a HEAD.
std::vector<http::response<http::string_body>> parse_responses(std::string_view raw,
                                                               std::set<std::size_t> head_at = {}) {
  std::vector<http::response<http::string_body>> out;
  while (!raw.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    if (head_at.contains(out.size())) parser.skip(true);
    beast::error_code ec;
    const auto used = parser.put(net::buffer(raw.data(), raw.size()), ec);
    if (ec || !parser.is_done()) {
      ADD_FAILURE() << "unparseable response at " << out.size() << " (" << ec.message()
                    << "): " << raw;
      break;
    }
    raw.remove_prefix(used);
    out.push_back(parser.release());
  }
  return out;
}

// RFC 9112 §6.1, §6.3: a Transfer-Encoding other than chunked, or together with Content-Length,
// makes the end of the request unknowable. Beast reads such a request as one without a body, so
// what follows it was parsed as a second request (smuggled past whatever proxy framed it
// otherwise). It is refused with 400 and the connection closed: nothing after it is answered.
TEST(server, a_transfer_encoding_other_than_chunked_is_400_and_closes) {
  running_server s;
  ASSERT_TRUE(s.start());
  // Were it answered, the connection would close after it: the test does not wait for a timeout.
  const std::string smuggled = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string chunks = "5\r\nhello\r\n0\r\n\r\n";
  const std::vector<std::string> requests = {
      "GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled,
      "GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n" + smuggled,
      "GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n" + smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n" + chunks +
          smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + chunks +
          smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunks +
          smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
      "chunked\r\n\r\n" +
          chunks + smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n"
      "hello" +
          smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
          chunks + smuggled,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" +
          chunks + smuggled,
      // HTTP/1.0 has no chunked coding: its framing is faulty (§6.1).
      "POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + smuggled,
  };
  for (const auto& raw : requests) {
    const auto responses = parse_responses(exchange_raw(s.port(), raw));
    EXPECT_EQ(responses.size(), 1u) << raw;
    if (responses.empty()) continue;
    const auto& res = responses.front();
    EXPECT_EQ(res.result(), http::status::bad_request) << raw;
    EXPECT_EQ(std::string(res[http::field::content_type]), "application/problem+json") << raw;
    EXPECT_EQ(code_of(res), "BAD_REQUEST") << raw;
    EXPECT_EQ(std::string(res[http::field::connection]), "close") << raw;
  }
}

std::string detail_of(const http::response<http::string_body>& res) {
  return std::string(boost::json::parse(res.body()).at("detail").as_string());
}

// RFC 9112 §3.2 and the headers the API reads one value of: sent twice, which one counts is a
// guess (an Authorization a proxy checked, and another one we would read), so it is refused.
TEST(server, a_single_value_header_sent_twice_is_400_naming_it_and_closes) {
  running_server s;
  ASSERT_TRUE(s.start());
  const std::vector<std::pair<std::string, std::string>> repeated = {
      {"Host", "Host: x\r\nHost: y\r\n"},
      {"Host", "Host: x\r\nhost: x\r\n"},
      {"Authorization", "Host: x\r\nAuthorization: Bearer a\r\nAUTHORIZATION: Bearer b\r\n"},
      {"X-Tenant-Id", "Host: x\r\nX-Tenant-Id: tn_a\r\nx-tenant-id: tn_b\r\n"},
      {"If-Match", "Host: x\r\nIf-Match: \"1\"\r\nIf-Match: \"2\"\r\n"},
      {"If-None-Match", "Host: x\r\nIf-None-Match: \"1\"\r\nIf-None-Match: *\r\n"},
      {"Idempotency-Key", "Host: x\r\nIdempotency-Key: k1\r\nIdempotency-Key: k2\r\n"},
      {"X-Min-Position", "Host: x\r\nX-Min-Position: 1\r\nX-Min-Position: 2\r\n"},
      {"Content-Type", "Host: x\r\nContent-Type: text/plain\r\nContent-Type: text/plain\r\n"},
      {"Content-Length", "Host: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n"},
      {"Content-Encoding", "Host: x\r\nContent-Encoding: identity\r\nContent-Encoding: gzip\r\n"},
      {"X-Request-Id", "Host: x\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n"},
  };
  for (const auto& [name, fields] : repeated) {
    const std::string raw = "GET /hello HTTP/1.1\r\n" + fields +
                            "\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const auto responses = parse_responses(exchange_raw(s.port(), raw));
    EXPECT_EQ(responses.size(), 1u) << raw;
    if (responses.empty()) continue;
    const auto& res = responses.front();
    EXPECT_EQ(res.result(), http::status::bad_request) << raw;
    EXPECT_EQ(code_of(res), "BAD_REQUEST") << raw;
    if (code_of(res) == "BAD_REQUEST") {
      EXPECT_EQ(detail_of(res), "The " + name + " header must appear only once.") << raw;
    }
    EXPECT_EQ(std::string(res[http::field::connection]), "close") << raw;
  }
}

TEST(server, an_http_1_1_request_without_host_is_400_but_http_1_0_may_omit_it) {
  running_server s;
  ASSERT_TRUE(s.start());
  auto refused = parse_responses(exchange_raw(
      s.port(),
      "GET /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].result(), http::status::bad_request);
  EXPECT_EQ(code_of(refused[0]), "BAD_REQUEST");
  EXPECT_EQ(std::string(refused[0][http::field::connection]), "close");

  auto old = parse_responses(exchange_raw(s.port(), "GET /hello HTTP/1.0\r\n\r\n"));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].result(), http::status::ok);
  EXPECT_EQ(old[0].body(), "hello");

  // Headers the API reads as lists, or not at all, may repeat.
  client c(s.port());
  c.send_raw(
      "GET /hello HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: b\r\nX-Other: 1\r\n"
      "X-Other: 2\r\n\r\n");
  EXPECT_EQ(c.receive().body(), "hello");
}

// The API reads bodies as they are: a compressed one is refused, not parsed as plain JSON. The
// framing is sound, so the connection lives on.
TEST(server, a_body_with_a_content_encoding_is_415_naming_it) {
  const std::string gzip =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello";
  const std::string identity =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: Identity\r\nContent-Length: 5\r\n\r\n"
      "plain";
  const std::string no_body = "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n\r\n";
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send_raw(gzip + identity + no_body);
  auto refused = c.receive();
  EXPECT_EQ(refused.result(), http::status::unsupported_media_type);
  EXPECT_EQ(code_of(refused), "UNSUPPORTED_MEDIA_TYPE");
  if (code_of(refused) == "UNSUPPORTED_MEDIA_TYPE") {
    EXPECT_NE(detail_of(refused).find("Content-Encoding 'gzip'"), std::string::npos)
        << detail_of(refused);
  }
  EXPECT_TRUE(refused.keep_alive());
  EXPECT_EQ(c.receive().body(), "plain");  // identity is no encoding
  EXPECT_EQ(c.receive().body(), "hello");  // no body, nothing encoded
}

// RFC 9110 §9.3.2: HEAD answers what GET would, Content-Length included, without the body, so
// the next response on the connection starts right after the head.
TEST(server, head_answers_the_get_head_without_its_body_and_the_connection_stays_in_step) {
  running_server s;
  ASSERT_TRUE(s.start());
  const std::string raw =
      "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const auto responses = parse_responses(exchange_raw(s.port(), raw), {0, 1, 2, 3});
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_EQ(std::string(responses[0][http::field::content_length]), "5");
  EXPECT_EQ(std::string(responses[0][http::field::content_type]), "text/plain; charset=utf-8");
  EXPECT_TRUE(responses[0].keep_alive());
  EXPECT_EQ(std::string(responses[1][http::field::content_length]),
            std::to_string(big_body().size()));
  EXPECT_EQ(responses[2].result(), http::status::not_found);
  EXPECT_EQ(std::string(responses[2][http::field::content_type]), "application/problem+json");
  EXPECT_EQ(responses[3].result(), http::status::method_not_allowed);
  EXPECT_EQ(std::string(responses[3][http::field::allow]), "POST");
  EXPECT_EQ(responses[4].result(), http::status::ok);
  EXPECT_EQ(responses[4].body(), "hello");

  auto allow = parse_responses(
      exchange_raw(s.port(), "DELETE /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(allow.size(), 1u);
  EXPECT_EQ(std::string(allow[0][http::field::allow]), "GET, HEAD");

  s.stop_and_join();
  auto seen = s.observed();
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "/hello 200"), 2)
      << ::testing::PrintToString(seen);
}

TEST(server, handler_exception_is_500_and_the_connection_lives_on) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  auto res = c.get("/boom");
  EXPECT_EQ(res.result(), http::status::internal_server_error);
  EXPECT_EQ(code_of(res), "INTERNAL");
  EXPECT_EQ(c.get("/hello").body(), "hello");
}

TEST(server, connection_close_is_honoured) {
  running_server s;
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send(http::verb::get, "/hello", {}, {{"Connection", "close"}});
  auto res = c.receive();
  EXPECT_EQ(res.body(), "hello");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(c.wait_closed(), net::error::eof);
}

TEST(server, idle_connections_are_closed_after_the_idle_timeout) {
  auto cfg = test_config();
  cfg.idle_timeout = 200ms;
  running_server s(cfg);
  ASSERT_TRUE(s.start());
  client c(s.port());
  EXPECT_EQ(c.get("/hello").body(), "hello");
  // Send nothing more: the server closes the connection by itself.
  auto ec = c.wait_closed();
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
}

TEST(server, a_request_started_but_not_finished_times_out) {
  auto cfg = test_config();
  cfg.read_timeout = 200ms;
  running_server s(cfg);
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send_raw("GET /hello HTTP/1.1\r\nHost: x\r\n");  // headers never end
  auto ec = c.wait_closed();
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
}

TEST(server, records_every_request_with_the_route_pattern) {
  running_server s;
  ASSERT_TRUE(s.start());
  {
    client c(s.port());
    c.get("/n/3");
    c.get("/missing");
  }
  s.stop_and_join();
  auto seen = s.observed();
  EXPECT_EQ(seen, (std::vector<std::string>{"/n/{n} 200", "unmatched 404"}));
}

TEST(server, graceful_shutdown_finishes_in_flight_requests_and_closes_idle_ones) {
  running_server s;
  s.set_slow_for(300ms);
  ASSERT_TRUE(s.start());
  client idle(s.port());
  EXPECT_EQ(idle.get("/hello").body(), "hello");

  client busy(s.port());
  auto started = s.slow_started();
  busy.send(http::verb::get, "/slow");
  started.wait();
  s.srv().shutdown();

  auto res = busy.receive();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "finished");
  EXPECT_FALSE(res.keep_alive()) << "the last response announces the close";
  EXPECT_EQ(idle.wait_closed(), net::error::eof);
  s.stop_and_join();  // run() has returned

  net::io_context ioc;
  tcp::socket late(ioc);
  boost::system::error_code ec;
  late.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), s.port()), ec);
  EXPECT_TRUE(ec) << "no longer accepting";
}

TEST(server, shutdown_deadline_bounds_a_request_that_does_not_finish) {
  auto cfg = test_config();
  cfg.shutdown_timeout = 200ms;
  running_server s(cfg);
  s.set_slow_for(60s);
  ASSERT_TRUE(s.start());
  client busy(s.port());
  auto started = s.slow_started();
  busy.send(http::verb::get, "/slow");
  started.wait();
  s.stop_and_join();                          // returns after the deadline, not after 60 s
  EXPECT_EQ(s.srv().connection_count(), 1u);  // cut, not finished
}

TEST(server, refuses_plain_http_on_a_non_loopback_address) {
  auto cfg = test_config();
  cfg.listen = {"0.0.0.0", 0};
  server srv(cfg, router{});
  auto r = srv.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("refusing to serve plain HTTP"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("--insecure-http"), std::string::npos);
}

TEST(server, localhost_is_loopback) {
  auto cfg = test_config();
  cfg.listen = {"localhost", 0};
  running_server s(cfg);
  auto r = s.start();
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(s.srv().local_endpoint().address().is_loopback());
}

TEST(server, reports_a_port_in_use) {
  running_server first;
  ASSERT_TRUE(first.start());
  auto cfg = test_config();
  cfg.listen.port = first.port();
  server second(cfg, router{});
  auto r = second.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot listen"), std::string::npos) << r.error();
}

// ---- TLS ----

/// A self-signed certificate for "localhost" written to a temporary directory.
class test_certificate {
 public:
  test_certificate() {
    dir_ = std::filesystem::temp_directory_path() /
           ("tenantd-tls-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    FILE* f = std::fopen(cert_file().c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_file().c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~test_certificate() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string cert_file() const { return (dir_ / "cert.pem").string(); }
  std::string key_file() const { return (dir_ / "key.pem").string(); }

 private:
  static inline std::atomic<int> counter_{0};
  std::filesystem::path dir_;
};

TEST(server_tls, serves_https_with_tls_1_2_or_later) {
  test_certificate certificate;
  auto cfg = test_config();
  cfg.tls_cert_file = certificate.cert_file();
  cfg.tls_key_file = certificate.key_file();
  running_server s(cfg);
  auto started = s.start();
  ASSERT_TRUE(started) << started.error();
  EXPECT_EQ(s.srv().url().rfind("https://127.0.0.1:", 0), 0u) << s.srv().url();

  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(certificate.cert_file());
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  beast::get_lowest_layer(stream).connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), s.port()));
  stream.handshake(ssl::stream_base::client);  // throws if the certificate does not verify
  EXPECT_GE(SSL_version(stream.native_handle()), TLS1_2_VERSION);

  for (int i = 0; i < 2; ++i) {  // keep-alive over TLS
    http::request<http::string_body> req{http::verb::get, "/hello", 11};
    req.set(http::field::host, "localhost");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.body(), "hello");
  }
}

TEST(server_tls, plain_http_on_the_tls_port_gets_no_answer) {
  test_certificate certificate;
  auto cfg = test_config();
  cfg.tls_cert_file = certificate.cert_file();
  cfg.tls_key_file = certificate.key_file();
  cfg.idle_timeout = 500ms;  // were it served as plain HTTP, keep-alive would end soon
  running_server s(cfg);
  ASSERT_TRUE(s.start());
  client c(s.port());
  c.send(http::verb::get, "/hello");
  std::string received;
  c.wait_closed(&received);
  EXPECT_EQ(received.find("HTTP/1.1"), std::string::npos) << received;
}

TEST(server_tls, non_loopback_is_allowed_with_tls_but_bad_files_are_reported) {
  auto cfg = test_config();
  cfg.tls_cert_file = "/nonexistent/cert.pem";
  cfg.tls_key_file = "/nonexistent/key.pem";
  server srv(cfg, router{});
  auto r = srv.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot load TLS certificate '/nonexistent/cert.pem'"),
            std::string::npos)
      << r.error();
}

TEST(server_tls, a_key_that_does_not_match_the_certificate_is_reported) {
  test_certificate a;
  test_certificate b;
  auto cfg = test_config();
  cfg.tls_cert_file = a.cert_file();
  cfg.tls_key_file = b.key_file();
  server srv(cfg, router{});
  auto r = srv.start();
  ASSERT_FALSE(r);
  // OpenSSL notices the mismatch while loading the key, or at the final check.
  EXPECT_NE(r.error().find("TLS key '" + b.key_file() + "'"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace tenant::api
