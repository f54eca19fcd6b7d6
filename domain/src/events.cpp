#include "tenant/domain/events.hpp"

#include <array>
#include <type_traits>
#include <utility>

namespace tenant::domain {

namespace {

// Indexed by the persisted number of event_type.
constexpr std::array<std::pair<event_type, std::string_view>, 12> names{{
    {event_type::tenant_created, "TenantCreated"},
    {event_type::tenant_provisioned, "TenantProvisioned"},
    {event_type::tenant_updated, "TenantUpdated"},
    {event_type::tenant_suspended, "TenantSuspended"},
    {event_type::tenant_deactivated, "TenantDeactivated"},
    {event_type::tenant_reactivated, "TenantReactivated"},
    {event_type::plan_upgraded, "PlanUpgraded"},
    {event_type::plan_downgraded, "PlanDowngraded"},
    {event_type::payment_failed, "PaymentFailed"},
    {event_type::payment_succeeded, "PaymentSucceeded"},
    {event_type::subscription_cancelled, "SubscriptionCancelled"},
    {event_type::user_switched_tenant, "UserSwitchedTenant"},
}};

}  // namespace

std::string_view to_string(event_type t) {
  for (const auto& [type, name] : names)
    if (type == t) return name;
  return "Unknown";
}

std::optional<event_type> parse_event_type(std::string_view text) {
  for (const auto& [type, name] : names)
    if (name == text) return type;
  return std::nullopt;
}

namespace {

template <class T>
constexpr event_type type_for() {
  if constexpr (std::is_same_v<T, tenant_created>)
    return event_type::tenant_created;
  else if constexpr (std::is_same_v<T, tenant_provisioned>)
    return event_type::tenant_provisioned;
  else if constexpr (std::is_same_v<T, tenant_updated>)
    return event_type::tenant_updated;
  else if constexpr (std::is_same_v<T, tenant_suspended>)
    return event_type::tenant_suspended;
  else if constexpr (std::is_same_v<T, tenant_deactivated>)
    return event_type::tenant_deactivated;
  else if constexpr (std::is_same_v<T, tenant_reactivated>)
    return event_type::tenant_reactivated;
  else if constexpr (std::is_same_v<T, plan_upgraded>)
    return event_type::plan_upgraded;
  else if constexpr (std::is_same_v<T, plan_downgraded>)
    return event_type::plan_downgraded;
  else if constexpr (std::is_same_v<T, payment_failed>)
    return event_type::payment_failed;
  else if constexpr (std::is_same_v<T, payment_succeeded>)
    return event_type::payment_succeeded;
  else if constexpr (std::is_same_v<T, subscription_cancelled>)
    return event_type::subscription_cancelled;
  else if constexpr (std::is_same_v<T, user_switched_tenant>)
    return event_type::user_switched_tenant;
  else
    static_assert(sizeof(T) == 0, "event without an event_type");
}

// The codec relies on alternative i of event_data having event_type number i + 1.
template <std::size_t... I>
constexpr bool alternatives_in_type_order(std::index_sequence<I...>) {
  return (
      (static_cast<std::size_t>(type_for<std::variant_alternative_t<I, event_data>>()) == I + 1) &&
      ...);
}
static_assert(std::variant_size_v<event_data> == names.size());
static_assert(alternatives_in_type_order(std::make_index_sequence<names.size()>{}));

}  // namespace

event_type type_of(const event_data& e) {
  return std::visit([](const auto& d) { return type_for<std::decay_t<decltype(d)>>(); }, e);
}

std::uint32_t schema_version_of(event_type t) {
  switch (t) {
    // v2: `settings` nested as in the API resource (v1 carried timezone, locale and max_seats
    // at the top level of `data`); the codec upcasts v1 on read.
    case event_type::tenant_created:
    case event_type::tenant_updated:
      return 2;
    default:
      return 1;
  }
}

}  // namespace tenant::domain
