#include "tenant/api/platform.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <string_view>

#include "tenant/api/problem.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"
#include "tenant/projections/read_model.hpp"
#include "tenant_git_commit.hpp"  // generated at build time (cmake/TenantGitCommit.cmake)

namespace tenant::api {

namespace net = boost::asio;

namespace {

// Waits until the projections reached `position` or `deadline` passed. Polls with a short,
// growing timer on the request's own executor instead of read_model::wait_for_position's
// cross-thread callback: this path only runs for a caller about to be refused while the
// projections trail the log (milliseconds), and a timer cannot outlive or race the connection.
net::awaitable<void> wait_position(const projections::read_model& model, std::uint64_t position,
                                   std::chrono::steady_clock::time_point deadline) {
  if (model.position() >= position) co_return;
  net::steady_timer timer(co_await net::this_coro::executor);
  std::chrono::milliseconds step{1};
  while (model.position() < position && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(step);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    step = std::min(step * 2, std::chrono::milliseconds{20});
  }
}

enum class access { allowed, denied, undecided };

// may_touch, waiting (bounded) for the membership projection when it is behind the head the
// store had when the question was asked: the caller may have just created or switched to `t`.
// `undecided` when the wait ended with the projection still short of that head: the membership
// may be in the events not yet folded, so a refusal would be a guess (answered 503, retry).
net::awaitable<access> touch(const platform_state& st, const principal& p,
                             const domain::tenant_id& t) {
  if (may_touch(p, t, *st.model)) co_return access::allowed;
  // A token scoped to one tenant never depends on memberships.
  if (p.is_admin() || p.tenant_id || st.store == nullptr) co_return access::denied;
  const std::uint64_t head = st.store->head();
  if (st.model->position() >= head) co_return access::denied;
  co_await wait_position(*st.model, head, std::chrono::steady_clock::now() + st.membership_wait);
  if (may_touch(p, t, *st.model)) co_return access::allowed;
  co_return st.model->position() >= head ? access::denied : access::undecided;
}

// The answer while the memberships trail the log by more than the wait allows.
problem memberships_behind(const platform_state& st) {
  problem p = make_problem(problem_code::unavailable,
                           "Tenant memberships are catching up with the event log (at position " +
                               std::to_string(st.model->position()) +
                               "); whether you may access this tenant is not "
                               "known yet. Retry.");
  p.headers.emplace_back("Retry-After", "1");
  return p;
}

net::awaitable<bool> is_enterprise(const platform_state& st, const domain::tenant_id& t) {
  auto l = st.model->try_find(t);
  if (l.status == projections::lookup_status::found && l.view) {
    co_return l.view->state.subscription.plan == domain::plan_tier::enterprise;
  }
  if (l.status == projections::lookup_status::would_block && st.blocking != nullptr) {
    auto* model = st.model;
    // By reference only: GCC 12 destroys a lambda temporary with owning captures twice when it
    // is an argument inside a co_await expression (double free); `t` outlives the await.
    auto found = co_await run_blocking(*st.blocking, [model, &t] { return model->find(t); });
    if (found && *found)
      co_return (*found)->state.subscription.plan == domain::plan_tier::enterprise;
  }
  co_return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

problem bearer_problem(std::string_view detail, bool token_sent) {
  problem p = make_problem(problem_code::unauthenticated, std::string(detail));
  // RFC 6750 §3: no error code when the request carried no credentials at all.
  std::string challenge = "Bearer realm=\"tenantd\"";
  if (token_sent) challenge += ", error=\"invalid_token\"";
  p.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return p;
}

bool is_admin_route(const route_info& r) {
  return r.has_tag("admin") || r.pattern.starts_with("/admin/") || r.pattern == "/admin";
}

void add_headers(response& res, const std::vector<std::pair<std::string, std::string>>& hs) {
  for (const auto& [k, v] : hs)
    res.set(k, v);
}

}  // namespace

middleware make_platform_middleware(std::shared_ptr<const platform_state> state) {
  return [st = std::move(state)](request_context& ctx,
                                 next_handler next) -> net::awaitable<response> {
    const route_info* route = ctx.route();
    if (route == nullptr || route->kind == route_kind::operations) co_return co_await next(ctx);

    // 1. Authentication.
    const auto authorization = ctx.header(http::field::authorization);
    if (authorization.empty()) {
      if (st->auth_failures) st->auth_failures->inc();
      co_return to_response(bearer_problem(describe(token_error::missing), false));
    }
    const auto token = token_verifier::bearer_token(authorization);
    if (!token) {
      if (st->auth_failures) st->auth_failures->inc();
      co_return to_response(
          bearer_problem("The Authorization header must be 'Bearer <JWT>'.", true));
    }
    const auto now = st->clock ? st->clock() : std::chrono::system_clock::now();
    auto verified = st->verifier->verify(*token, now);
    if (!verified) {
      if (st->auth_failures) st->auth_failures->inc();
      co_return to_response(bearer_problem(describe(verified.error()), true));
    }
    principal who = std::move(*verified);

    // 2. X-Tenant-Id: checked before it may become a rate-limit key.
    std::optional<problem> refusal;
    if (const auto xt = trim(ctx.header("X-Tenant-Id")); !xt.empty()) {
      auto id = domain::tenant_id::parse(xt);
      if (!id) {
        refusal =
            make_problem(problem_code::bad_request, "X-Tenant-Id must be a tenant id (tn_<uuid>).");
      } else if (who.tenant_id && *who.tenant_id != *id) {
        refusal = make_problem(problem_code::forbidden,
                               "X-Tenant-Id differs from the tenant your token is scoped to.");
      } else {
        const access a = co_await touch(*st, who, *id);
        if (a == access::allowed)
          who.effective_tenant = std::move(*id);
        else if (a == access::undecided)
          refusal = memberships_behind(*st);
        else
          refusal =
              make_problem(problem_code::forbidden, "You may not access the X-Tenant-Id tenant.");
      }
    }

    // 3. Rate limits.
    std::optional<rate_decision> decision;
    if (st->limiter) {
      std::string key =
          who.effective_tenant ? who.effective_tenant->str() : "user:" + who.sub.str();
      std::string endpoint;
      if (route->has_tag("tms")) {
        endpoint = std::string(http::to_string(route->method)) + " " + route->pattern;
      }
      rate_request rq;
      rq.key = key;
      // Not `effective_tenant && co_await ...`: GCC 12 miscompiles a co_await in an operand of
      // && (CONTRIBUTING.md).
      if (who.effective_tenant) rq.enterprise = co_await is_enterprise(*st, *who.effective_tenant);
      rq.endpoint = endpoint;
      decision = st->limiter->check(rq);
      if (!decision->allowed) {
        const std::optional<counter>* c = &st->limited_minute;
        if (decision->window == rate_window::endpoint_minute) c = &st->limited_endpoint;
        if (decision->window == rate_window::day) c = &st->limited_day;
        if (*c) (*c)->inc();
        problem p = make_problem(
            problem_code::rate_limited,
            "Rate limit of " + std::to_string(decision->limit) + " requests per " +
                (decision->window == rate_window::day ? std::string("24 hours")
                                                      : std::string("minute")) +
                " reached; retry after " + std::to_string(decision->reset_after_seconds) + " s.");
        for (auto& h : rate_limit_headers(*decision))
          p.headers.push_back(std::move(h));
        for (auto& h : rate_limited_headers(*decision))
          p.headers.push_back(std::move(h));
        co_return to_response(p);
      }
    }
    const auto finish = [&decision](response res) {
      if (decision) add_headers(res, rate_limit_headers(*decision));
      return res;
    };
    if (refusal) co_return finish(to_response(*refusal));

    // 4. Scope for the kind of route.
    if (is_admin_route(*route)) {
      if (!who.is_admin()) {
        co_return finish(to_response(make_problem(
            problem_code::forbidden, "This operation needs the platform:admin scope.")));
      }
    } else if (route->kind == route_kind::command && !who.can_write()) {
      co_return finish(to_response(
          make_problem(problem_code::forbidden, "This operation needs the tenants:write scope.")));
    } else if (route->kind == route_kind::query && !who.can_read()) {
      co_return finish(to_response(
          make_problem(problem_code::forbidden,
                       "This operation needs the tenants:read or tenants:write scope.")));
    }

    // 5. The tenant named by the path. Non-admins get 403 for unknown and malformed ids too.
    if (const auto raw = ctx.path_param("id"); !raw.empty()) {
      auto id = domain::tenant_id::parse(raw);
      if (!who.is_admin()) {
        access a = access::denied;
        if (id) a = co_await touch(*st, who, *id);
        if (a == access::undecided) co_return finish(to_response(memberships_behind(*st)));
        if (a == access::denied) {
          co_return finish(to_response(
              make_problem(problem_code::forbidden, "You may not access this tenant.")));
        }
      }
      if (id) ctx.set_log_tenant(id->str());
    } else if (route->kind == route_kind::command && who.tenant_id && !who.is_admin()) {
      // A command that names no tenant creates one (POST /tenants): a token confined to one
      // tenant could never touch what it made, so it may not make anything.
      co_return finish(to_response(make_problem(
          problem_code::forbidden, "This token is confined to tenant " + who.tenant_id->str() +
                                       ": it may not create tenants.")));
    } else if (who.effective_tenant) {
      ctx.set_log_tenant(who.effective_tenant->str());
    }

    ctx.emplace<principal>(std::move(who));
    co_return finish(co_await next(ctx));
  };
}

void add_platform_metrics(platform_state& state, metrics_registry& metrics) {
  const auto limited = [&](std::string_view w) {
    return metrics.make_counter("tenantd_rate_limited_requests_total",
                                "Requests refused with 429 RATE_LIMITED, by the quota that refused",
                                {{"window", std::string(w)}});
  };
  state.limited_minute = limited("minute");
  state.limited_endpoint = limited("endpoint");
  state.limited_day = limited("day");
  state.auth_failures = metrics.make_counter(
      "tenantd_auth_failures_total", "Requests refused with 401 UNAUTHENTICATED (no or bad token)");
}

// ---- /admin ----

build_info current_build() {
  build_info b;
#ifdef TENANTD_VERSION
  b.version = TENANTD_VERSION;
#else
  b.version = "0.1.0";
#endif
  b.git_commit = TENANTD_GIT_COMMIT;  // tenant_git_commit.hpp, written at build time
#ifdef TENANTD_BUILD_TYPE
  b.build_type = TENANTD_BUILD_TYPE;
#elif defined(NDEBUG)
  b.build_type = "release";
#else
  b.build_type = "debug";
#endif
  return b;
}

void add_admin_routes(router& r, eventstore::event_store& store, projections::read_model& model,
                      std::function<void(boost::json::object&)> extra) {
  route_info status;
  status.method = http::verb::get;
  status.pattern = "/admin/status";
  status.name = "adminStatus";
  status.kind = route_kind::query;
  status.tags = {"admin"};
  r.add(std::move(status),
        [&store, &model, extra = std::move(extra)](request_context&) -> net::awaitable<response> {
          boost::json::object doc;
          const auto stats = store.stats();
          const std::uint64_t head = store.head();
          doc["head_position"] = head;
          doc["projection_position"] = model.position();
          boost::json::object es;
          es["appends"] = stats.appends;
          es["events_appended"] = stats.events_appended;
          es["group_commits"] = stats.batches;
          es["failed_appends"] = stats.failed_appends;
          doc["eventstore"] = std::move(es);
          boost::json::array projections;
          for (const auto& p : model.status()) {
            boost::json::object o;
            o["name"] = p.name;
            o["kind"] = p.kind;
            o["checkpoint"] = p.checkpoint;
            o["lag"] = p.checkpoint >= head ? 0 : head - p.checkpoint;
            o["generation"] = p.generation;
            if (p.rebuild) {
              boost::json::object rb;
              rb["generation"] = p.rebuild->generation;
              rb["checkpoint"] = p.rebuild->checkpoint;
              rb["online"] = p.rebuild->online;
              o["rebuild"] = std::move(rb);
            } else {
              o["rebuild"] = nullptr;
            }
            o["error"] =
                p.error.empty() ? boost::json::value(nullptr) : boost::json::value(p.error);
            projections.push_back(std::move(o));
          }
          doc["projections"] = std::move(projections);
          const auto b = current_build();
          doc["build"] = {
              {"version", b.version}, {"git_commit", b.git_commit}, {"build_type", b.build_type}};
          if (extra) extra(doc);
          co_return json_response(http::status::ok, doc);
        });

  route_info rebuild;
  rebuild.method = http::verb::post;
  rebuild.pattern = "/admin/projections/{name}/rebuild";
  rebuild.name = "rebuildProjection";
  rebuild.kind = route_kind::command;
  rebuild.tags = {"admin"};
  r.add(std::move(rebuild), [&model](request_context& ctx) -> net::awaitable<response> {
    const std::string name(ctx.path_param("name"));
    const auto ec = model.rebuild(name);
    if (ec == projections::errc::unknown_projection) {
      std::string known = "all";
      for (const auto& n : projections::projection_names())
        known += ", " + n;
      co_return to_response(make_problem(problem_code::not_found,
                                         "No projection '" + name + "' (known: " + known + ")."));
    }
    if (ec == projections::errc::busy) {
      co_return to_response(make_problem(problem_code::concurrency_conflict,
                                         "Projection '" + name + "' is already rebuilding."));
    }
    if (ec) co_return to_response(to_problem(ec));
    boost::json::object body;
    body["projection"] = name;
    body["status"] = "rebuilding";
    auto res = json_response(http::status::accepted, body);
    res.set(http::field::location, "/admin/status");
    co_return res;
  });
}

}  // namespace tenant::api
