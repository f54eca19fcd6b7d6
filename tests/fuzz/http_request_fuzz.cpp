// Fuzz target: whole HTTP/1.1 requests through tenantd's handler, without sockets.
//
// The bytes go through Beast's request parser with the server's limits (config::header_limit,
// body_limit), as api/src/server.cpp reads them; every request that parses is dispatched through
// the router tenantd builds (apps/tenantd/app.cpp register_routes: operations routes, the OpenAPI
// document, the platform middleware with authentication, rate limits and scoping as installed by
// apps/tenantd/platform_wiring.cpp, the tenant routes of /api/v1, /v1 and /v0.1) over a real
// RocksDB event store, repository, projections and provisioning process manager in a temporary
// directory made once per process. Up to four requests per input are served one after the other
// (keep-alive, pipelining), so an input can create a tenant and then act on it.
//
// Harness conventions (tests/fuzz/README.md), applied to a parsed request:
//   - `X-Fuzz-Token: admin|writer|reader|member|scoped` (when no Authorization is sent) is
//     replaced by a valid bearer token of that kind, so the fuzzer gets past authentication;
//   - `{A}` (a tenant the admin created), `{B}` (one the `member` caller created and belongs to)
//     and `{L}` (the tenant the last 201 in this process created) in the target and in header
//     values are replaced by those tenants' ids.
//
// Invariants (a finding traps): dispatch completes and throws nothing; no 500 and no 5xx other
// than 503 (DESIGN.md: UNAVAILABLE, e.g. X-Min-Position); every 4xx and 5xx is a problem document
// (`application/problem+json`, a JSON object whose `status` is the response's and with a `code`);
// no response header holds CR, LF or NUL (response splitting) and the response serializes.
//
// State carries over from input to input (the store only grows), as in a real server: an input
// that fails may need the ones before it. libFuzzer's crash input replays alone in most cases.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "platform_wiring.hpp"
#include "tenant/api/auth.hpp"
#include "tenant/api/blocking.hpp"
#include "tenant/api/config.hpp"
#include "tenant/api/operations.hpp"
#include "tenant/api/router.hpp"
#include "tenant/api/tenant_routes.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/provisioning.hpp"
#include "tenant/projections/read_model.hpp"
#include "test_keys.hpp"

// GCC PR middle-end/109224: false -Wmismatched-new-delete on inlined Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

namespace api = tenant::api;
namespace net = boost::asio;
namespace http = boost::beast::http;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "http_request_fuzz: %s\n", what.c_str());
  __builtin_trap();
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

/// tenantd without its socket: the parts app.cpp starts, wired the way it wires them.
class harness {
 public:
  harness() : blocking_(2) {
    // Log records are formatted (fuzzed text reaches the formatters) and dropped.
    auto logger =
        std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);

    char tmpl[] = "/tmp/tenantd-fuzz-XXXXXX";
    const char* tmp = ::mkdtemp(tmpl);
    if (!tmp) finding("mkdtemp failed");
    dir_ = tmp;

    cfg_.data_dir = dir_.string();
    cfg_.durability = tenant::eventstore::durability::os;  // the WAL sync is not under test
    cfg_.jwt_secret = std::string(tenant::fuzz::test_hs256_secret);
    // Limits stay on (their headers and bookkeeping are exercised) but never bind: a fuzzer
    // sends more than 100 requests a minute, and 429 to everything would hide the handlers.
    cfg_.limits = {1u << 30, 1u << 30, 1u << 30, 1u << 30};
    // X-Min-Position and the membership wait: short, or a fuzzed position stalls every input.
    cfg_.min_position_wait = std::chrono::milliseconds(5);

    tenant::eventstore::rocksdb_options so;
    so.path = (dir_ / "eventstore").string();
    so.mode = cfg_.durability;
    auto store = tenant::eventstore::open_rocksdb_store(so);
    if (!store) finding("event store: " + store.error().message());
    store_ = std::move(*store);
    tenant::projections::read_model_options mo;
    mo.path = (dir_ / "projections").string();
    mo.limits = cfg_.plan_limits;
    auto model = tenant::projections::read_model::open(*store_, mo);
    if (!model) finding("read model: " + model.error().message());
    model_ = std::move(*model);
    readiness_.add("eventstore", [] { return api::readiness::status{true, "open"}; });

    tenant::eventstore::repository_options ro;
    ro.limits = cfg_.plan_limits;
    repo_ = std::make_unique<tenant::eventstore::repository>(*store_, ro);
    model_->start();
    auto pm = tenant::projections::provisioning_manager::create(
        *store_, *model_, tenant::projections::repository_issuer(*repo_));
    if (!pm) finding("provisioning: " + pm.error().message());
    provisioning_ = std::move(*pm);
    provisioning_->start();

    // app::register_routes.
    api::add_operations_routes(router_, metrics_, readiness_);
    api::add_openapi_route(router_);
    auto platform =
        tenantd::platform_wiring::install(cfg_, router_, metrics_, *store_, *model_, blocking_);
    if (!platform) finding("platform: " + platform.error());
    platform_ = std::move(*platform);
    api::add_tenant_routes(router_, api::tenant_services{*store_,
                                                         repo_.get(),
                                                         *model_,
                                                         blocking_,
                                                         cfg_,
                                                         /*auth_required=*/true,
                                                         {}});

    mint("admin", "fuzz-admin", "platform:admin tenants:read tenants:write");
    mint("writer", "fuzz-writer", "tenants:read tenants:write");
    mint("reader", "fuzz-reader", "tenants:read");
    mint("member", "fuzz-member", "tenants:read tenants:write");
    tenant_a_ = create("admin", "Fuzz Tenant A");
    tenant_b_ = create("member", "Fuzz Tenant B");
    mint("scoped", "fuzz-scoped", "tenants:read tenants:write", tenant_a_);
  }

  ~harness() {
    provisioning_->stop();
    repo_->stop();
    model_->stop();
    blocking_.join();
    store_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  harness(const harness&) = delete;
  harness& operator=(const harness&) = delete;

  void run(std::string_view input) {
    // One flat buffer and one parser per request, as server.cpp's read loop.
    std::size_t offset = 0;
    for (int served = 0; served < 4 && offset < input.size(); ++served) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg_.header_limit));
      parser.body_limit(cfg_.body_limit);
      parser.eager(true);
      boost::beast::error_code ec;
      while (!parser.is_done() && offset < input.size()) {
        const auto n = parser.put(net::buffer(input.data() + offset, input.size() - offset), ec);
        offset += n;
        if (ec == http::error::need_more && n > 0) {
          ec = {};
          continue;
        }
        if (ec || n == 0) break;
      }
      // The server answers these itself (431, 413, 400) or waits for more bytes: not the
      // handler's input. It also refuses (400) and closes on a head malformed_request_head
      // refuses: framing, Host, a single-value header twice.
      if (ec || !parser.is_done()) return;
      if (api::malformed_request_head(parser.get())) return;
      serve(parser.release());
    }
  }

 private:
  void mint(const std::string& kind, const std::string& sub, const std::string& scope,
            std::optional<std::string> tenant = std::nullopt) {
    api::token_claims claims;
    claims.sub = sub;
    claims.scope = scope;
    claims.tenant_id = std::move(tenant);
    claims.ttl = std::chrono::hours(24 * 365);
    auto token = api::mint_token(claims, api::jwt_algorithm::hs256, tenant::fuzz::test_hs256_secret,
                                 std::chrono::system_clock::now());
    if (!token) finding("mint: " + token.error().message);
    tokens_.emplace_back(kind, "Bearer " + *token);
  }

  std::string create(const std::string& kind, const std::string& name) {
    api::request req{http::verb::post, "/api/v1/tenants", 11};
    req.set(http::field::host, "tenants.example.com");
    req.set(http::field::content_type, "application/json");
    req.set("X-Fuzz-Token", kind);
    req.body() = R"({"name":")" + name + R"(","plan":"starter","admin_email":"a@example.com"})";
    req.prepare_payload();
    const auto res = serve(std::move(req));
    boost::system::error_code ec;
    auto body = boost::json::parse(res.body(), ec);
    if (res.result() != http::status::created || ec || !body.is_object() ||
        !body.as_object().contains("id")) {
      finding("set-up create failed: " + std::string(res.body()));
    }
    return std::string(body.as_object().at("id").as_string());
  }

  void substitute(api::request& req) const {
    const auto fill = [this](std::string s) {
      if (s.find('{') == std::string::npos) return s;
      replace_all(s, "{A}", tenant_a_);
      replace_all(s, "{B}", tenant_b_);
      replace_all(s, "{L}", last_created_.empty() ? tenant_a_ : last_created_);
      return s;
    };
    req.target(fill(std::string(req.target())));
    std::vector<std::pair<std::string, std::string>> changed;
    for (const auto& f : req) {
      if (f.value().find('{') != std::string_view::npos)
        changed.emplace_back(std::string(f.name_string()), fill(std::string(f.value())));
    }
    for (auto& [name, value] : changed)
      req.set(name, value);
    if (req.find(http::field::authorization) == req.end()) {
      const auto kind = req["X-Fuzz-Token"];
      for (const auto& [k, token] : tokens_) {
        if (kind == k) {
          req.set(http::field::authorization, token);
          break;
        }
      }
    }
    req.erase("X-Fuzz-Token");
  }

  api::response serve(api::request req) {
    substitute(req);
    api::request_context ctx(std::move(req), {{}, false, cfg_.public_base_url});
    ctx.set_request_id("fuzz");
    std::optional<api::response> out;
    std::exception_ptr failure;
    io_.restart();
    net::co_spawn(
        io_, [&]() -> net::awaitable<void> { out = co_await router_.dispatch(ctx); },
        [&](std::exception_ptr e) { failure = e; });
    io_.run();
    if (failure) finding("router::dispatch threw");
    if (!out) finding("router::dispatch did not complete");
    check(ctx, *out);
    if (out->result() == http::status::created) {
      boost::system::error_code ec;
      auto body = boost::json::parse(out->body(), ec);
      if (!ec && body.is_object()) {
        const auto* id = body.as_object().if_contains("id");
        if (!id) {
          if (const auto* data = body.as_object().if_contains("data"); data && data->is_object())
            id = data->as_object().if_contains("id");
        }
        if (id && id->is_string()) last_created_ = std::string(id->as_string());
      }
    }
    return std::move(*out);
  }

  static void check(const api::request_context& ctx, api::response& res) {
    const unsigned status = res.result_int();
    const std::string where = std::string(http::to_string(ctx.method())) + " " +
                              std::string(ctx.target()) + " -> " + std::to_string(status);
    if (status < 100 || status > 599) finding("status out of range: " + where);
    if (status >= 500 && status != 503) finding("a 5xx other than 503: " + where);
    if (status >= 400) {
      if (res[http::field::content_type] != "application/problem+json")
        finding("an error without the problem content type: " + where);
      boost::system::error_code ec;
      const auto doc = boost::json::parse(res.body(), ec);
      if (ec || !doc.is_object()) finding("an error whose body is not a JSON object: " + where);
      const auto* s = doc.as_object().if_contains("status");
      const auto* code = doc.as_object().if_contains("code");
      if (!s || !s->is_int64() || s->as_int64() != static_cast<std::int64_t>(status))
        finding("a problem whose status is not the response's: " + where);
      if (!code || !code->is_string() || code->as_string().empty())
        finding("a problem without a code: " + where);
    }
    for (const auto& f : res) {
      for (const char c : f.value()) {
        if (c == '\r' || c == '\n' || c == '\0')
          finding("a response header holds CR, LF or NUL: " + where);
      }
    }
    // What the server does next: version, keep-alive, Content-Length, then the serializer.
    res.version(ctx.req().version());
    res.keep_alive(ctx.req().keep_alive());
    res.prepare_payload();
    std::ostringstream wire;
    wire << res;
    if (wire.str().empty()) finding("the response did not serialize: " + where);
  }

  std::filesystem::path dir_;
  api::config cfg_;
  api::metrics_registry metrics_;
  api::readiness readiness_;
  std::unique_ptr<tenant::eventstore::event_store> store_;
  std::unique_ptr<tenant::projections::read_model> model_;
  std::unique_ptr<tenant::eventstore::repository> repo_;
  std::unique_ptr<tenant::projections::provisioning_manager> provisioning_;
  std::unique_ptr<tenantd::platform_wiring> platform_;
  api::blocking_pool blocking_;
  api::router router_;
  net::io_context io_;
  std::vector<std::pair<std::string, std::string>> tokens_;  // kind -> "Bearer ..."
  std::string tenant_a_;
  std::string tenant_b_;
  std::string last_created_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Built on first use and destroyed at exit (after the last input, threads stopped in order).
  static harness h;
  h.run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
