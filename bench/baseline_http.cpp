// baseline_http: the denominator of the HTTP benchmark ratios (issue 5, "Performance").
//
// A minimal Boost.Beast server with the same shape as tenant::api::server — an io_context per
// thread, each connection a coroutine on the next one (round robin), keep-alive, read/write
// timeouts — that answers every request with a fixed JSON body of --body-size bytes and does
// nothing else (no routing, no metrics, no logging). tenantd's figures are reported as
// requests/s of tenantd divided by requests/s of this server with the same body size, measured
// in the same run with the same wrk command:
//
//   baseline_http --port 8081 --body-size 420 &
//   wrk -t2 -c64 -d10s http://127.0.0.1:8081/api/v1/tenants/x
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

net::awaitable<void> session(tcp::socket socket, std::shared_ptr<const std::string> body) {
  beast::tcp_stream stream(std::move(socket));
  beast::error_code ec;
  stream.socket().set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(60));
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (rec) break;
    const auto& req = parser.get();
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = *body;
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(10));
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

// One io_context in `iocs` (shared by every thread): a strand per connection. Several (one per
// thread): each connection goes to the next one, with no strand.
net::awaitable<void> listen(std::vector<std::unique_ptr<net::io_context>>& iocs,
                            tcp::acceptor& acceptor, std::shared_ptr<const std::string> body) {
  std::size_t next = 0;
  for (;;) {
    tcp::socket socket = iocs.size() == 1 ? tcp::socket(net::make_strand(*iocs.front()))
                                          : tcp::socket(*iocs[next++ % iocs.size()]);
    auto [ec] = co_await acceptor.async_accept(socket, use_tuple);
    if (ec) co_return;
    net::co_spawn(socket.get_executor(), session(std::move(socket), body), net::detached);
  }
}

// A JSON object of exactly `size` bytes (at least 12), shaped like a small resource.
std::string make_body(std::size_t size) {
  std::string head = R"({"padding":")";
  std::string tail = R"("})";
  if (size < head.size() + tail.size()) size = head.size() + tail.size();
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 8081;
  std::size_t body_size = 420;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  CLI::App app{"baseline_http: minimal Beast server with a fixed body (benchmark denominator)"};
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port to listen on (0 = any free port)")->capture_default_str();
  app.add_option("--body-size", body_size, "Bytes of the fixed JSON response body")
      ->capture_default_str();
  app.add_option("--threads", threads, "io_context threads (default: one per core)")
      ->capture_default_str();
  std::string shape = "per-thread";
  app.add_option("--shape", shape,
                 "per-thread: an io_context per thread, connections round robin (tenantd's "
                 "shape); shared: one io_context run by every thread, a strand per connection "
                 "(Beast's examples)")
      ->check(CLI::IsMember({"per-thread", "shared"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::unique_ptr<net::io_context>> iocs;
  if (shape == "shared" || threads == 1) {
    iocs.push_back(std::make_unique<net::io_context>(static_cast<int>(threads)));
  } else {
    for (unsigned i = 0; i < threads; ++i)
      iocs.push_back(std::make_unique<net::io_context>(1));
  }
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep;
  for (auto& c : iocs)
    keep.push_back(net::make_work_guard(*c));
  tcp::acceptor acceptor(*iocs.front());
  beast::error_code ec;
  tcp::endpoint ep(net::ip::make_address(host, ec), port);
  if (ec) {
    std::fprintf(stderr, "baseline_http: bad --host %s\n", host.c_str());
    return 2;
  }
  acceptor.open(ep.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(ep, ec);
  if (ec) {
    std::fprintf(stderr, "baseline_http: cannot bind: %s\n", ec.message().c_str());
    return 1;
  }
  acceptor.listen(net::socket_base::max_listen_connections);
  auto body = std::make_shared<const std::string>(make_body(body_size));
  net::co_spawn(*iocs.front(), listen(iocs, acceptor, body), net::detached);
  net::signal_set signals(*iocs.front(), SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    for (auto& c : iocs)
      c->stop();
  });
  std::printf("baseline_http listening on http://%s:%u (body %zu bytes, %u threads, %s)\n",
              host.c_str(), acceptor.local_endpoint().port(), body->size(), threads, shape.c_str());
  std::fflush(stdout);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back([&, i] { iocs[i % iocs.size()]->run(); });
  iocs.front()->run();
  for (auto& t : pool)
    t.join();
  return 0;
}
