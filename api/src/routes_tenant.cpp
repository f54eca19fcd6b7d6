// The Tenant API under /api/v1 (seed 002 dialect; DESIGN.md "HTTP") and the registration of
// every tenant route.
#include <spdlog/spdlog.h>

#include <boost/asio/this_coro.hpp>

#include "routes_support.hpp"
#include "tenant/api/auth.hpp"
#include "tenant/api/idempotency.hpp"
#include "tenant/api/pagination.hpp"
#include "tenant/api/tenant_json.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/projections/time_travel.hpp"

namespace tenant::api {

namespace detail {

namespace net = boost::asio;
using domain::command;
using cmd_result = boost::system::result<command, problem>;

namespace {

constexpr std::string_view prefix = "/api/v1";

domain::validation_rules api_rules(const route_env& env) {
  domain::validation_rules r;
  r.require_plan = true;
  r.require_admin_email = true;
  r.limits = env.svc.cfg.plan_limits;
  return r;
}

// A create/update body of /api/v1, validated.
boost::system::result<domain::validated_profile, problem> read_api_profile(
    const request_context& ctx, const route_env& env) {
  auto raw = read_profile(ctx.req());
  if (!raw) return raw.error();
  auto v = domain::validate_profile(*raw, api_rules(env));
  if (!v.value) return to_problem(domain::to_error(v));
  return std::move(*v.value);
}

response render_resource(request_context&, const eventstore::execute_success& s) {
  return resource_response(http::status::ok, s);
}

// ---- commands ----

cmd_result build_update(request_context& ctx, const route_env& env, const domain::tenant_id& id) {
  auto profile = read_api_profile(ctx, env);
  if (!profile) return profile.error();
  return command{domain::update_tenant{std::move(*profile), true, env.svc.model.seats_in_use(id)}};
}

cmd_result build_deactivate(request_context& ctx, const route_env&, const domain::tenant_id&) {
  auto a = read_status_args(ctx, true);
  if (!a) return a.error();
  return command{domain::deactivate_tenant{a->users, std::move(a->reason)}};
}

cmd_result build_reactivate(request_context& ctx, const route_env&, const domain::tenant_id&) {
  auto a = read_status_args(ctx, false);
  if (!a) return a.error();
  return command{domain::reactivate_tenant{a->users}};
}

cmd_result build_suspend(request_context& ctx, const route_env&, const domain::tenant_id&) {
  auto body = optional_body(ctx);
  if (!body) return body.error();
  std::string reason;
  if (*body) {
    reason = bounded_string(**body, "reason", reason_max_length).value_or("");
    if (!(*body)->errors().empty()) return validation_problem((*body)->take_errors());
  }
  return command{domain::suspend_tenant{std::move(reason)}};
}

cmd_result build_plan(request_context& ctx, const route_env& env, const domain::tenant_id& id) {
  auto body = parse_json_body(ctx.req());
  if (!body) return body.error();
  auto plan = body->string("plan");
  std::optional<domain::plan_tier> target;
  if (plan) {
    target = domain::parse_plan(*plan);
    if (!target) body->add_error("plan", "The selected plan is invalid.");
  } else if (body->errors().empty()) {
    body->add_error("plan", "The plan field is required.");
  }
  if (!body->errors().empty()) return validation_problem(body->take_errors());
  return command{domain::change_plan{*target, env.svc.model.seats_in_use(id)}};
}

bool valid_currency(std::string& c) {
  if (c.size() != 3) return false;
  for (auto& ch : c) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

cmd_result build_payment(request_context& ctx, const route_env&, const domain::tenant_id&) {
  auto body = parse_json_body(ctx.req());
  if (!body) return body.error();
  auto& b = *body;
  domain::record_payment p;
  if (auto status = b.string("status")) {
    if (*status == "failed" || *status == "succeeded")
      p.succeeded = *status == "succeeded";
    else
      b.add_error("status", "The selected status is invalid.");
  } else if (!b.errors().contains("status")) {
    b.add_error("status", "The status field is required.");
  }
  if (auto id = bounded_string(b, "payment_id", 255)) {
    p.payment_id = std::move(*id);
  } else if (!b.errors().contains("payment_id")) {
    b.add_error("payment_id", "The payment id field is required.");
  }
  if (auto amount = b.integer("amount_cents", {.min = 0})) p.amount_cents = *amount;
  if (auto currency = b.string("currency")) {
    if (valid_currency(*currency))
      p.currency = std::move(*currency);
    else
      b.add_error("currency", "The currency must be a 3-letter ISO 4217 code.");
  }
  p.reason = bounded_string(b, "reason", reason_max_length).value_or("");
  if (!b.errors().empty()) return validation_problem(b.take_errors());
  return command{std::move(p)};
}

cmd_result build_cancel(request_context& ctx, const route_env&, const domain::tenant_id&) {
  auto body = optional_body(ctx);
  if (!body) return body.error();
  std::string reason;
  if (*body) {
    reason = bounded_string(**body, "reason", reason_max_length).value_or("");
    if (!(*body)->errors().empty()) return validation_problem((*body)->take_errors());
  }
  return command{domain::cancel_subscription{std::move(reason)}};
}

handler create_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    auto profile = read_api_profile(ctx, *env);
    if (!profile) co_return to_response(profile.error());
    if (auto refused = precondition_on_create(ctx)) co_return to_response(*refused);
    const auto id = new_tenant_id(ctx, env->now());
    command create = domain::create_tenant{id, std::move(*profile), domain::user_id(who->sub)};
    auto out = co_await run_command(ctx, *env, *who, id, create, std::nullopt);
    if (!out) co_return to_response(out.error());
    auto res = resource_response(http::status::created, *out);
    res.set(http::field::location, ctx.base_url() + std::string(prefix) + "/tenants/" + id.str());
    co_return res;
  };
}

}  // namespace

// PUT /tenants/{id}/switch: UserSwitchedTenant on the caller's own stream. The platform
// middleware already checked that the caller may touch the tenant.
handler switch_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    auto if_match = parse_if_match(ctx);
    if (!if_match) co_return to_response(if_match.error());
    if (env->svc.repo == nullptr) co_return to_response(make_problem(problem_code::not_writer));
    auto view = co_await load_view(*env, *id);
    if (!view) co_return to_response(view.error());
    if (!*view) co_return to_response(make_problem(problem_code::tenant_not_found));
    const auto& state = (*view)->state;
    if (state.status == domain::tenant_status::deactivated)
      co_return to_response(make_problem(problem_code::tenant_deactivated));
    if (state.status == domain::tenant_status::suspended)
      co_return to_response(make_problem(problem_code::tenant_suspended));
    if (*if_match && !(*if_match)->matches(state.version.value))
      co_return to_response(precondition_failed(state.version.value));
    count_call(*env, *id);

    const domain::user_id user(who->sub);
    auto& store = env->svc.store;
    // Switching to the current tenant changes nothing: no event, as for every no-op command.
    // Decided from the memberships once they have folded the log up to its head as of now
    // (the user's last switch or create is at or before it); X-Event-Position is that head,
    // so a query with it as X-Min-Position reads the same memberships. If the memberships do
    // not reach it within --min-position-wait, the switch is appended: never wrong, only
    // redundant.
    if (const auto head = store.head(); head > 0) {
      const auto deadline = std::chrono::steady_clock::now() + env->svc.cfg.min_position_wait;
      // The co_await stays out of the && (CONTRIBUTING.md: with it in the &&, GCC 12's code
      // took a real switch for a no-op in about half of the loaded test runs).
      const bool reached = co_await async_wait_position(env->svc.model, head, deadline);
      if (reached && env->svc.model.current_tenant(user) == *id) {
        auto res = raw_json(http::status::ok, "{\"success\":true}");
        res.set("X-Event-Position", std::to_string(head));
        co_return res;
      }
    }
    const domain::event e{domain::user_switched_tenant{user, *id}, env->now()};
    std::string event_id;
    if (const auto* seed = ctx.get<idempotency_seed>())
      event_id = domain::uuid::derived(seed->value + "/0").to_string();
    else
      event_id = new_tenant_id(ctx, env->now()).str().substr(3);  // a fresh UUID v7
    eventstore::append_request req;
    req.stream_id = domain::user_stream_id(user);
    req.tenant_id = id->str();
    req.expected = eventstore::expected_version::any();
    req.events.push_back(eventstore::codec::to_proposed(e, std::move(event_id)));
    req.metadata.actor = who->sub;
    req.metadata.correlation_id = ctx.request_id();
    auto start = [&](eventstore::append_handler done) {
      store.append(std::move(req), std::move(done));
    };
    auto out = co_await await_callback<eventstore::append_outcome>(start);
    if (!out) co_return to_response(to_problem(out.error()));
    if (out->replayed) ctx.emplace<replayed_events>();
    auto res = raw_json(http::status::ok, "{\"success\":true}");
    res.set("X-Event-Position", std::to_string(out->last_position));
    co_return res;
  };
}

namespace {

// ---- queries ----

// ?as_of_version=N / ?as_of=<RFC 3339>: which past state, if any.
struct as_of {
  std::optional<std::uint64_t> version;
  std::optional<domain::clock_time> time;
};
boost::system::result<as_of, problem> parse_as_of(const request_context& ctx) {
  as_of a;
  domain::field_errors errors;
  if (auto v = ctx.query("as_of_version"); v && !v->empty())
    a.version = parse_positive_integer(*v, "as_of_version", errors);
  if (auto t = ctx.query("as_of"); t && !t->empty()) {
    a.time = domain::parse_time(*t);
    if (!a.time)
      errors["as_of"].push_back(
          "The as of must be an RFC 3339 date-time such as "
          "2026-01-15T09:30:00Z.");
  }
  if (a.version && a.time)
    errors["as_of"].push_back("The as of field cannot be combined with as of version.");
  if (!errors.empty()) return validation_problem(std::move(errors));
  return a;
}

handler get_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    auto when = parse_as_of(ctx);
    if (!when) co_return to_response(when.error());
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    count_call(*env, *id);
    if (when->version || when->time) {
      auto& store = env->svc.store;
      const auto& tid = *id;
      const auto& w = *when;
      auto past = co_await run_blocking(env->svc.blocking, [&store, &tid, &w] {
        return w.version ? projections::view_at_version(store, tid, *w.version)
                         : projections::view_at_time(store, tid, *w.time);
      });
      if (!past) {
        spdlog::error("time travel of {} failed: {}", id->str(), past.error().message());
        co_return to_response(make_problem(problem_code::unavailable));
      }
      if (!*past)
        co_return to_response(
            make_problem(problem_code::tenant_not_found, "The tenant did not exist then."));
      auto res = raw_json(http::status::ok, tenant_resource((*past)->state));
      set_version_headers(res, (*past)->state.version.value, std::nullopt);
      co_return res;
    }
    auto view = co_await load_view(*env, *id);
    if (!view) co_return to_response(view.error());
    if (!*view) co_return to_response(make_problem(problem_code::tenant_not_found));
    auto res = raw_json(http::status::ok, rendered(**view, resource_renderer));
    set_version_headers(res, (*view)->state.version.value, std::nullopt);
    co_return res;
  };
}

handler usage_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    auto view = co_await load_view(*env, *id);  // caught up with the tenant's stream
    if (!view) co_return to_response(view.error());
    if (!*view) co_return to_response(make_problem(problem_code::tenant_not_found));
    // After the view is caught up: right after a create the index may not hold the tenant yet.
    count_call(*env, *id);
    auto& model = env->svc.model;
    const auto& tid = *id;
    auto usage =
        co_await run_blocking(env->svc.blocking, [&model, &tid] { return model.usage(tid); });
    if (!usage) {
      spdlog::error("usage of {} failed: {}", id->str(), usage.error().message());
      co_return to_response(make_problem(problem_code::unavailable));
    }
    if (!*usage) co_return to_response(make_problem(problem_code::tenant_not_found));
    co_return raw_json(http::status::ok, usage_resource(**usage));
  };
}

handler events_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    const auto params = ctx.query_params();
    auto page = parse_page_request(params);
    if (!page) co_return to_response(page.error());
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    count_call(*env, *id);
    auto& store = env->svc.store;
    struct read_out {
      eventstore::result<eventstore::stream_head> head;
      eventstore::result<std::vector<eventstore::recorded_event>> events;
    };
    const auto& tid = *id;
    const auto p = *page;
    auto out = co_await run_blocking(env->svc.blocking, [&store, &tid, p] {
      read_out r{store.read_stream_head(tid.str()), std::vector<eventstore::recorded_event>{}};
      if (r.head && r.head->version > p.offset())
        r.events = store.read_stream(tid.str(), p.offset() + 1, p.per_page);
      return r;
    });
    if (!out.head || !out.events) {
      spdlog::error("reading the events of {} failed", id->str());
      co_return to_response(make_problem(problem_code::unavailable));
    }
    if (out.head->version == 0) co_return to_response(make_problem(problem_code::tenant_not_found));
    std::string body;
    std::size_t bytes = 128;
    for (const auto& e : *out.events)
      bytes += e.envelope_json.size() + 1;
    body.reserve(bytes);
    body += "{\"data\":[";
    bool first = true;
    for (const auto& e : *out.events) {
      if (!first) body += ',';
      first = false;
      body += e.envelope_json;  // stored envelopes are JSON objects already
    }
    body += "],";
    append_page_links_meta(
        body, *page, out.head->version, out.events->size(),
        ctx.base_url() + std::string(prefix) + "/tenants/" + id->str() + "/events", params);
    body += '}';
    co_return raw_json(http::status::ok, std::move(body));
  };
}

route_info info(http::verb method, std::string pattern, std::string name, route_kind kind) {
  route_info r;
  r.method = method;
  r.pattern = std::string(prefix) + std::move(pattern);
  r.name = std::move(name);
  r.kind = kind;
  return r;
}

}  // namespace

void add_tenant_api_routes(router& r, const env_ptr& env) {
  using v = http::verb;
  const auto cmd = route_kind::command;
  const auto qry = route_kind::query;
  r.add(info(v::post, "/tenants", "createTenant", cmd), create_route(env));
  r.add(info(v::get, "/tenants", "listTenants", qry),
        list_route(env, std::string(prefix), resource_renderer));
  r.add(info(v::get, "/tenants/count", "countTenants", qry), count_route(env));
  r.add(info(v::get, "/tenants/{id}", "getTenant", qry), get_route(env));
  r.add(info(v::put, "/tenants/{id}", "updateTenant", cmd),
        command_route(env, build_update, render_resource));
  r.add(info(v::delete_, "/tenants/{id}", "deleteTenant", cmd),
        command_route(env, build_deactivate, render_resource));
  r.add(info(v::put, "/tenants/{id}/deactivate", "deactivateTenant", cmd),
        command_route(env, build_deactivate, render_resource));
  r.add(info(v::put, "/tenants/{id}/activate", "activateTenant", cmd),
        command_route(env, build_reactivate, render_resource));
  r.add(info(v::put, "/tenants/{id}/switch", "switchTenant", cmd), switch_route(env));
  r.add(info(v::post, "/tenants/{id}/suspend", "suspendTenant", cmd),
        command_route(env, build_suspend, render_resource));
  r.add(info(v::post, "/tenants/{id}/reactivate", "reactivateTenant", cmd),
        command_route(env, build_reactivate, render_resource));
  r.add(info(v::put, "/tenants/{id}/plan", "changePlan", cmd),
        command_route(env, build_plan, render_resource));
  r.add(info(v::post, "/tenants/{id}/payments", "recordPayment", cmd),
        command_route(env, build_payment, render_resource));
  r.add(info(v::post, "/tenants/{id}/subscription/cancel", "cancelSubscription", cmd),
        command_route(env, build_cancel, render_resource));
  r.add(info(v::get, "/tenants/{id}/usage", "getTenantUsage", qry), usage_route(env));
  r.add(info(v::get, "/tenants/{id}/events", "listTenantEvents", qry), events_route(env));
}

namespace {

// Waits for the projections to reach the X-Min-Position the query carries, then runs it.
net::awaitable<response> after_min_position(const env_ptr& env, request_context& ctx,
                                            next_handler next, std::string_view header) {
  std::uint64_t n = 0;
  bool ok = header.size() <= 19;
  for (char c : header) {
    if (c < '0' || c > '9') ok = false;
    if (ok) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!ok) {
    co_return to_response(make_problem(problem_code::bad_request,
                                       "X-Min-Position must be a position (a decimal integer)."));
  }
  const auto deadline = std::chrono::steady_clock::now() + env->svc.cfg.min_position_wait;
  if (!co_await async_wait_position(env->svc.model, n, deadline)) {
    auto p =
        make_problem(problem_code::unavailable,
                     "The projections have not reached position " + std::to_string(n) +
                         " yet (at " + std::to_string(env->svc.model.position()) + "); retry.");
    p.headers.emplace_back("Retry-After", "1");
    co_return to_response(p);
  }
  co_return co_await next(ctx);
}

}  // namespace

// A request without the header is passed on from a plain function: no coroutine frame of this
// middleware's own.
middleware make_min_position_middleware(env_ptr env) {
  return
      [env = std::move(env)](request_context& ctx, next_handler next) -> net::awaitable<response> {
        const auto* route = ctx.route();
        if (route == nullptr || route->kind != route_kind::query) return next(ctx);
        const auto header = ctx.header("X-Min-Position");
        if (header.empty()) return next(ctx);
        return after_min_position(env, ctx, next, header);
      };
}

}  // namespace detail

void add_tenant_routes(router& r, const tenant_services& services) {
  auto env = std::make_shared<const detail::route_env>(detail::route_env{services});
  r.use(detail::make_min_position_middleware(env));
  r.use(make_idempotency_middleware(
      services.store, services.blocking,
      [](const request_context& ctx) { return std::string(detail::caller_sub(ctx)); },
      services.clock));
  detail::add_tenant_api_routes(r, env);
  detail::add_tms_routes(r, env);
}

}  // namespace tenant::api
