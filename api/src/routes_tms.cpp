// The TMS-compatible API (seed 001) under /v1 and, deprecated, /v0.1: the same commands and
// projections as /api/v1, with seed 001's paths and bodies exactly.
#include <spdlog/spdlog.h>

#include "routes_support.hpp"
#include "tenant/api/tenant_json.hpp"

namespace tenant::api::detail {

namespace net = boost::asio;

namespace {

constexpr int max_update_attempts = 3;

// Seed 001's body fields, and nothing else: a TMS body carries no plan, admin e-mail, domain or
// settings (plan defaults to starter; an update keeps what the tenant has).
boost::system::result<domain::raw_profile, problem> read_tms_fields(const request_context& ctx) {
  auto body = parse_json_body(ctx.req());
  if (!body) return body.error();
  domain::raw_profile raw;
  raw.name = body->string("name");
  raw.country_code = body->string("country_code");
  raw.city = body->string("city");
  raw.address = body->string("address");
  raw.post_code = body->string("post_code");
  raw.description = body->string("description");
  raw.type_errors = body->take_errors();
  return raw;
}

domain::validation_rules tms_rules(const route_env& env, domain::plan_tier plan) {
  domain::validation_rules r;
  r.require_plan = false;
  r.require_admin_email = false;
  r.default_plan = plan;
  r.limits = env.svc.cfg.plan_limits;
  return r;
}

std::string data_body(const domain::tenant_state& s) {
  std::string out = "{\"data\":";
  append_tms_tenant(out, s, false);
  out += '}';
  return out;
}

response data_response(const eventstore::execute_success& s) {
  auto res = raw_json(http::status::ok, data_body(s.state()));
  set_version_headers(res, s.state().version.value, s.position);
  return res;
}

handler create_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    auto raw = read_tms_fields(ctx);
    if (!raw) co_return to_response(raw.error());
    auto v = domain::validate_profile(*raw, tms_rules(*env, domain::plan_tier::starter));
    if (!v.value) co_return to_response(to_problem(domain::to_error(v)));
    if (auto refused = precondition_on_create(ctx)) co_return to_response(*refused);
    const auto id = new_tenant_id(ctx, env->now());
    domain::command create =
        domain::create_tenant{id, std::move(*v.value), domain::user_id(who->sub)};
    auto out = co_await run_command(ctx, *env, *who, id, create, std::nullopt);
    if (!out) co_return to_response(out.error());
    co_return data_response(*out);  // seed 001: 200, not 201
  };
}

// PUT /tenants/{id}: seed 001's fields replace their counterparts; every other field (admin
// e-mail, domain, settings, group, plan) is copied from the current state, since the whole
// profile is what update_tenant replaces. The copy is only valid for the version it was read
// at, so the command runs with that version expected and is rebuilt when it moved meanwhile.
handler update_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    auto if_match = parse_if_match(ctx);
    if (!if_match) co_return to_response(if_match.error());
    auto fields = read_tms_fields(ctx);
    if (!fields) co_return to_response(fields.error());
    if (env->svc.repo == nullptr) co_return to_response(make_problem(problem_code::not_writer));
    count_call(*env, *id);
    auto& repo = *env->svc.repo;
    for (int attempt = 1;; ++attempt) {
      const auto& tid = *id;
      auto current =
          co_await run_blocking(env->svc.blocking, [&repo, &tid] { return repo.load(tid); });
      if (!current) co_return to_response(to_problem(current.error()));
      if (current->version == 0)
        co_return to_response(make_problem(problem_code::tenant_not_found));
      const auto& state = current->state;
      const auto& p = state.profile;
      domain::raw_profile raw = *fields;
      raw.admin_email = p.admin_email;
      raw.domain = p.domain;
      raw.timezone = p.settings.timezone;
      raw.locale = p.settings.locale;
      if (p.settings.max_seats) raw.max_seats = *p.settings.max_seats;
      raw.group_id = p.group_id;
      raw.group_name = p.group_name;
      auto v = domain::validate_profile(raw, tms_rules(*env, state.current_plan()));
      if (!v.value) co_return to_response(to_problem(domain::to_error(v)));
      const bool caller_precondition = if_match->has_value();
      const std::uint64_t expected =
          caller_precondition ? (*if_match)->expected(current->version) : current->version;
      domain::command update =
          domain::update_tenant{std::move(*v.value), false, env->svc.model.seats_in_use(*id)};
      auto out = co_await run_command(ctx, *env, *who, *id, update, expected);
      if (!out && out.error().code == problem_code::precondition_failed && !caller_precondition &&
          attempt < max_update_attempts)
        continue;  // changed between our read and the append: copy the fields again
      if (!out) co_return to_response(out.error());
      co_return data_response(*out);
    }
  };
}

response render_trashed(request_context&, const eventstore::execute_success& s) {
  auto res = raw_json(http::status::ok,
                      s.state().is_trashed() ? "{\"is_trashed\":true}" : "{\"is_trashed\":false}");
  set_version_headers(res, s.state().version.value, s.position);
  return res;
}

boost::system::result<domain::command, problem> build_deactivate(request_context& ctx,
                                                                 const route_env&,
                                                                 const domain::tenant_id&) {
  auto a = read_status_args(ctx, false);
  if (!a) return a.error();
  return domain::command{domain::deactivate_tenant{a->users, {}}};
}

boost::system::result<domain::command, problem> build_activate(request_context& ctx,
                                                               const route_env&,
                                                               const domain::tenant_id&) {
  auto a = read_status_args(ctx, false);
  if (!a) return a.error();
  return domain::command{domain::reactivate_tenant{a->users}};
}

handler get_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    count_call(*env, *id);
    auto view = co_await load_view(*env, *id);
    if (!view) co_return to_response(view.error());
    if (!*view) co_return to_response(make_problem(problem_code::tenant_not_found));
    auto res = raw_json(http::status::ok, data_body((*view)->state));
    set_version_headers(res, (*view)->state.version.value, std::nullopt);
    co_return res;
  };
}

// /v0.1: the same answers plus the deprecation headers, errors included.
handler deprecated(handler h) {
  return [h = std::move(h)](request_context& ctx) -> net::awaitable<response> {
    auto res = co_await h(ctx);
    res.set("Deprecation", tms_v01_deprecation);
    res.set("Sunset", tms_v01_sunset);
    std::string_view path = ctx.path();
    path.remove_prefix(std::min(path.size(), std::string_view("/v0.1").size()));
    res.set(http::field::link,
            "<" + ctx.base_url() + "/v1" + std::string(path) + ">; rel=\"successor-version\"");
    co_return res;
  };
}

}  // namespace

void add_tms_routes(router& r, const env_ptr& env) {
  using v = http::verb;
  struct version {
    std::string_view prefix;
    std::string_view name_prefix;
    bool deprecated;
  };
  for (const auto ver : {version{"/v1", "tms", false}, version{"/v0.1", "tmsV01", true}}) {
    const auto add = [&](v method, std::string_view pattern, std::string_view name, route_kind kind,
                         handler h) {
      route_info i;
      i.method = method;
      i.pattern = std::string(ver.prefix) + std::string(pattern);
      i.name = std::string(ver.name_prefix) + std::string(name);
      i.kind = kind;
      i.tags = {"tms"};
      if (ver.deprecated) i.tags.emplace_back("deprecated");
      r.add(std::move(i), ver.deprecated ? deprecated(std::move(h)) : std::move(h));
    };
    const std::string prefix(ver.prefix);
    add(v::get, "/tenants", "ListTenants", route_kind::query,
        list_route(env, prefix, tms_item_renderer));
    add(v::get, "/tenants/count", "CountTenants", route_kind::query, count_route(env));
    add(v::post, "/tenants", "CreateTenant", route_kind::command, create_route(env));
    add(v::get, "/tenants/{id}", "GetTenant", route_kind::query, get_route(env));
    add(v::put, "/tenants/{id}", "UpdateTenant", route_kind::command, update_route(env));
    add(v::put, "/tenants/{id}/deactivate", "DeactivateTenant", route_kind::command,
        command_route(env, build_deactivate, render_trashed));
    add(v::put, "/tenants/{id}/activate", "ActivateTenant", route_kind::command,
        command_route(env, build_activate, render_trashed));
    add(v::put, "/tenants/{id}/switch", "SwitchTenant", route_kind::command, switch_route(env));
  }
}

}  // namespace tenant::api::detail
