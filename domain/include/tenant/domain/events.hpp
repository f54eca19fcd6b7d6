#pragma once
/// Domain events. The `type` strings are a contract (DESIGN.md); so are the persisted numbers of
/// `event_type`: never renumber, never reuse.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tenant/domain/profile.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::domain {

enum class event_type : std::uint16_t {
  tenant_created = 1,
  tenant_provisioned = 2,
  tenant_updated = 3,
  tenant_suspended = 4,
  tenant_deactivated = 5,
  tenant_reactivated = 6,
  plan_upgraded = 7,
  plan_downgraded = 8,
  payment_failed = 9,
  payment_succeeded = 10,
  subscription_cancelled = 11,
  user_switched_tenant = 12,
};

/// "TenantCreated", "PlanUpgraded", ...
std::string_view to_string(event_type t);
std::optional<event_type> parse_event_type(std::string_view text);

struct tenant_created {
  tenant_id id;
  tenant_profile profile;
  std::string country_name;
  plan_tier plan = plan_tier::starter;
  clock_time trial_ends_at{};
  user_id created_by;  ///< the API user; joins the tenant and switches to it
  friend bool operator==(const tenant_created&, const tenant_created&) = default;
};

struct tenant_provisioned {
  std::string default_location_id;
  friend bool operator==(const tenant_provisioned&, const tenant_provisioned&) = default;
};

/// Full replacement of the editable fields (PUT semantics).
struct tenant_updated {
  tenant_profile profile;
  std::string country_name;
  friend bool operator==(const tenant_updated&, const tenant_updated&) = default;
};

struct tenant_suspended {
  std::string reason;  ///< e.g. "payment_failed", or the operator's reason
  friend bool operator==(const tenant_suspended&, const tenant_suspended&) = default;
};

struct tenant_deactivated {
  std::optional<user_status> users;  ///< seed 001 user_status, when given
  std::string reason;
  friend bool operator==(const tenant_deactivated&, const tenant_deactivated&) = default;
};

struct tenant_reactivated {
  std::optional<user_status> users;
  tenant_status previous_status = tenant_status::suspended;
  friend bool operator==(const tenant_reactivated&, const tenant_reactivated&) = default;
};

struct plan_upgraded {
  plan_tier from = plan_tier::starter;
  plan_tier to = plan_tier::starter;
  friend bool operator==(const plan_upgraded&, const plan_upgraded&) = default;
};

struct plan_downgraded {
  plan_tier from = plan_tier::starter;
  plan_tier to = plan_tier::starter;
  /// settings.max_seats after the downgrade, when it had to be lowered to the new limit.
  std::optional<std::uint32_t> max_seats;
  friend bool operator==(const plan_downgraded&, const plan_downgraded&) = default;
};

struct payment_failed {
  std::string payment_id;
  std::int64_t amount_cents = 0;
  std::string currency;
  std::string reason;
  std::uint32_t consecutive_failures = 1;  ///< including this one
  friend bool operator==(const payment_failed&, const payment_failed&) = default;
};

struct payment_succeeded {
  std::string payment_id;
  std::int64_t amount_cents = 0;
  std::string currency;
  friend bool operator==(const payment_succeeded&, const payment_succeeded&) = default;
};

struct subscription_cancelled {
  std::string reason;
  friend bool operator==(const subscription_cancelled&, const subscription_cancelled&) = default;
};

/// On the API user's stream (user_stream_id). tenant = the tenant switched to.
struct user_switched_tenant {
  user_id user;
  tenant_id tenant;
  friend bool operator==(const user_switched_tenant&, const user_switched_tenant&) = default;
};

using event_data =
    std::variant<tenant_created, tenant_provisioned, tenant_updated, tenant_suspended,
                 tenant_deactivated, tenant_reactivated, plan_upgraded, plan_downgraded,
                 payment_failed, payment_succeeded, subscription_cancelled, user_switched_tenant>;

event_type type_of(const event_data& e);

/// Current schema version of each event type (the codec upcasts older ones on read).
std::uint32_t schema_version_of(event_type t);

/// An event as the domain sees it: its data and when it happened.
struct event {
  event_data data;
  clock_time occurred_at{};
  friend bool operator==(const event&, const event&) = default;
};

}  // namespace tenant::domain
