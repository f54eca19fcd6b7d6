#pragma once
// Private helpers of the tenant routes (routes_*.cpp, idempotency.cpp): the caller, awaitable
// wrappers of the callback APIs (repository, store, read model), If-Match, and the pieces every
// command and query handler shares.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tenant/api/http.hpp"
#include "tenant/api/json_body.hpp"
#include "tenant/api/problem.hpp"
#include "tenant/api/tenant_json.hpp"
#include "tenant/api/tenant_routes.hpp"
#include "tenant/domain/commands.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/views.hpp"

// GCC 12 reports Asio's coroutine frames (operator new/delete of awaitable_frame_base, paired
// correctly) as -Wmismatched-new-delete once it inlines them: GCC PR middle-end/109224. Every
// translation unit of the tenant routes includes this header; the warning is off for them only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace tenant::api {
struct principal;
}

namespace tenant::api::detail {

/// The shared state of every tenant handler.
struct route_env {
  tenant_services svc;
  domain::clock_time now() const;
};
using env_ptr = std::shared_ptr<const route_env>;

// ---- the caller ----

/// Who is calling: the platform middleware's principal, or (only when authentication is not
/// configured) the anonymous platform admin "anonymous".
struct caller {
  std::string sub;
  const principal* who = nullptr;  ///< nullptr for the anonymous admin
  bool admin = true;
};
/// 401 when authentication is required and no principal was left by the middleware.
boost::system::result<caller, problem> resolve_caller(const request_context& ctx,
                                                      const route_env& env);
/// The `sub` idempotency records are scoped by ("anonymous" without a principal).
std::string_view caller_sub(const request_context& ctx);
/// The tenants a list may show: nullopt = every tenant.
std::optional<std::vector<domain::tenant_id>> visible_to(const caller& c,
                                                         const projections::read_model& model);

// ---- the Idempotency-Key, handed from the middleware to the handler ----

struct idempotency_seed {
  std::string value;  ///< sha256(sub, key) in hex: the repository's event-id seed
};
/// Left by a handler whose append found the seed's events already stored: its answer is an
/// earlier run's, replayed (the middleware adds `Idempotent-Replayed: true`).
struct replayed_events {};

// ---- request pieces ----

/// The `{id}` path parameter as a tenant id; nullopt when malformed (answered as not found).
std::optional<domain::tenant_id> path_tenant(const request_context& ctx);
/// A fresh UUID v7 tenant id, or one derived from the Idempotency-Key so that a retried create
/// addresses the same stream.
domain::tenant_id new_tenant_id(const request_context& ctx, domain::clock_time now);

/// An If-Match list (RFC 9110 §13.1.1). A tenant's ETag is the strong tag "<version>", so only
/// strong tags that spell a version the way the ETag does can match; any other entity tag (a
/// weak one, "abc", "-1", "", "007") is well formed and matches nothing.
struct if_match {
  std::vector<std::uint64_t> versions;  ///< named by the listed tags; empty: nothing matches

  bool matches(std::uint64_t version) const;
  /// The expected version to run a command with, for a tenant now at `current` (read without
  /// a lock): `current` when listed, else a listed one (the command then fails with 412 unless
  /// the tenant moved to it meanwhile), else `never` (412 whatever the version).
  std::uint64_t expected(std::uint64_t current) const;
  static constexpr std::uint64_t never = UINT64_MAX;  ///< a version no stream reaches
};

/// If-Match: nullopt when absent or `*`; else the tags' versions. 400 BAD_REQUEST only for a
/// value that is neither `*` nor a list of entity tags (a write must never go ahead on a
/// precondition the server did not understand).
boost::system::result<std::optional<if_match>, problem> parse_if_match(const request_context& ctx);

/// The expected version for a command on `id`: nullopt without a precondition.
std::optional<std::uint64_t> expected_version(const route_env& env, const domain::tenant_id& id,
                                              const std::optional<if_match>& condition);

/// 412 PRECONDITION_FAILED for a tenant at `current`, with its ETag; 404 TENANT_NOT_FOUND when
/// there is no tenant (RFC 9110 §13.2.1: preconditions do not apply to a request that would
/// fail without them).
problem precondition_failed(std::uint64_t current);

/// If-Match on a create: a new tenant has no version to match (412); 400 when malformed.
std::optional<problem> precondition_on_create(const request_context& ctx);

/// True when the request carries a body worth parsing (commands whose body is optional).
bool has_body(const request_context& ctx);

/// The longest `reason` a command takes.
inline constexpr std::size_t reason_max_length = 255;

/// The arguments of deactivate/activate (both APIs) and reactivate: `user_status` (0 passive,
/// 1 active, 2 banned) from the JSON body, else from the query string; with `with_reason` the
/// body's optional `reason`. 422 with every message when invalid.
struct status_args {
  std::optional<domain::user_status> users;
  std::string reason;
};
boost::system::result<status_args, problem> read_status_args(const request_context& ctx,
                                                             bool with_reason);

// ---- awaitables (never block the io thread; resume on the caller's executor) ----
//
// GCC 12 destroys a non-trivially-destructible object passed BY VALUE to a coroutine inside a
// co_await expression twice (coroutine parameter copies of temporaries; seen as "free(): invalid
// pointer" on the first create). So in the tenant routes no coroutine takes such a parameter:
// state lives in the awaiting coroutine's frame as named locals, helpers take references, and
// lambdas handed to run_blocking capture by reference only.

/// Starts a callback-style operation, `start(done)` with `done(R)` callable from any thread, and
/// suspends the awaiting coroutine until `done` runs; the coroutine then resumes on its own
/// executor. `start` must stay alive until then (a local of the awaiting coroutine). Not a
/// coroutine itself: the initiation only holds a pointer.
template <class R, class Start>
boost::asio::awaitable<R> await_callback(Start& start) {
  namespace net = boost::asio;
  return net::async_initiate<const net::use_awaitable_t<>&, void(R)>(
      [s = &start](auto handler) {
        auto ex = net::get_associated_executor(handler);
        // The callback APIs take std::function (copyable); the coroutine's handler is not.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        (*s)([ex, h](R r) mutable {
          net::post(ex, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
        });
      },
      net::use_awaitable);
}

/// true once the projections reached `position`, false at the deadline.
boost::asio::awaitable<bool> async_wait_position(projections::read_model& model,
                                                 std::uint64_t position,
                                                 std::chrono::steady_clock::time_point deadline);

// ---- commands ----

/// Runs a command for the handler (moves from `cmd`): NOT_WRITER on a replica, the caller as actor,
/// the request id as correlation id, traceparent, the expected version (If-Match, see
/// expected_version), the Idempotency-Key seed; errors mapped to problems (precondition_failed).
boost::asio::awaitable<boost::system::result<eventstore::execute_success, problem>> run_command(
    request_context& ctx, const route_env& env, const caller& who, const domain::tenant_id& id,
    domain::command& cmd, std::optional<std::uint64_t> expected);

/// `ETag: "<version>"` and `X-Event-Position: <position>`.
void set_version_headers(response& res, std::uint64_t version, std::optional<std::uint64_t> pos);

/// A JSON response with a preformatted body.
response raw_json(http::status status, std::string body);

// ---- reads ----

/// The tenant's view, consistent with the event log at the time of the call: when the read
/// model has not folded the stream's last event yet (a command just answered), waits for it
/// (bounded by the X-Min-Position wait) before answering. nullptr: no such tenant. Tries the
/// non-blocking lookup first, the blocking pool on a miss.
boost::asio::awaitable<boost::system::result<projections::tenant_view_ptr, problem>> load_view(
    const route_env& env, const domain::tenant_id& id);

/// Waits (bounded) until the projections reached the log's head as of now: lists, counts and
/// usage then include every command answered before the query arrived.
boost::asio::awaitable<void> catch_up(const route_env& env);

}  // namespace tenant::api::detail

namespace tenant::api::detail {

// ---- bodies ----

/// The JSON body of a command whose body is optional: nullopt when there is none (an empty or
/// blank body, whatever the Content-Type); 415/400 problems as parse_json_body.
boost::system::result<std::optional<json_reader>, problem> optional_body(
    const request_context& ctx);

/// Reads an optional string field of at most `max` characters (code points), recording a 422
/// message otherwise. Empty after trimming counts as absent.
std::optional<std::string> bounded_string(json_reader& body, std::string_view key, std::size_t max);

// ---- the shape every tenant command shares ----

/// Builds the command from the request (reads the body: runs before any co_await).
using command_builder = std::function<boost::system::result<domain::command, problem>(
    request_context&, const route_env&, const domain::tenant_id&)>;
/// Renders the success answer.
using command_renderer =
    std::function<response(request_context&, const eventstore::execute_success&)>;

/// caller -> {id} -> If-Match -> build -> execute -> render; every failure a problem.
handler command_route(env_ptr env, command_builder build, command_renderer render);

/// 200 with the tenant resource, its ETag and X-Event-Position.
response resource_response(http::status status, const eventstore::execute_success& s);

/// Counts a call of the tenant for its usage view (`api_calls_today`).
void count_call(const route_env& env, const domain::tenant_id& id);

}  // namespace tenant::api::detail

namespace tenant::api::detail {

// ---- lists (routes_lists.cpp) ----

/// Filters (`name`, `description`, `status`, `plan`) and pagination as a list query (without
/// the caller's visible tenants); 422 with every message for bad values.
boost::system::result<projections::list_query, problem> parse_list_query(
    const request_context& ctx);

/// GET <prefix>/tenants: `data` (items rendered by `item`, kept with each view), `links`, `meta`.
handler list_route(env_ptr env, std::string prefix, view_renderer item);
/// GET <prefix>/tenants/count: {"count": n}.
handler count_route(env_ptr env);

// ---- registration (routes_tenant.cpp, routes_tms.cpp) ----

void add_tenant_api_routes(router& r, const env_ptr& env);
/// PUT <prefix>/tenants/{id}/switch, the same in both APIs: {"success": true}.
handler switch_route(env_ptr env);
void add_tms_routes(router& r, const env_ptr& env);
/// X-Min-Position on queries.
middleware make_min_position_middleware(env_ptr env);

}  // namespace tenant::api::detail
