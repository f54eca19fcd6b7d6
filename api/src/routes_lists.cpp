// Lists and counts of tenants, shared by /api/v1, /v1 and /v0.1 (DESIGN.md "HTTP", Lists).
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "routes_support.hpp"
#include "tenant/api/pagination.hpp"
#include "tenant/api/tenant_json.hpp"
#include "tenant/projections/search_text.hpp"

namespace tenant::api::detail {

namespace net = boost::asio;

boost::system::result<projections::list_query, problem> parse_list_query(
    const request_context& ctx) {
  const auto params = ctx.query_params();
  projections::list_query q;
  domain::field_errors errors;
  auto page = parse_page_request(params);
  if (!page) {
    errors = std::move(page.error().errors);
  } else {
    q.page = page->page;
    q.per_page = page->per_page;
  }
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;  // an empty filter is no filter (Laravel: empty -> null)
    if ((k == "name" || k == "description") && !simdjson::validate_utf8(v.data(), v.size())) {
      // Folded, bytes that are not UTF-8 leave no word: the filter would match every tenant.
      errors[k].push_back("The " + k + " must be valid UTF-8 text.");
      continue;
    }
    if (k == "name") {
      q.name = v;
    } else if (k == "description") {
      // A word is a run of letters, digits, kana or ideographs (UAX #29, as the index cuts the
      // descriptions). A query of spaces alone is no filter, as an empty one is (Laravel trims
      // and turns an empty string into null); one with other characters but no word (`!!!`, an
      // emoji) could only be dropped, answering every tenant as if it matched: refused.
      if (projections::fold_words(v).empty()) {
        if (v.find_first_not_of(" \t\r\n\f\v") != std::string_view::npos)
          errors[k].push_back(
              "The description must contain a letter or a digit (it is searched "
              "for as words and word prefixes).");
        continue;
      }
      q.description = v;
    } else if (k == "status") {
      auto s = domain::parse_tenant_status(v);
      if (!s || *s == domain::tenant_status::none)
        errors["status"].push_back("The selected status is invalid.");
      else
        q.status = *s;
    } else if (k == "plan") {
      auto p = domain::parse_plan(v);
      if (!p)
        errors["plan"].push_back("The selected plan is invalid.");
      else
        q.plan = *p;
    }
  }
  if (!errors.empty()) return validation_problem(std::move(errors));
  return q;
}

handler list_route(env_ptr env, std::string prefix, view_renderer item) {
  return [env = std::move(env), prefix = std::move(prefix),
          item](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    auto q = parse_list_query(ctx);
    if (!q) co_return to_response(q.error());
    co_await catch_up(*env);
    // After catching up: the caller's memberships include what it created just before.
    q->visible = visible_to(*who, env->svc.model);
    auto& model = env->svc.model;
    const auto& query = *q;
    // The index and the views of recently used tenants are in memory: serve the page on this
    // thread, and hop to the blocking pool only when a view would need a read from disk (the
    // hop, two thread switches, cost more than the page itself).
    std::optional<projections::result<projections::view_page>> page;
    if (auto in_memory = model.try_list(query)) page.emplace(std::move(*in_memory));
    if (!page)
      page =
          co_await run_blocking(env->svc.blocking, [&model, &query] { return model.list(query); });
    if (!*page) {
      spdlog::error("listing tenants failed: {}", page->error().message());
      co_return to_response(
          make_problem(problem_code::unavailable, "The tenants could not be read; retry."));
    }
    std::string body;
    body.reserve(64 + (*page)->items.size() * 768);
    body += "{\"data\":[";
    bool first = true;
    const auto& items = (*page)->items;
    for (const auto& v : items) {
      if (!first) body += ',';
      first = false;
      body += rendered(*v, item);
    }
    body += "],";
    const auto params = ctx.query_params();
    const auto request = parse_page_request(params);  // valid: checked above
    append_page_links_meta(body, request ? *request : page_request{}, (*page)->total, items.size(),
                           ctx.base_url() + prefix + "/tenants", params);
    body += '}';
    co_return raw_json(http::status::ok, std::move(body));
  };
}

handler count_route(env_ptr env) {
  return [env = std::move(env)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    auto q = parse_list_query(ctx);
    if (!q) co_return to_response(q.error());
    co_await catch_up(*env);
    q->visible = visible_to(*who, env->svc.model);
    const auto n = env->svc.model.count(*q);  // the in-memory index: non-blocking
    co_return raw_json(http::status::ok, "{\"count\":" + std::to_string(n) + "}");
  };
}

}  // namespace tenant::api::detail
