#pragma once
/// Value types of the tenant domain: ids, positions, versions, plans and statuses.
/// Plain values, no I/O; safe to copy between threads.

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tenant::domain {

/// All domain timestamps have millisecond precision ("2026-01-15T09:30:00.123Z").
using clock_time = std::chrono::sys_time<std::chrono::milliseconds>;

/// Formats as RFC 3339 UTC with milliseconds: 2026-01-15T09:30:00.123Z.
std::string format_time(clock_time t);
/// Parses RFC 3339 (any offset, optional fraction); nullopt when malformed.
std::optional<clock_time> parse_time(std::string_view text);

/// A strongly typed unsigned number (positions, versions): no implicit mixing.
template <class Tag>
struct strong_u64 {
  std::uint64_t value = 0;
  constexpr strong_u64() = default;
  constexpr explicit strong_u64(std::uint64_t v) : value(v) {}
  friend constexpr auto operator<=>(const strong_u64&, const strong_u64&) = default;
};

/// Global position in the event log: starts at 1, contiguous, in commit order.
using position = strong_u64<struct position_tag>;
/// Version of one stream: starts at 1, contiguous per stream. 0 means "no events".
using stream_version = strong_u64<struct stream_version_tag>;

/// A 128-bit UUID (RFC 9562). Version 7 ids are time ordered.
struct uuid {
  std::array<std::uint8_t, 16> bytes{};

  /// UUID v7 from a timestamp and 10 random bytes (caller supplies randomness: domain has no I/O).
  static uuid v7(clock_time t, std::span<const std::uint8_t, 10> random);
  /// A name-based UUID (v8 layout) derived from arbitrary bytes, for deterministic ids
  /// (e.g. events derived from an Idempotency-Key). Same input, same id.
  static uuid derived(std::string_view name);
  /// Parses the canonical 8-4-4-4-12 lowercase or uppercase hex form.
  static std::optional<uuid> parse(std::string_view text);
  /// Canonical lowercase 8-4-4-4-12 form.
  std::string to_string() const;
  friend auto operator<=>(const uuid&, const uuid&) = default;
};

/// Tenant id: "tn_" + canonical UUID. Also the tenant's stream id.
class tenant_id {
 public:
  tenant_id() = default;
  static tenant_id from_uuid(const uuid& u) { return tenant_id("tn_" + u.to_string()); }
  /// Accepts exactly "tn_" + a canonical UUID (lowercased on the way in).
  static std::optional<tenant_id> parse(std::string_view text);
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend auto operator<=>(const tenant_id&, const tenant_id&) = default;

 private:
  explicit tenant_id(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

/// An API user: the JWT `sub`.
class user_id {
 public:
  user_id() = default;
  explicit user_id(std::string v) : value_(std::move(v)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend auto operator<=>(const user_id&, const user_id&) = default;

 private:
  std::string value_;
};

/// Stream of an API user's own events (UserSwitchedTenant): "user-" + sub.
std::string user_stream_id(const user_id& u);

/// Plans are ordered: starter < professional < enterprise. Numbers are persisted; never reuse.
enum class plan_tier : std::uint8_t { starter = 1, professional = 2, enterprise = 3 };
std::string_view to_string(plan_tier p);
std::optional<plan_tier> parse_plan(std::string_view text);

/// Tenant lifecycle. `none` = the stream has no events yet.
enum class tenant_status : std::uint8_t {
  none = 0,
  provisioning = 1,
  active = 2,
  suspended = 3,
  deactivated = 4,
};
std::string_view to_string(tenant_status s);
std::optional<tenant_status> parse_tenant_status(std::string_view text);

enum class subscription_status : std::uint8_t {
  trialing = 1,
  active = 2,
  past_due = 3,
  cancelled = 4,
};
std::string_view to_string(subscription_status s);
std::optional<subscription_status> parse_subscription_status(std::string_view text);

/// Seed 001: status applied to the tenant's users on activate/deactivate.
enum class user_status : std::uint8_t { passive = 0, active = 1, banned = 2 };

/// Seat limit per plan; nullopt = unlimited. Configurable (DESIGN.md defaults).
struct plan_limits {
  std::optional<std::uint32_t> starter = 10;
  std::optional<std::uint32_t> professional = 50;
  std::optional<std::uint32_t> enterprise = std::nullopt;

  std::optional<std::uint32_t> seat_limit(plan_tier p) const;
};

/// Trial length from creation.
inline constexpr std::chrono::days trial_length{14};

}  // namespace tenant::domain
