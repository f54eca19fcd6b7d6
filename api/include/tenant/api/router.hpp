#pragma once
/// Routing by method + path pattern, and the middleware chain.
///
/// Patterns are absolute paths whose segments are literals or `{name}` parameters matching one
/// non-empty segment: "/api/v1/tenants/{id}/plan". When several patterns match a path the most
/// specific wins (a literal segment beats a parameter, left to right), as in OpenAPI: so
/// "/tenants/count" is never taken for "/tenants/{id}". If the winning pattern has no handler for
/// the method the answer is 405 with `Allow`; if no pattern matches, 404 NOT_FOUND. HEAD is
/// served by the pattern's GET handler unless a HEAD route is added (RFC 9110 §9.3.2; the server
/// sends the GET's status and headers without the body), and `Allow` lists it after GET; it is
/// not a route of its own in `routes()`.
///
/// Middleware wraps every routed request (not 404/405), outermost first in `use()` order:
///
///   router.use([](request_context& ctx, next_handler next) -> awaitable<response> {
///     if (!authorised(ctx)) co_return to_response(unauthenticated());
///     auto res = co_await next(ctx);
///     res.set("X-RateLimit-Limit", "100");
///     co_return res;
///   });
///
/// Middleware reads `ctx.route()` (kind, tags) to decide whether it applies, e.g. auth skips
/// `route_kind::operations`, a replica refuses `route_kind::command` with NOT_WRITER.
///
/// Threading: configure (add/use) before serving; afterwards `dispatch` and the queries are
/// const and safe from any number of threads. Handlers and middleware must be safe to call
/// concurrently. Lifecycle: must outlive the server that dispatches into it.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenant/api/http.hpp"

namespace tenant::api {

enum class route_kind : std::uint8_t {
  operations,  ///< /livez, /readyz, /metrics, docs: no token, not rate limited
  query,       ///< reads: tenants:read
  command,     ///< writes: tenants:write, refused by replicas, Idempotency-Key applies
};

/// Static facts about a route, for middleware, metrics labels and the OpenAPI comparison.
struct route_info {
  http::verb method = http::verb::get;
  std::string pattern;  ///< "/api/v1/tenants/{id}"; also the `route` metrics label
  std::string name;     ///< operation id, e.g. "getTenant" ("" when not given)
  route_kind kind = route_kind::query;
  std::vector<std::string> tags;  ///< free-form labels for middleware, e.g. "tms", "admin"

  bool has_tag(std::string_view t) const {
    for (const auto& x : tags) {
      if (x == t) return true;
    }
    return false;
  }
};

using handler = std::function<boost::asio::awaitable<response>(request_context&)>;

class router;

/// The rest of the chain after a middleware: the next middleware, or the route's handler.
/// Cheap to copy; valid only during the dispatch that created it.
class next_handler {
 public:
  /// Runs the rest of the chain. Safe on a temporary (the handler is copied into the returned
  /// operation), so a middleware that only passes a request on may `return next(ctx);` from a
  /// plain function, with no coroutine frame of its own.
  boost::asio::awaitable<response> operator()(request_context& ctx) const;

 private:
  friend class router;
  next_handler(const router* r, const handler* h, std::size_t index)
      : router_(r), handler_(h), index_(index) {}
  static boost::asio::awaitable<response> run(next_handler self, request_context& ctx);
  const router* router_;
  const handler* handler_;
  std::size_t index_;
};

using middleware =
    std::function<boost::asio::awaitable<response>(request_context&, next_handler next)>;

class router {
 public:
  router();
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Registers a route. Throws std::invalid_argument for a malformed pattern or a duplicate
  /// method + pattern shape: these are start-up programmer errors.
  router& add(route_info info, handler h);
  /// Shorthand: add({method, pattern, name, kind}, h).
  router& add(http::verb method, std::string pattern, handler h,
              route_kind kind = route_kind::query, std::string name = {});

  /// Appends a middleware to the chain (applies to every routed request).
  router& use(middleware m);

  struct match_result {
    enum class outcome : std::uint8_t { found, not_found, method_not_allowed };
    outcome result = outcome::not_found;
    const route_info* route = nullptr;                        ///< when found
    const handler* target = nullptr;                          ///< when found
    std::vector<std::pair<std::string, std::string>> params;  ///< decoded, when found
    /// When method_not_allowed: in registration order, HEAD right after GET.
    std::vector<http::verb> allowed;
  };
  /// Matches decoded path segments.
  match_result match(http::verb method, const std::vector<std::string>& segments) const;
  /// The pattern that would serve this request, for labelling requests rejected before
  /// dispatch (413); nullptr when none.
  const route_info* route_for(http::verb method, std::string_view target) const;

  /// Routes, runs the middleware chain and the handler. Never throws: a bad target is 400, no
  /// route 404, wrong method 405, a body with a Content-Encoding other than `identity` 415
  /// UNSUPPORTED_MEDIA_TYPE, an exception escaping a handler or middleware a logged 500.
  boost::asio::awaitable<response> dispatch(request_context& ctx) const;

  /// Every registered route, in registration order.
  std::vector<route_info> routes() const;

 private:
  friend class next_handler;
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Collapses "{anything}" to "{}" so that patterns can be compared by shape:
/// "/tenants/{id}" and "/tenants/{tenantId}" -> "/tenants/{}".
std::string pattern_shape(std::string_view pattern);

}  // namespace tenant::api
