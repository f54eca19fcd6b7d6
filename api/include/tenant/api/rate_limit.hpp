#pragma once
/// Request quotas (DESIGN.md "HTTP", Rate limits; seeds 000 and 002).
///
/// Every counted request is charged to one key — the effective tenant (`X-Tenant-Id`), else the
/// token's `tenant_id`, else its `sub` — against up to three sliding windows:
///
///   - per minute: 100 (standard: starter and professional) or 1000 (enterprise, the tenant's
///     plan tier); exact: the timestamps of the calls of the last 60 s are kept, so the 101st
///     call within any 60 s is refused;
///   - per minute per endpoint on TMS routes (tag "tms"): 60, exact in the same way;
///   - per rolling 24 h: 10000, counted in one-minute buckets (the window slides by whole
///     minutes: a call leaves the count between 24 h and 24 h + 1 min after it was made).
///
/// A refused call is not charged (it consumes nothing), so a client that keeps calling while
/// throttled is let in again as soon as the oldest counted call leaves its window.
///
/// Memory: per key, at most `limit` timestamps per minute window and at most 1440 buckets for
/// the day; at most `max_keys` keys (when full, keys idle for 24 h are evicted, then the least
/// recently used one). Idle keys are evicted by `evict_idle` (the middleware calls it
/// periodically).
///
/// Threading: every member is thread-safe (one mutex; the critical section is a few vector
/// operations). Clock: injectable (tests drive time by hand, no sleeps).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenant/api/config.hpp"

namespace tenant::api {

/// Which quota bound a decision: its window and limit show in the headers.
enum class rate_window : std::uint8_t {
  minute,           ///< the tenant's per-minute quota (tier)
  endpoint_minute,  ///< the TMS per-endpoint quota
  day,              ///< the rolling 24 h quota
};
std::string_view to_string(rate_window w);  // "minute", "endpoint", "day"

/// What one call asks for.
struct rate_request {
  std::string_view key;            ///< tenant id or sub
  bool enterprise = false;         ///< the key's tenant is on the enterprise plan
  std::string_view endpoint = {};  ///< TMS route (method + pattern); empty = not a TMS route
};

/// The outcome of one call, with what the headers show.
struct rate_decision {
  bool allowed = true;
  rate_window window = rate_window::minute;  ///< the binding quota (least remaining / refusing)
  std::uint32_t limit = 0;                   ///< its limit
  std::uint32_t remaining = 0;               ///< calls left in it after this one
  /// When the binding window next frees a slot (allowed: its oldest counted call leaves it;
  /// refused: the call would be let in).
  std::chrono::system_clock::time_point reset_at{};
  /// Seconds from now to reset_at, rounded up (at least 1 when refused).
  std::uint64_t reset_after_seconds = 0;
  /// Every quota that applied, for `RateLimit-Policy`.
  std::uint32_t minute_limit = 0;
  std::uint32_t endpoint_limit = 0;  ///< 0 = no endpoint quota applied
  std::uint32_t day_limit = 0;
};

using wall_clock_fn = std::function<std::chrono::system_clock::time_point()>;

/// Sliding-window quotas per key. See the file comment for windows, memory and threading.
class rate_limiter {
 public:
  /// `clock` empty = the system clock.
  explicit rate_limiter(rate_limit_settings limits, wall_clock_fn clock = {},
                        std::size_t max_keys = 100'000);
  ~rate_limiter();
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  /// Charges one call to `r.key` when every applicable quota has room; else refuses it without
  /// charging.
  rate_decision check(const rate_request& r);

  /// Drops keys with no call in the last 24 h. Returns how many were dropped.
  std::size_t evict_idle();
  /// Keys currently tracked.
  std::size_t key_count() const;
  /// Approximate bytes held for one key (tests of the memory bound).
  std::size_t key_bytes(std::string_view key) const;

  const rate_limit_settings& limits() const { return limits_; }
  std::chrono::system_clock::time_point now() const;

 private:
  struct impl;
  rate_limit_settings limits_;
  wall_clock_fn clock_;
  std::unique_ptr<impl> impl_;
};

/// The response headers of a counted call (DESIGN.md): `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds), and the IETF draft fields in
/// the syntax of draft-ietf-httpapi-ratelimit-headers-08 (structured fields):
///   RateLimit-Policy: "minute";q=100;w=60, "day";q=10000;w=86400
///   RateLimit: "minute";r=42;t=17
/// (a TMS route adds `"endpoint";q=60;w=60` to the policy).
std::vector<std::pair<std::string, std::string>> rate_limit_headers(const rate_decision& d);

/// The extra headers of a 429: `Retry-After` (seconds) and `X-Rate-Limit-Reset` in seed 000's
/// round-trip format ("o" in .NET): `2026-01-15T09:31:00.0000000Z`.
std::vector<std::pair<std::string, std::string>> rate_limited_headers(const rate_decision& d);

/// `2026-01-15T09:31:00.0000000Z` (UTC, 7 fractional digits: 100 ns ticks).
std::string format_round_trip_utc(std::chrono::system_clock::time_point t);

}  // namespace tenant::api
