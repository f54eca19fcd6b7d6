#include "tenant/api/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <exception>
#include <stdexcept>

#include "tenant/api/problem.hpp"

namespace tenant::api {

namespace {

struct segment {
  std::string literal;  ///< when !is_param
  std::string param;    ///< parameter name when is_param
  bool is_param = false;
};

std::vector<segment> parse_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  std::vector<segment> out;
  if (pattern == "/") return out;
  std::string_view rest = pattern.substr(1);
  for (;;) {
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    if (part.empty())
      throw std::invalid_argument("empty segment in route pattern: " + std::string(pattern));
    segment s;
    if (part.front() == '{') {
      if (part.size() < 3 || part.back() != '}' ||
          part.substr(1, part.size() - 2).find_first_of("{}/") != std::string_view::npos)
        throw std::invalid_argument("bad parameter in route pattern: " + std::string(pattern));
      s.is_param = true;
      s.param = std::string(part.substr(1, part.size() - 2));
    } else {
      if (part.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("braces inside a literal segment: " + std::string(pattern));
      s.literal = std::string(part);
    }
    out.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

// Literal segments sort before parameters at the first position where two shapes differ, so
// the first matching node is the most specific one.
bool more_specific(const std::vector<segment>& a, const std::vector<segment>& b) {
  auto n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i].is_param != b[i].is_param) return !a[i].is_param;
    if (!a[i].is_param && a[i].literal != b[i].literal) return a[i].literal < b[i].literal;
  }
  return a.size() < b.size();
}

}  // namespace

std::string pattern_shape(std::string_view pattern) {
  std::string out;
  bool in_param = false;
  for (char c : pattern) {
    if (c == '{') {
      in_param = true;
      out += "{}";
    } else if (c == '}') {
      in_param = false;
    } else if (!in_param) {
      out += c;
    }
  }
  return out;
}

struct router::impl {
  struct endpoint {
    route_info info;
    handler fn;
    std::vector<std::pair<std::size_t, std::string>> params;  // segment index -> name
  };
  struct node {
    std::vector<segment> segments;
    std::vector<endpoint*> endpoints;  // registration order
  };
  std::vector<std::unique_ptr<endpoint>> endpoints;  // registration order; stable addresses
  std::vector<std::unique_ptr<node>> nodes;          // most specific first
  std::vector<middleware> chain;

  node* node_for(const std::vector<segment>& segs) {
    for (auto& n : nodes) {
      if (n->segments.size() != segs.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < segs.size() && same; ++i) {
        same = n->segments[i].is_param == segs[i].is_param &&
               (segs[i].is_param || n->segments[i].literal == segs[i].literal);
      }
      if (same) return n.get();
    }
    return nullptr;
  }
};

router::router() : impl_(std::make_unique<impl>()) {}
router::~router() = default;

router& router::add(route_info info, handler h) {
  if (!h) throw std::invalid_argument("route without a handler: " + info.pattern);
  auto segs = parse_pattern(info.pattern);
  auto* n = impl_->node_for(segs);
  if (n == nullptr) {
    auto fresh = std::make_unique<impl::node>();
    fresh->segments = segs;
    auto pos = std::upper_bound(
        impl_->nodes.begin(), impl_->nodes.end(), fresh,
        [](const auto& a, const auto& b) { return more_specific(a->segments, b->segments); });
    n = impl_->nodes.insert(pos, std::move(fresh))->get();
  }
  for (auto* e : n->endpoints) {
    if (e->info.method == info.method) {
      throw std::invalid_argument("duplicate route: " + std::string(http::to_string(info.method)) +
                                  " " + info.pattern + " (already " + e->info.pattern + ")");
    }
  }
  auto e = std::make_unique<impl::endpoint>(impl::endpoint{std::move(info), std::move(h), {}});
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].is_param) e->params.emplace_back(i, segs[i].param);
  }
  n->endpoints.push_back(e.get());
  impl_->endpoints.push_back(std::move(e));
  return *this;
}

router& router::add(http::verb method, std::string pattern, handler h, route_kind kind,
                    std::string name) {
  route_info info;
  info.method = method;
  info.pattern = std::move(pattern);
  info.kind = kind;
  info.name = std::move(name);
  return add(std::move(info), std::move(h));
}

router& router::use(middleware m) {
  if (!m) throw std::invalid_argument("empty middleware");
  impl_->chain.push_back(std::move(m));
  return *this;
}

router::match_result router::match(http::verb method,
                                   const std::vector<std::string>& segments) const {
  match_result out;
  for (const auto& n : impl_->nodes) {
    if (n->segments.size() != segments.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& s = n->segments[i];
      ok = s.is_param ? !segments[i].empty() : s.literal == segments[i];
    }
    if (!ok) continue;
    const impl::endpoint* hit = nullptr;
    const impl::endpoint* get = nullptr;
    bool has_head = false;
    for (const auto* e : n->endpoints) {
      if (e->info.method == method) hit = e;
      if (e->info.method == http::verb::get) get = e;
      has_head = has_head || e->info.method == http::verb::head;
    }
    // HEAD is GET without the body (RFC 9110 §9.3.2): the GET route serves it, the server
    // drops the body. Not a route of its own, so routes() and the OpenAPI document list GET.
    if (hit == nullptr && method == http::verb::head) hit = get;
    if (hit != nullptr) {
      out.result = match_result::outcome::found;
      out.route = &hit->info;
      out.target = &hit->fn;
      // Parameter names are per route: two methods of one shape may name them differently.
      for (const auto& [index, name] : hit->params)
        out.params.emplace_back(name, segments[index]);
      return out;
    }
    out.result = match_result::outcome::method_not_allowed;
    for (const auto* e : n->endpoints) {
      out.allowed.push_back(e->info.method);
      if (e == get && !has_head) out.allowed.push_back(http::verb::head);
    }
    return out;
  }
  return out;
}

const route_info* router::route_for(http::verb method, std::string_view target) const {
  std::string storage;
  auto url = parse_target(target, storage);
  if (!url) return nullptr;
  std::vector<std::string> segs;
  for (auto s : url->segments())
    segs.push_back(std::string(s));
  auto m = match(method, segs);
  return m.route;
}

boost::asio::awaitable<response> next_handler::operator()(request_context& ctx) const {
  // Not a coroutine: `*this` may be a temporary (a middleware's by-value parameter it returns
  // from at once), so it is copied into run's frame, which outlives it.
  return run(*this, ctx);
}

boost::asio::awaitable<response> next_handler::run(next_handler self, request_context& ctx) {
  const auto& chain = self.router_->impl_->chain;
  if (self.index_ < chain.size())
    co_return co_await chain[self.index_](
        ctx, next_handler(self.router_, self.handler_, self.index_ + 1));
  co_return co_await (*self.handler_)(ctx);
}

boost::asio::awaitable<response> router::dispatch(request_context& ctx) const {
  std::string failure;
  try {
    if (!ctx.target_valid()) {
      co_return to_response(
          make_problem(problem_code::bad_request, "The request target is not a valid path."));
    }
    auto m = match(ctx.method(), ctx.segments());
    if (m.result == match_result::outcome::not_found) {
      co_return to_response(make_problem(problem_code::not_found));
    }
    if (m.result == match_result::outcome::method_not_allowed) {
      co_return to_response(method_not_allowed(m.allowed));
    }
    // Bodies are read as sent: a compressed one would otherwise be parsed as plain JSON.
    if (!ctx.req().body().empty()) {
      const auto coding = ctx.header(http::field::content_encoding);
      if (!coding.empty() && !boost::beast::iequals(coding, "identity")) {
        co_return to_response(
            make_problem(problem_code::unsupported_media_type,
                         "The request body's Content-Encoding '" + detail::shorten(coding) +
                             "' is not supported: send the body unencoded (identity)."));
      }
    }
    ctx.set_route(m.route);
    ctx.set_path_params(std::move(m.params));
    if (impl_->chain.empty()) co_return co_await (*m.target)(ctx);
    co_return co_await next_handler(this, m.target, 0)(ctx);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "non-standard exception";
  }
  // Handlers never throw to the client: the details go to the log, the caller gets INTERNAL.
  spdlog::error("unhandled exception in handler: request_id={} route={} method={} error={}",
                ctx.request_id(), ctx.route() ? ctx.route()->pattern : std::string("unmatched"),
                std::string(http::to_string(ctx.method())), failure);
  co_return to_response(make_problem(problem_code::internal));
}

std::vector<route_info> router::routes() const {
  std::vector<route_info> out;
  out.reserve(impl_->endpoints.size());
  for (const auto& e : impl_->endpoints)
    out.push_back(e->info);
  return out;
}

}  // namespace tenant::api
