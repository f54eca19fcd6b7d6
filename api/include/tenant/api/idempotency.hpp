#pragma once
/// `Idempotency-Key` on commands (DESIGN.md "HTTP", Idempotency), as router middleware on
/// `route_kind::command` routes:
///
/// - the key is scoped per caller (`principal::sub`): the record's key is sha256(sub, key), so
///   two callers never see each other's answers;
/// - a request is identified by its fingerprint: method, request-target (path and query) and a
///   SHA-256 of the body;
/// - first use: the handler runs with the scoped key as the repository's event-id seed (a retry
///   after a crash between the append and the record finds its events stored and cannot apply
///   twice), then the answer is stored for 24 h (the store's TTL) unless it is a 5xx or a 429;
/// - a replay with the same fingerprint returns the stored answer (status, headers, body) plus
///   `Idempotent-Replayed: true`; another fingerprint -> 422 IDEMPOTENCY_KEY_REUSED;
/// - concurrent requests with one scoped key run one at a time, in arrival order: the first is
///   the original, each later one finds its record and is a replay (when the first answer was
///   not stored, the next request runs as a new original);
/// - an answer built from events an earlier run of the key stored (its record expired or was
///   lost in a crash; the event-id seed found them) also carries `Idempotent-Replayed: true`;
/// - a malformed key (empty, over 255 characters, not visible ASCII) -> 400 BAD_REQUEST.
///
/// Records are read and written on the blocking pool. Threading: the middleware is safe from
/// every io thread; the store and pool must outlive the router.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tenant/api/blocking.hpp"
#include "tenant/api/http.hpp"
#include "tenant/api/router.hpp"
#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::api {

inline constexpr std::size_t max_idempotency_key_length = 255;

/// 1..255 characters of visible ASCII (0x21..0x7e).
bool valid_idempotency_key(std::string_view key);
/// Hex SHA-256 of sub and key (length-prefixed, so ("ab","c") and ("a","bc") differ).
std::string scoped_idempotency_key(std::string_view sub, std::string_view key);
/// "<METHOD> <target> <hex sha256 of the body>".
std::string request_fingerprint(const request& req);

/// A response as stored in an idempotency record (JSON: status, headers, body) and back.
std::string serialize_response(const response& res);
std::optional<response> parse_stored_response(std::string_view stored);

/// The middleware. `sub_of` names the caller whose keys these are (the principal's `sub`).
middleware make_idempotency_middleware(eventstore::event_store& store, blocking_pool& pool,
                                       std::function<std::string(const request_context&)> sub_of,
                                       std::function<domain::clock_time()> clock = {});

}  // namespace tenant::api
