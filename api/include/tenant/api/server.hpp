#pragma once
/// The HTTP(S) server: Boost.Beast over C++20 coroutines.
///
/// `config::io_threads` threads (one per core), each running an io_context of its own; each
/// accepted connection goes to the next of them (round robin) and stays there: one coroutine
/// that reads a request, dispatches it through the router, writes the response, and loops
/// (keep-alive). A connection's handlers therefore never run on two threads at once and need
/// no strand; work a handler awaits elsewhere (the blocking pool, the append pipeline) resumes
/// it on its own thread. Connections do not migrate: a thread busy with a slow handler's CPU
/// delays only the connections it holds. Pipelined requests are answered in order because a
/// connection handles one request at a time. Limits and timeouts come from the config:
/// headers over `header_limit` -> 431, a body over `body_limit` -> 413 PAYLOAD_TOO_LARGE,
/// malformed HTTP or a head `malformed_request_head` refuses (framing) -> 400 (all problem
/// documents, then the connection closes), `read_timeout` to receive a started request,
/// `idle_timeout` between requests, `write_timeout` per response.
///
/// TLS (`tls_cert_file` + `tls_key_file`): the same session code over `beast::ssl_stream`,
/// TLS 1.2 or later only. On an address that is not loopback, `start()` refuses plain HTTP
/// unless `insecure_http`.
///
/// Graceful shutdown (`shutdown()`, or SIGINT/SIGTERM after `handle_signals()`): stop accepting,
/// close idle connections, let in-flight requests finish and answer them with
/// `Connection: close`, then stop the io_contexts; after `shutdown_timeout` the rest are cut.
///
/// Ownership: owns the io_contexts, acceptor, TLS context and connections; references the
/// router (must outlive the server). Threading: `start`, `run` from one thread; `shutdown` from
/// any thread or a signal handler context. Lifecycle: construct -> start -> run (blocks until
/// stopped) -> destroy.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tenant/api/config.hpp"
#include "tenant/api/router.hpp"

namespace tenant::api {

/// What the server reports after each response is written (or the connection failed while
/// writing it): the input of metrics and access logs. Views are valid during the callback.
struct completed_request {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;   ///< the route pattern, or "unmatched"
  std::string_view path;    ///< without the query string (queries may carry secrets)
  std::string_view remote;  ///< "127.0.0.1:53211"
  std::string_view traceparent;
  std::string_view user_agent;
  std::string_view tenant;  ///< request_context::log_tenant ("" = none)
  unsigned status = 0;
  std::chrono::nanoseconds duration{};  ///< from the end of reading to the end of writing
  std::size_t response_bytes = 0;
  bool secure = false;
};
using request_observer = std::function<void(const completed_request&)>;

class server {
 public:
  server(const config& cfg, const router& routes, request_observer observer = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Resolves and binds `cfg.listen`, loads the TLS certificate, checks the loopback rule and
  /// starts accepting (connections are served once `run` runs). The error is a message for the
  /// operator ("refusing plain HTTP on 0.0.0.0:8080 ...", "cannot bind ...").
  boost::system::result<void, std::string> start();

  /// Runs the io_contexts on `cfg.effective_io_threads()` threads, the caller's included;
  /// returns after shutdown completed (or immediately if start() was not successful).
  void run();

  /// Begins a graceful shutdown; idempotent, thread-safe. run() returns when it completes.
  void shutdown();
  /// Installs SIGINT/SIGTERM handlers (on this io_context) that call shutdown().
  void handle_signals();

  /// The bound endpoint (with the real port when cfg.listen.port was 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  /// "http://127.0.0.1:8080" or "https://...": where clients reach this server.
  std::string url() const;
  /// Connections currently open.
  std::size_t connection_count() const;

  /// The first thread's io_context (the acceptor's, signals' and shutdown's).
  boost::asio::io_context& io_context();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace tenant::api
