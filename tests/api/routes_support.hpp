#pragma once
// A tenant API without sockets: the memory event store, the real repository and read model (in
// a temp dir), the routes of add_tenant_routes, and a helper that dispatches one request.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tenant/api/auth.hpp"
#include "tenant/api/tenant_routes.hpp"
#include "test_support.hpp"

// GCC PR middle-end/109224: false -Wmismatched-new-delete on inlined Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace tenant::api::test {

class routes_temp_dir {
 public:
  routes_temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("tenant-routes-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~routes_temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  routes_temp_dir(const routes_temp_dir&) = delete;
  routes_temp_dir& operator=(const routes_temp_dir&) = delete;
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Test callers: the header "X-Test-Sub: <sub>" (with optional "X-Test-Scope" and
/// "X-Test-Tenant") stands for a verified token, as the platform middleware would leave it.
inline middleware test_principal_middleware() {
  return [](request_context& ctx, next_handler next) -> boost::asio::awaitable<response> {
    if (auto sub = ctx.header("X-Test-Sub"); !sub.empty()) {
      principal p;
      p.sub = domain::user_id(std::string(sub));
      std::string scope(ctx.header("X-Test-Scope"));
      if (scope.empty()) scope = "tenants:read tenants:write";
      std::size_t start = 0;
      while (start < scope.size()) {
        auto end = scope.find(' ', start);
        if (end == std::string::npos) end = scope.size();
        if (end > start) p.scopes.push_back(scope.substr(start, end - start));
        start = end + 1;
      }
      if (auto t = ctx.header("X-Test-Tenant"); !t.empty())
        p.tenant_id = domain::tenant_id::parse(t);
      p.effective_tenant = p.tenant_id;
      ctx.emplace<principal>(std::move(p));
    }
    co_return co_await next(ctx);
  };
}

struct routes_options {
  bool replica = false;
  bool auth_required = false;
  std::chrono::milliseconds min_position_wait{2'000};
  /// The memory store's clock (idempotency records expire by it); empty = the system clock.
  eventstore::store_clock store_clock{};
};

class api_fixture {
 public:
  explicit api_fixture(routes_options o = {}) : pool_(2) {
    eventstore::memory_options so;
    so.clock = o.store_clock;
    store_ = eventstore::make_memory_store(so);
    if (!o.replica) repo_ = std::make_unique<eventstore::repository>(*store_);
    projections::read_model_options mo;
    mo.path = dir_.sub("projections");
    auto m = projections::read_model::open(*store_, mo);
    if (!m) throw std::runtime_error("read model: " + m.error().message());
    model_ = std::move(*m);
    model_->start();
    config cfg;
    cfg.min_position_wait = o.min_position_wait;
    router_.use(test_principal_middleware());
    add_tenant_routes(
        router_, tenant_services{*store_, repo_.get(), *model_, pool_, cfg, o.auth_required, {}});
  }
  ~api_fixture() {
    model_->stop();
    if (repo_) repo_->stop();
    pool_.join();
    store_->stop();
  }

  struct reply {
    response res;
    boost::json::value body;  // null when the body is not JSON
    unsigned status() const { return static_cast<unsigned>(res.result()); }
    std::string header(std::string_view name) const {
      auto it = res.find(name);
      return it == res.end() ? std::string() : std::string(it->value());
    }
    const boost::json::object& obj() const { return body.as_object(); }
    std::string str(std::string_view key) const {
      const auto* v = obj().if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    }
  };

  using header_list = std::vector<std::pair<std::string, std::string>>;

  static request json_request(http::verb method, std::string target, std::string body,
                              const header_list& headers) {
    auto req = make_request(method, std::move(target), std::move(body), "application/json");
    for (const auto& [k, v] : headers)
      req.set(k, v);
    return req;
  }

  reply call(http::verb method, std::string target, std::string body = {},
             header_list headers = {}) {
    request_context ctx(json_request(method, std::move(target), std::move(body), headers));
    // On the fixture's io_context, not run_sync's own: the store's writer thread may still be
    // inside the post() that completed the request (signalling the scheduler's condition
    // variable) when run() returns, so the context must outlive the store (TSan saw the race).
    ioc_.restart();
    auto answer = boost::asio::co_spawn(ioc_, router_.dispatch(ctx), boost::asio::use_future);
    ioc_.run();
    return to_reply(answer.get());
  }

  static reply to_reply(response res) {
    reply r{std::move(res), {}};
    boost::system::error_code ec;
    r.body = boost::json::parse(r.res.body(), ec);
    if (ec) r.body = nullptr;
    return r;
  }

  /// `n` copies of one request, dispatched at once on an io_context run by `threads` threads
  /// (as tenantd's io threads would serve them from `n` connections); replies in request order.
  std::vector<reply> call_concurrently(std::size_t n, http::verb method, const std::string& target,
                                       const std::string& body = {}, header_list headers = {},
                                       std::size_t threads = 4) {
    // Kept until the fixture has stopped the store: the writer thread may still be inside a
    // post() to this io_context (signalling its condition variable) after run() returned here.
    auto& ioc = *finished_contexts_.emplace_back(std::make_unique<boost::asio::io_context>());
    std::vector<std::unique_ptr<request_context>> contexts;
    std::vector<std::future<response>> answers;
    for (std::size_t i = 0; i < n; ++i) {
      contexts.push_back(
          std::make_unique<request_context>(json_request(method, target, body, headers)));
      answers.push_back(
          boost::asio::co_spawn(ioc, router_.dispatch(*contexts.back()), boost::asio::use_future));
    }
    std::vector<std::thread> runners;
    for (std::size_t i = 0; i < threads; ++i)
      runners.emplace_back([&ioc] { ioc.run(); });
    for (auto& t : runners)
      t.join();
    std::vector<reply> out;
    for (auto& a : answers)
      out.push_back(to_reply(a.get()));
    return out;
  }

  /// POST /api/v1/tenants with a valid body; returns the new id.
  std::string create(const std::string& name, std::string extra = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto r = call(http::verb::post, "/api/v1/tenants",
                  R"({"name":")" + name +
                      R"(","plan":"starter","admin_email":"admin@example.com")" + extra + "}",
                  std::move(headers));
    EXPECT_EQ(r.status(), 201u) << r.res.body();
    return r.body.is_object() ? r.str("id") : std::string();
  }

  eventstore::event_store& store() { return *store_; }
  projections::read_model& model() { return *model_; }
  const router& routes() const { return router_; }
  router& mutable_routes() { return router_; }

 private:
  // Destroyed after the destructor's body has stopped the store (see call, call_concurrently).
  boost::asio::io_context ioc_;
  std::vector<std::unique_ptr<boost::asio::io_context>> finished_contexts_;
  routes_temp_dir dir_;
  blocking_pool pool_;
  std::unique_ptr<eventstore::event_store> store_;
  std::unique_ptr<eventstore::repository> repo_;
  std::unique_ptr<projections::read_model> model_;
  router router_;
};

}  // namespace tenant::api::test
