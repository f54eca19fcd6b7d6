#pragma once
/// The tenant aggregate: state, decide and evolve. Pure functions; no I/O, no clocks of their
/// own (the time comes in the context), thread-safe because stateless.

#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tenant/domain/commands.hpp"
#include "tenant/domain/errors.hpp"
#include "tenant/domain/events.hpp"

namespace tenant::domain {

struct subscription_state {
  plan_tier plan = plan_tier::starter;
  subscription_status status = subscription_status::trialing;
  clock_time trial_ends_at{};
  std::optional<clock_time> cancelled_at;
  friend bool operator==(const subscription_state&, const subscription_state&) = default;
};

/// A tenant folded from its events. `version` = number of events applied.
struct tenant_state {
  tenant_id id;
  stream_version version{};
  tenant_status status = tenant_status::none;
  tenant_profile profile;
  std::string country_name;
  subscription_state subscription;
  clock_time created_at{};
  clock_time updated_at{};
  user_id created_by;
  std::optional<user_status> users;  ///< last user_status given on (de)activation
  std::string suspension_reason;
  std::string default_location_id;
  bool provisioned = false;  ///< TenantProvisioned seen (the default location exists)
  std::uint32_t consecutive_payment_failures = 0;
  std::set<std::string> seen_payment_ids;  ///< payment idempotency

  bool exists() const { return status != tenant_status::none; }
  bool is_trashed() const { return status == tenant_status::deactivated; }
  plan_tier current_plan() const { return subscription.plan; }
  friend bool operator==(const tenant_state&, const tenant_state&) = default;
};

/// What decide needs besides the state: the time and the configurable policies.
struct decide_context {
  clock_time now{};
  plan_limits limits{};
  std::uint32_t payment_failures_before_suspension = 3;
};

/// Events to append (empty = idempotent no-op), or a domain error.
using decision = boost::system::result<std::vector<event_data>, error>;

/// Decides a command against the current state. REQUIRES: for create_tenant, state.exists() is
/// false (otherwise the result is an error, never an exception).
decision decide(const tenant_state& state, const command& cmd, const decide_context& ctx);

/// Applies one event; increments version. Unknown/irrelevant events leave the state unchanged
/// apart from the version. Equal to a copy of `state` followed by apply_in_place.
tenant_state evolve(tenant_state state, const event& e);

/// evolve's rules applied to `state` in place (no copy of the state in and out). The rvalue
/// form takes the event's strings (profile, ids, reasons) instead of copying them and leaves
/// `e` valid but unspecified; folds that drop each event after applying it use it.
void apply_in_place(tenant_state& state, const event& e);
void apply_in_place(tenant_state& state, event&& e);

/// Folds a whole history.
tenant_state fold(const std::vector<event>& history);

/// Changes to the unique-domain reservation that moving from `before` to `after` requires (the
/// repository turns them into eventstore unique_claims in the same append). A tenant holds its
/// domain while it is live (exists and is not deactivated):
/// - `claim`: the domain `after` holds live, when `before` did not hold that domain live
///   (create, a new domain, reactivation of a deactivated tenant);
/// - `release`: the domain `before` held live, when `after` no longer holds it live
///   (a changed or removed domain, deactivation).
/// Both are set when a live tenant changes its domain. Suspension keeps the domain.
struct domain_claims {
  std::optional<std::string> claim;
  std::optional<std::string> release;
  friend bool operator==(const domain_claims&, const domain_claims&) = default;
};
domain_claims claims_for(const tenant_state& before, const tenant_state& after);

}  // namespace tenant::domain
