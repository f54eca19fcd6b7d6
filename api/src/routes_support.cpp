#include "routes_support.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstring>
#include <random>

#include "tenant/api/auth.hpp"
#include "tenant/api/tenant_json.hpp"
#include "tenant/projections/time_travel.hpp"

namespace tenant::api::detail {

namespace net = boost::asio;

domain::clock_time route_env::now() const {
  if (svc.clock) return svc.clock();
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// ---- the caller ----

boost::system::result<caller, problem> resolve_caller(const request_context& ctx,
                                                      const route_env& env) {
  if (const auto* p = ctx.get<principal>()) return caller{p->sub.str(), p, p->is_admin()};
  if (env.svc.auth_required) return unauthenticated();
  return caller{"anonymous", nullptr, true};
}

std::string_view caller_sub(const request_context& ctx) {
  if (const auto* p = ctx.get<principal>()) return p->sub.str();
  return "anonymous";
}

std::optional<std::vector<domain::tenant_id>> visible_to(const caller& c,
                                                         const projections::read_model& model) {
  if (c.who == nullptr) return std::nullopt;
  return visible_tenants(*c.who, model);
}

// ---- request pieces ----

std::optional<domain::tenant_id> path_tenant(const request_context& ctx) {
  return domain::tenant_id::parse(ctx.path_param("id"));
}

domain::tenant_id new_tenant_id(const request_context& ctx, domain::clock_time now) {
  if (const auto* seed = ctx.get<idempotency_seed>())
    return domain::tenant_id::from_uuid(domain::uuid::derived("tenant/" + seed->value));
  std::array<std::uint8_t, 10> random{};
  // Tenant ids should not be guessable: the OS's CSPRNG through OpenSSL, drawn 4 KiB at a time
  // per thread (one RAND_bytes call cost ~7 000 instructions, 2% of a create, whatever its
  // length). A failing RNG (never seen in practice) falls back to a seeded Mersenne Twister
  // rather than failing the request.
  thread_local std::array<std::uint8_t, 4096> pool{};
  thread_local std::size_t used = pool.size();
  if (used + random.size() > pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      for (auto& b : pool)
        b = static_cast<std::uint8_t>(rng());
    }
    used = 0;
  }
  std::memcpy(random.data(), pool.data() + used, random.size());
  used += random.size();
  return domain::tenant_id::from_uuid(domain::uuid::v7(now, random));
}

bool if_match::matches(std::uint64_t version) const {
  return std::find(versions.begin(), versions.end(), version) != versions.end();
}

std::uint64_t if_match::expected(std::uint64_t current) const {
  if (versions.empty()) return never;
  return matches(current) ? current : versions.front();
}

namespace {

// etagc (RFC 9110 §8.8.3): %x21 / %x23-7E / obs-text.
bool etag_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u != 0x7F);
}

// The version an opaque tag's contents spell as the ETag writes it: decimal, no sign, no
// leading zero. Strong comparison is character by character, so "007" is not "7".
std::optional<std::uint64_t> tag_version(std::string_view t) {
  if (t.empty() || (t.size() > 1 && t.front() == '0')) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || end != t.data() + t.size()) return std::nullopt;
  return v;
}

bool ows(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

boost::system::result<std::optional<if_match>, problem> parse_if_match(const request_context& ctx) {
  const auto it = ctx.req().find(http::field::if_match);
  if (it == ctx.req().end()) return std::optional<if_match>();
  const std::string_view v = it->value();
  const auto bad = [] {
    return make_problem(problem_code::bad_request,
                        "If-Match must be * or a list of entity tags such as \"3\" (the "
                        "tenant's version, as its ETag shows it).");
  };
  std::size_t i = 0;
  const auto skip_ows = [&] {
    while (i < v.size() && ows(v[i]))
      ++i;
  };
  skip_ows();
  if (v.substr(i).starts_with('*')) {
    ++i;
    skip_ows();
    if (i != v.size()) return bad();  // "*" stands alone
    return std::optional<if_match>();
  }
  // #entity-tag: elements separated by commas; empty elements are allowed and ignored.
  if_match m;
  std::size_t tags = 0;
  while (i < v.size()) {
    if (v[i] == ',') {
      ++i;
      skip_ows();
      continue;
    }
    const bool weak = v.substr(i).starts_with("W/");
    if (weak) i += 2;
    if (i >= v.size() || v[i] != '"') return bad();
    const auto open = ++i;
    while (i < v.size() && etag_char(v[i]))
      ++i;
    if (i >= v.size() || v[i] != '"') return bad();
    const auto opaque = v.substr(open, i - open);
    ++i;
    ++tags;
    // If-Match compares strongly (§13.1.1): a weak tag never matches.
    if (auto version = tag_version(opaque); version && !weak) m.versions.push_back(*version);
    skip_ows();
    if (i < v.size() && v[i] != ',') return bad();
  }
  if (tags == 0) return bad();
  return std::optional<if_match>(std::move(m));
}

std::optional<std::uint64_t> expected_version(const route_env& env, const domain::tenant_id& id,
                                              const std::optional<if_match>& condition) {
  if (!condition) return std::nullopt;
  // The tenant's version only decides between several listed versions.
  std::uint64_t current = 0;
  if (condition->versions.size() > 1) {
    if (auto head = env.svc.store.read_stream_head(id.str())) current = head->version;
  }
  return condition->expected(current);
}

problem precondition_failed(std::uint64_t current) {
  if (current == 0) return make_problem(problem_code::tenant_not_found);
  auto p = make_problem(
      problem_code::precondition_failed,
      "If-Match does not match: the tenant is at version " + std::to_string(current) + ".");
  p.headers.emplace_back("ETag", "\"" + std::to_string(current) + "\"");
  return p;
}

std::optional<problem> precondition_on_create(const request_context& ctx) {
  auto condition = parse_if_match(ctx);
  if (!condition) return condition.error();
  if (ctx.req().find(http::field::if_match) == ctx.req().end()) return std::nullopt;
  // RFC 9110 §13.1.1: If-Match, `*` included, is false when there is no current representation.
  return make_problem(problem_code::precondition_failed, "A new tenant has no version to match.");
}

bool has_body(const request_context& ctx) {
  for (char c : ctx.req().body()) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return true;
  }
  return false;
}

// ---- awaitables ----

net::awaitable<bool> async_wait_position(projections::read_model& model, std::uint64_t position,
                                         std::chrono::steady_clock::time_point deadline) {
  if (model.position() >= position) co_return true;
  auto start = [&model, position, deadline](std::function<void(bool)> done) {
    model.wait_for_position(position, deadline, std::move(done));
  };
  co_return co_await await_callback<bool>(start);
}

// ---- commands ----

namespace {

bool sane_traceparent(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  for (char c : t) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  }
  return true;
}

problem to_problem(const eventstore::execute_error& e, const domain::tenant_id& id) {
  using kind = eventstore::execute_error::kind;
  switch (e.k) {
    case kind::domain:
      return api::to_problem(e.domain_error);
    case kind::precondition_failed:
      return precondition_failed(e.current_version);
    case kind::store:
      break;
  }
  if (e.store_error == eventstore::errc::duplicate_event_id) {
    // The Idempotency-Key's events exist on another tenant's stream: the key was used before
    // for another request whose record is gone (expired, or lost in a crash).
    return make_problem(problem_code::idempotency_key_reused);
  }
  auto p = api::to_problem(e.store_error);
  if (p.code == problem_code::internal) {
    spdlog::error("command on {} failed: {} ({})", id.str(), e.store_error.message(), e.detail);
  }
  return p;
}

}  // namespace

net::awaitable<boost::system::result<eventstore::execute_success, problem>> run_command(
    request_context& ctx, const route_env& env, const caller& who, const domain::tenant_id& id,
    domain::command& cmd, std::optional<std::uint64_t> expected) {
  ctx.set_log_tenant(id.str());
  if (env.svc.repo == nullptr) co_return make_problem(problem_code::not_writer);
  eventstore::execute_options o;
  o.expected_version = expected;
  o.metadata.actor = who.sub;
  o.metadata.correlation_id = ctx.request_id();
  if (auto tp = ctx.header("traceparent"); sane_traceparent(tp))
    o.metadata.traceparent = std::string(tp);
  if (const auto* seed = ctx.get<idempotency_seed>()) o.event_id_seed = seed->value;
  auto& repo = *env.svc.repo;
  auto start = [&](std::function<void(eventstore::execute_outcome)> done) {
    repo.execute(id, std::move(cmd), std::move(o), std::move(done));
  };
  auto out = co_await await_callback<eventstore::execute_outcome>(start);
  if (!out) co_return to_problem(out.error(), id);
  if (out->append && out->append->replayed) ctx.emplace<replayed_events>();
  co_return std::move(*out);
}

void set_version_headers(response& res, std::uint64_t version, std::optional<std::uint64_t> pos) {
  res.set(http::field::etag, "\"" + std::to_string(version) + "\"");
  if (pos) res.set("X-Event-Position", std::to_string(*pos));
}

response raw_json(http::status status, std::string body) {
  response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// ---- reads ----

namespace {

// The view from the cache or RocksDB's memory, else from disk on the blocking pool.
net::awaitable<boost::system::result<projections::tenant_view_ptr, problem>> lookup(
    const route_env& env, const domain::tenant_id& id) {
  auto quick = env.svc.model.try_find(id);
  switch (quick.status) {
    case projections::lookup_status::found:
      co_return std::move(quick.view);
    case projections::lookup_status::not_found:
      co_return projections::tenant_view_ptr{};
    case projections::lookup_status::would_block:
      break;
  }
  auto& model = env.svc.model;
  auto slow = co_await run_blocking(env.svc.blocking, [&model, &id] { return model.find(id); });
  if (!slow) {
    spdlog::error("reading tenant {} failed: {}", id.str(), slow.error().message());
    co_return make_problem(problem_code::unavailable, "The tenant could not be read; retry.");
  }
  co_return std::move(*slow);
}

}  // namespace

net::awaitable<boost::system::result<projections::tenant_view_ptr, problem>> load_view(
    const route_env& env, const domain::tenant_id& id) {
  // The stream head is served from memory by the stores: cheap enough for every read.
  std::uint64_t want = 0;
  std::uint64_t version = 0;
  if (auto head = env.svc.store.read_stream_head(id.str())) {
    want = head->last_position;
    version = head->version;
  }
  auto view = co_await lookup(env, id);
  if (!view) co_return view;
  auto behind = [want](const projections::tenant_view_ptr& v) {
    return v ? v->last_position < want : want > 0;
  };
  // A replica's projections trail its mirrored log by design: no implicit waits there.
  if (!behind(*view) || env.svc.repo == nullptr) co_return view;
  const auto deadline = std::chrono::steady_clock::now() + env.svc.cfg.min_position_wait;
  co_await async_wait_position(env.svc.model, want, deadline);
  auto again = co_await lookup(env, id);
  if (!again || !behind(*again)) co_return again;
  // The projection did not catch up in time (stuck: e.g. its disk is full): fold the tenant's
  // own stream from the log instead, so an acknowledged tenant never reads as missing or stale.
  auto& store = env.svc.store;
  auto folded = co_await run_blocking(env.svc.blocking, [&store, &id, version] {
    return projections::view_at_version(store, id, version);
  });
  if (!folded || !*folded) {
    spdlog::warn("tenant {}: projection behind the log and the stream fold failed", id.str());
    co_return make_problem(problem_code::unavailable, "The tenant could not be read; retry.");
  }
  co_return projections::tenant_view_ptr(
      std::make_shared<const projections::tenant_view>(std::move(**folded)));
}

net::awaitable<void> catch_up(const route_env& env) {
  const std::uint64_t head = env.svc.store.head();
  if (env.svc.model.position() >= head || env.svc.repo == nullptr) co_return;
  const auto deadline = std::chrono::steady_clock::now() + env.svc.cfg.min_position_wait;
  co_await async_wait_position(env.svc.model, head, deadline);
}

}  // namespace tenant::api::detail

namespace tenant::api::detail {

// ---- bodies ----

boost::system::result<std::optional<json_reader>, problem> optional_body(
    const request_context& ctx) {
  if (!has_body(ctx)) return std::optional<json_reader>();
  auto body = parse_json_body(ctx.req());
  if (!body) return body.error();
  return std::optional<json_reader>(std::move(*body));
}

namespace {

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> bounded_string(json_reader& body, std::string_view key,
                                          std::size_t max) {
  auto v = body.string(key);
  if (!v) return std::nullopt;
  auto t = trim_ascii(*v);
  if (t.empty()) return std::nullopt;
  if (code_points(t) > max) {
    body.add_error(key, "The " + field_label(key) + " may not be greater than " +
                            std::to_string(max) + " characters.");
    return std::nullopt;
  }
  return std::string(t);
}

namespace {

constexpr std::string_view user_status_invalid = "The selected user status is invalid.";

domain::user_status user_status_from(std::int64_t v) {
  switch (v) {
    case 0:
      return domain::user_status::passive;
    case 1:
      return domain::user_status::active;
    default:
      return domain::user_status::banned;
  }
}

std::optional<domain::user_status> parse_user_status_query(const request_context& ctx,
                                                           domain::field_errors& errors) {
  auto q = ctx.query("user_status");
  if (!q || q->empty()) return std::nullopt;
  if (q->size() == 1 && (*q)[0] >= '0' && (*q)[0] <= '2') return user_status_from((*q)[0] - '0');
  errors["user_status"].emplace_back(user_status_invalid);
  return std::nullopt;
}

}  // namespace

boost::system::result<status_args, problem> read_status_args(const request_context& ctx,
                                                             bool with_reason) {
  status_args a;
  domain::field_errors errors;
  a.users = parse_user_status_query(ctx, errors);
  auto body = optional_body(ctx);
  if (!body) return body.error();
  if (*body) {
    auto& b = **body;
    if (b.has("user_status")) {
      errors.erase("user_status");
      const auto v = b.integer("user_status", {.min = 0, .max = 2, .outside = user_status_invalid});
      a.users = v ? std::optional(user_status_from(*v)) : std::nullopt;
    }
    if (with_reason) a.reason = bounded_string(b, "reason", reason_max_length).value_or("");
    for (auto& [k, msgs] : b.take_errors())
      for (auto& m : msgs)
        errors[k].push_back(std::move(m));
  }
  if (!errors.empty()) return validation_problem(std::move(errors));
  return a;
}

// ---- commands ----

handler command_route(env_ptr env, command_builder build, command_renderer render) {
  return [env = std::move(env), build = std::move(build),
          render = std::move(render)](request_context& ctx) -> net::awaitable<response> {
    auto who = resolve_caller(ctx, *env);
    if (!who) co_return to_response(who.error());
    const auto id = path_tenant(ctx);
    if (!id) co_return to_response(make_problem(problem_code::tenant_not_found));
    auto if_match = parse_if_match(ctx);
    if (!if_match) co_return to_response(if_match.error());
    auto cmd = build(ctx, *env, *id);
    if (!cmd) co_return to_response(cmd.error());
    count_call(*env, *id);
    auto out =
        co_await run_command(ctx, *env, *who, *id, *cmd, expected_version(*env, *id, *if_match));
    if (!out) co_return to_response(out.error());
    co_return render(ctx, *out);
  };
}

response resource_response(http::status status, const eventstore::execute_success& s) {
  auto res = raw_json(status, tenant_resource(s.state()));
  set_version_headers(res, s.state().version.value, s.position);
  return res;
}

void count_call(const route_env& env, const domain::tenant_id& id) {
  // Only tenants that exist: made-up ids must not grow the counters.
  if (env.svc.model.exists(id)) env.svc.model.record_api_call(id);
}

}  // namespace tenant::api::detail
