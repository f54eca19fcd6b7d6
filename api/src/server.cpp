#include "tenant/api/server.hpp"

#include <openssl/ssl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "tenant/api/problem.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::api {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// After refusing a request whose body we did not read (413, 431, 400) we stop sending, then
// read and discard what the client still sends for a moment: closing a socket with unread
// input makes the kernel send RST, which can destroy our error response before the client
// reads it.
constexpr std::chrono::milliseconds linger_timeout{1000};
constexpr std::size_t linger_max_bytes = 256 * 1024;

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 10> random{};
  const std::uint64_t a = rng(), b = rng();  // two draws for the 10 bytes, not one per byte
  std::memcpy(random.data(), &a, 8);
  std::memcpy(random.data() + 8, &b, 2);
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return domain::uuid::v7(domain::clock_time{now.time_since_epoch()}, random).to_string();
}

std::string endpoint_string(const tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  return addr.to_string() + ":" + std::to_string(ep.port());
}

// Parse errors of the request line or headers are the client's fault: 400. I/O failures,
// timeouts and a message cut short by the peer just end the connection.
bool is_parse_error(const beast::error_code& ec) {
  if (ec.category() != http::make_error_code(http::error::bad_method).category()) return false;
  return ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::need_more && ec != http::error::need_buffer &&
         ec != http::error::buffer_overflow;
}

}  // namespace

/// A connection as the server sees it, for shutdown. Every member except `executor` is touched
/// only on the connection's strand.
struct connection_entry {
  net::any_io_executor executor;
  bool idle = true;              ///< waiting for a request or handshaking: safe to close now
  bool closing = false;          ///< shutdown began: close when idle, answer with Connection: close
  std::function<void()> cancel;  ///< cancels the socket's pending I/O; empty once finished
};

struct server::impl {
  const config cfg;
  const router& routes;
  request_observer observer;

  // One io_context per thread, each run by its own thread only: a connection lives on one of
  // them (round robin at accept), so its coroutine needs no strand, and its handlers never
  // contend for a shared scheduler's lock with the other threads' connections.
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::atomic<std::size_t> next_ioc{0};
  std::optional<net::strand<net::io_context::executor_type>> control;  // shutdown, signals
  std::optional<tcp::acceptor> acceptor;                               // on its own strand
  std::optional<net::signal_set> signals;
  std::optional<net::steady_timer> deadline;
  std::optional<ssl::context> tls;

  mutable std::mutex mutex;
  std::unordered_set<std::shared_ptr<connection_entry>> connections;  // guarded by mutex
  bool stopping = false;                                              // guarded by mutex
  std::atomic<bool> started{false};
  tcp::endpoint bound;

  impl(const config& c, const router& r, request_observer o)
      : cfg(c), routes(r), observer(std::move(o)) {
    const unsigned n = std::max(1u, c.effective_io_threads());
    for (unsigned i = 0; i < n; ++i) {
      // Hint 1: one thread runs it, but other threads still post to it (completions of the
      // blocking pool and the append pipeline), so it keeps its locking.
      iocs.push_back(std::make_unique<net::io_context>(1));
      keep_running.push_back(net::make_work_guard(*iocs.back()));
    }
    control.emplace(net::make_strand(*iocs.front()));
    acceptor.emplace(net::make_strand(*iocs.front()));
    deadline.emplace(*control);
  }

  ~impl() {
    // If run() never completed, coroutine frames still sit in the io_context's queues and
    // refer to the members below: destroy the I/O objects, then the io_context (which destroys
    // the frames), and only then the rest.
    boost::system::error_code ignored;
    if (acceptor) acceptor->close(ignored);
    signals.reset();
    deadline.reset();
    acceptor.reset();
    control.reset();
    {
      // Entries of connections cut at the shutdown deadline hold strands: they must go before
      // the io_context that owns the strand service.
      std::lock_guard lock(mutex);
      connections.clear();
    }
    keep_running.clear();
    iocs.clear();
  }

  // ---- start ----
  boost::system::result<void, std::string> start() {
    if (auto errors = validate(cfg); !errors.empty()) return errors.front();
    boost::system::error_code ec;
    tcp::resolver resolver(*iocs.front());
    auto results = resolver.resolve(cfg.listen.host, std::to_string(cfg.listen.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return "cannot resolve listen host '" + cfg.listen.host + "': " + ec.message();
    }
    if (!cfg.tls_enabled() && !cfg.insecure_http) {
      for (const auto& r : results) {
        if (!r.endpoint().address().is_loopback()) {
          return "refusing to serve plain HTTP on " + cfg.listen.to_string() + " (" +
                 r.endpoint().address().to_string() +
                 " is not a loopback address): give --tls-cert and --tls-key, or "
                 "--insecure-http when a TLS-terminating proxy is in front";
        }
      }
    }
    if (cfg.tls_enabled()) {
      if (auto r = load_tls(); !r) return r.error();
    }
    tcp::endpoint ep = results.begin()->endpoint();
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) return "cannot listen on " + endpoint_string(ep) + ": " + ec.message();
    bound = acceptor->local_endpoint(ec);
    net::co_spawn(acceptor->get_executor(), accept_loop(), [](std::exception_ptr e) {
      if (e) spdlog::critical("accept loop failed");
    });
    started = true;
    return {};
  }

  boost::system::result<void, std::string> load_tls() {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use | ssl::context::no_compression);
    if (SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION) != 1)
      return std::string("cannot restrict TLS to version 1.2 or later");
    boost::system::error_code ec;
    tls->use_certificate_chain_file(cfg.tls_cert_file, ec);
    if (ec) return "cannot load TLS certificate '" + cfg.tls_cert_file + "': " + ec.message();
    tls->use_private_key_file(cfg.tls_key_file, ssl::context::pem, ec);
    if (ec) return "cannot load TLS key '" + cfg.tls_key_file + "': " + ec.message();
    if (SSL_CTX_check_private_key(tls->native_handle()) != 1)
      return "TLS key '" + cfg.tls_key_file + "' does not match certificate '" + cfg.tls_cert_file +
             "'";
    return {};
  }

  // ---- accepting ----
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto& home = *iocs[next_ioc.fetch_add(1, std::memory_order_relaxed) % iocs.size()];
      auto [ec, socket] = co_await acceptor->async_accept(home, use_tuple);
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
        // Out of descriptors and the like: back off instead of spinning on the error.
        spdlog::warn("accept failed: {}", ec.message());
        net::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      launch(std::move(socket));
    }
  }

  void launch(tcp::socket socket) {
    auto entry = std::make_shared<connection_entry>();
    entry->executor = socket.get_executor();
    {
      std::lock_guard lock(mutex);
      entry->closing = stopping;  // accepted while shutdown began: serve nothing new
      connections.insert(entry);
    }
    net::co_spawn(entry->executor, session(std::move(socket), entry),
                  [this, entry](std::exception_ptr e) {
                    if (e) {
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& ex) {
                        spdlog::error("connection failed: {}", ex.what());
                      } catch (...) {
                        spdlog::error("connection failed");
                      }
                    }
                    release(entry);
                  });
  }

  void release(const std::shared_ptr<connection_entry>& entry) {
    bool finished = false;
    {
      std::lock_guard lock(mutex);
      connections.erase(entry);
      finished = stopping && connections.empty();
    }
    if (finished) net::post(*control, [this] { finish(); });
  }

  // ---- a connection ----
  net::awaitable<void> session(tcp::socket socket, std::shared_ptr<connection_entry> entry) {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    const std::string remote = endpoint_string(peer);
    if (tls) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
      auto& lowest = beast::get_lowest_layer(stream);
      cancel_guard guard(*entry, [&lowest] { lowest.cancel(); });
      if (entry->closing) co_return;
      lowest.expires_after(cfg.read_timeout);
      auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
      if (hec) co_return;
      bool clean = co_await serve(stream, *entry, peer, remote, true);
      if (clean) {
        lowest.expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(use_tuple);
      }
    } else {
      beast::tcp_stream stream(std::move(socket));
      stream.socket().non_blocking(true, ec);  // see write()
      cancel_guard guard(*entry, [&stream] { stream.cancel(); });
      bool clean = co_await serve(stream, *entry, peer, remote, false);
      if (clean) stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  /// Installs the entry's cancel function for the life of the stream it closes over.
  struct cancel_guard {
    connection_entry& entry;
    cancel_guard(connection_entry& e, std::function<void()> fn) : entry(e) {
      entry.cancel = std::move(fn);
    }
    ~cancel_guard() { entry.cancel = nullptr; }
    cancel_guard(const cancel_guard&) = delete;
    cancel_guard& operator=(const cancel_guard&) = delete;
  };

  /// Request loop. Returns true when the connection may be shut down politely (TLS
  /// close_notify / FIN), false after an I/O error or timeout.
  template <class Stream>
  net::awaitable<bool> serve(Stream& stream, connection_entry& entry, const tcp::endpoint& peer,
                             const std::string& remote, bool secure) {
    auto& lowest = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer(cfg.header_limit + cfg.body_limit + 64 * 1024);
    std::string head;  // each response's status line and fields
    for (;;) {
      if (buffer.size() == 0) {
        // Between requests: the idle timeout applies and shutdown may close us right away.
        entry.idle = true;
        if (entry.closing) co_return true;
        lowest.expires_after(cfg.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
        entry.idle = false;
        if (ec) co_return ec == net::error::eof || ec == net::error::operation_aborted;
        buffer.commit(n);
      } else if (entry.closing) {
        co_return true;  // pipelined requests after shutdown began are not served
      }

      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
      parser.body_limit(cfg.body_limit);
      // Usually the whole request came with the read that ended the idle wait (or behind the
      // previous one, pipelined): parse it from the buffer without an asynchronous operation.
      // The head first: one whose framing is unsafe is refused before its body is read.
      auto ec = parse_buffered(buffer, parser, true);
      bool timed = false;
      if (!ec && !parser.is_header_done()) {
        timed = true;
        lowest.expires_after(cfg.read_timeout);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        ec = hec;
      }
      std::optional<std::string> malformed;
      if (!ec) malformed = malformed_request_head(parser.get());
      if (!ec && !malformed && !parser.is_done()) {
        ec = parse_buffered(buffer, parser, false);
        if (!ec && !parser.is_done()) {
          if (!timed) lowest.expires_after(cfg.read_timeout);
          ec = co_await read_body(stream, buffer, parser);
        }
      }
      const auto started = std::chrono::steady_clock::now();
      if (ec || malformed) {
        std::optional<problem> refusal;
        if (malformed) {
          refusal = make_problem(problem_code::bad_request, std::move(*malformed));
        } else if (ec == http::error::header_limit) {
          refusal = make_problem(problem_code::headers_too_large,
                                 "The request line and headers exceed " +
                                     std::to_string(cfg.header_limit) + " bytes.");
        } else if (ec == http::error::body_limit) {
          refusal = make_problem(
              problem_code::payload_too_large,
              "The request body exceeds " + std::to_string(cfg.body_limit) + " bytes.");
        } else if (is_parse_error(ec)) {
          refusal = make_problem(problem_code::bad_request,
                                 "The request is not valid HTTP/1.1: " + ec.message() + ".");
        }
        if (!refusal) co_return false;  // closed mid-request, timed out, I/O error
        response res = to_response(*refusal);
        const route_info* route = nullptr;
        std::string method = "UNKNOWN";
        std::string path;
        // The request line is stored as soon as it is parsed, even when a later limit fails
        // the message (Beast does not mark the header done when Content-Length is too big).
        if (!parser.get().target().empty()) {
          route = routes.route_for(parser.get().method(), parser.get().target());
          method = std::string(parser.get().method_string());
          std::string_view target = parser.get().target();
          path = std::string(target.substr(0, target.find('?')));
        }
        std::string id = new_request_id();
        co_await write(stream, res, 11, false, parser.get().method() == http::verb::head, id, head);
        report(id, method, route, path, remote, {}, {}, {}, res, started, secure);
        co_await linger(stream, buffer);
        co_return false;
      }

      request_context ctx(parser.release(), {peer, secure, cfg.public_base_url});
      auto client_id = ctx.header("X-Request-Id");
      ctx.set_request_id(sane_request_id(client_id) ? std::string(client_id) : new_request_id());
      response res = co_await routes.dispatch(ctx);
      const bool keep = ctx.req().keep_alive() && !entry.closing;
      bool ok = co_await write(stream, res, ctx.req().version(), keep,
                               ctx.method() == http::verb::head, ctx.request_id(), head);
      std::string_view target = ctx.target();
      report(ctx.request_id(), http::to_string(ctx.method()), ctx.route(),
             target.substr(0, target.find('?')), remote, ctx.header("traceparent"),
             ctx.header(http::field::user_agent), ctx.log_tenant(), res, started, secure);
      if (!ok) co_return false;
      if (!keep) co_return true;
    }
  }

  /// Feeds what `buffer` holds to the parser, up to the end of the head when `head_only`. No
  /// error with the request (head) incomplete means the rest must be read; limits (431, 413) and
  /// malformed input fail here as they would in Beast's read, which runs the same parser over
  /// the same bytes.
  static beast::error_code parse_buffered(beast::flat_buffer& buffer,
                                          http::request_parser<http::string_body>& parser,
                                          bool head_only) {
    beast::error_code ec;
    // The parser is not eager: a put() that completes the head returns there.
    while (buffer.size() > 0 && !parser.is_done() && !(head_only && parser.is_header_done())) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more) return {};
      if (ec || used == 0) break;
    }
    return ec;
  }

  /// Reads the rest of a request whose head was read. A client that sent
  /// `Expect: 100-continue` (curl does for bodies over 1 KiB) waits for an interim 100 before
  /// sending its body; without one it stalls for a second. Refusals decided from the head (413
  /// on Content-Length, a malformed head) are final answers and get no 100.
  template <class Stream>
  net::awaitable<beast::error_code> read_body(Stream& stream, beast::flat_buffer& buffer,
                                              http::request_parser<http::string_body>& parser) {
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> interim{http::status::continue_, 11};
      auto [wec, wn] = co_await http::async_write(stream, interim, use_tuple);
      if (wec) co_return wec;
    }
    auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    co_return bec;
  }

  /// Writes the response: its head (into `scratch`, the connection's reused buffer) and its
  /// body in one gather write; Beast's serializer only for a chunked one. An answer to HEAD
  /// (`head_only`) is the head alone, with the Content-Length of the body it leaves out (RFC 9110
  /// §9.3.2): a body would be read as the start of the next response.
  template <class Stream>
  net::awaitable<bool> write(Stream& stream, response& res, unsigned version, bool keep,
                             bool head_only, const std::string& request_id, std::string& scratch) {
    res.version(version);
    res.keep_alive(keep);
    res.prepare_payload();
    if (head_only) res.body().clear();
    scratch.clear();
    // The request id goes straight into the head (a Beast field costs a lookup and an
    // allocation); only the serializer's path below needs it as a field.
    if (append_response_head(res, scratch, request_id)) {
      std::array<net::const_buffer, 2> parts{net::buffer(scratch), net::buffer(res.body())};
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        // The socket is non-blocking (session): the kernel usually takes the whole response at
        // once, which needs neither an asynchronous operation nor the write timer. Only what
        // it did not take is written asynchronously, under the write timeout.
        boost::system::error_code ec;
        const std::size_t sent = stream.socket().write_some(parts, ec);
        if (ec && ec != net::error::would_block && ec != net::error::try_again) co_return false;
        if (sent == parts[0].size() + parts[1].size()) co_return true;
        if (sent >= parts[0].size()) {
          parts[1] += sent - parts[0].size();
          parts[0] = {};
        } else {
          parts[0] += sent;
        }
      }
      beast::get_lowest_layer(stream).expires_after(cfg.write_timeout);
      auto [ec, n] = co_await net::async_write(stream, parts, use_tuple);
      co_return !ec;
    }
    res.set("X-Request-Id", request_id);
    beast::get_lowest_layer(stream).expires_after(cfg.write_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    co_return !ec;
  }

  template <class Stream>
  net::awaitable<void> linger(Stream& stream, beast::flat_buffer& buffer) {
    auto& lowest = beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest.expires_after(linger_timeout);
    std::size_t drained = 0;
    while (drained < linger_max_bytes) {
      buffer.clear();
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(16 * 1024), use_tuple);
      if (rec) break;
      drained += n;
    }
  }

  void report(std::string_view id, std::string_view method, const route_info* route,
              std::string_view path, std::string_view remote, std::string_view traceparent,
              std::string_view user_agent, std::string_view tenant, const response& res,
              std::chrono::steady_clock::time_point started, bool secure) {
    if (!observer) return;
    completed_request done;
    done.request_id = id;
    done.method = method;
    done.route = route ? std::string_view(route->pattern) : std::string_view("unmatched");
    done.path = path;
    done.remote = remote;
    done.traceparent = traceparent;
    done.user_agent = user_agent;
    done.tenant = tenant;
    done.status = res.result_int();
    done.duration = std::chrono::steady_clock::now() - started;
    done.response_bytes = res.body().size();
    done.secure = secure;
    try {
      observer(done);
    } catch (const std::exception& e) {
      spdlog::error("request observer failed: {}", e.what());
    }
  }

  // ---- shutdown (on the control strand) ----
  void begin_shutdown() {
    std::vector<std::shared_ptr<connection_entry>> open;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
      open.assign(connections.begin(), connections.end());
    }
    spdlog::info("shutting down: {} open connection(s), deadline {}", open.size(),
                 format_duration(cfg.shutdown_timeout));
    net::post(acceptor->get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
    if (signals) signals->cancel();
    for (auto& c : open) {
      net::post(c->executor, [c] {
        c->closing = true;
        if (c->idle && c->cancel) c->cancel();
      });
    }
    if (open.empty()) {
      finish();
      return;
    }
    deadline->expires_after(cfg.shutdown_timeout);
    deadline->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      spdlog::warn("shutdown deadline reached: closing {} connection(s) with requests in flight",
                   connection_count());
      stop_all();
    });
  }

  void finish() {
    deadline->cancel();
    stop_all();
  }

  void stop_all() {
    for (auto& c : iocs)
      c->stop();
  }

  std::size_t connection_count() const {
    std::lock_guard lock(mutex);
    return connections.size();
  }
};

server::server(const config& cfg, const router& routes, request_observer observer)
    : impl_(std::make_shared<impl>(cfg, routes, std::move(observer))) {}

server::~server() = default;

boost::system::result<void, std::string> server::start() {
  if (impl_->started) return std::string("server already started");
  return impl_->start();
}

void server::run() {
  if (!impl_->started) return;
  auto run_one = [](net::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        // Handlers catch their own failures; reaching here is a bug, but one request's bug
        // must not take the server down.
        spdlog::error("io_context handler threw: {}", e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  auto& iocs = impl_->iocs;
  for (std::size_t i = 1; i < iocs.size(); ++i)
    threads.emplace_back([&run_one, &ioc = *iocs[i]] {
      pthread_setname_np(pthread_self(), "http");
      run_one(ioc);
    });
  run_one(*iocs.front());
  for (auto& t : threads)
    t.join();
}

void server::shutdown() {
  net::post(*impl_->control, [i = impl_.get()] { i->begin_shutdown(); });
}

void server::handle_signals() {
  impl_->signals.emplace(*impl_->control, SIGINT, SIGTERM);
  impl_->signals->async_wait([i = impl_.get()](boost::system::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("received signal {}", signo);
    i->begin_shutdown();
  });
}

boost::asio::ip::tcp::endpoint server::local_endpoint() const {
  return impl_->bound;
}

std::string server::url() const {
  return std::string(impl_->tls ? "https://" : "http://") + endpoint_string(impl_->bound);
}

std::size_t server::connection_count() const {
  return impl_->connection_count();
}

boost::asio::io_context& server::io_context() {
  return *impl_->iocs.front();
}

}  // namespace tenant::api
