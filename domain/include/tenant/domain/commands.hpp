#pragma once
/// Commands: what a caller asks of a tenant. Each is decided against the tenant's state.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "tenant/domain/profile.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::domain {

/// POST /tenants. The id is chosen by the caller (UUID v7, or derived from an Idempotency-Key).
struct create_tenant {
  tenant_id id;
  validated_profile profile;
  user_id actor;
};

/// PUT /tenants/{id}: replaces the editable fields; a different plan is a plan change.
struct update_tenant {
  validated_profile profile;
  /// false for the TMS dialect, whose bodies carry no plan: the current plan is kept.
  bool change_plan = true;
  std::uint32_t seats_in_use = 0;  ///< from the usage view, for a downgrade in the same PUT
};

struct suspend_tenant {
  std::string reason;
};

/// DELETE /tenants/{id} and PUT /tenants/{id}/deactivate.
struct deactivate_tenant {
  std::optional<user_status> users;
  std::string reason;
};

/// POST /tenants/{id}/reactivate and PUT /tenants/{id}/activate.
struct reactivate_tenant {
  std::optional<user_status> users;
};

/// PUT /tenants/{id}/plan.
struct change_plan {
  plan_tier target = plan_tier::starter;
  std::uint32_t seats_in_use = 0;  ///< from the usage view
};

/// POST /tenants/{id}/payments and billing.events.
struct record_payment {
  bool succeeded = false;
  std::string payment_id;
  std::int64_t amount_cents = 0;
  std::string currency;
  std::string reason;
};

/// POST /tenants/{id}/subscription/cancel and billing.events.
struct cancel_subscription {
  std::string reason;
};

/// Issued by the provisioning process manager after it created the default location.
struct mark_provisioned {
  std::string default_location_id;
};

using command =
    std::variant<create_tenant, update_tenant, suspend_tenant, deactivate_tenant, reactivate_tenant,
                 change_plan, record_payment, cancel_subscription, mark_provisioned>;

/// Short stable name of a command ("create", "update", "suspend", ...), for docs and metrics.
std::string_view command_name(const command& c);

}  // namespace tenant::domain
