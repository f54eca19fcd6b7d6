#pragma once
/// Rendering of the tenant routes' bodies: the tenant resource (/api/v1), the TMS tenant of seed
/// 001 (/v1, /v0.1), the usage view. Hand-written into a std::string (no intermediate DOM): these
/// bodies are on every request's hot path. Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "tenant/domain/tenant.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::api {

/// Appends `s` as a JSON string literal (quotes included). `s` must be UTF-8 (every string of a
/// tenant came through the JSON adapter, which refuses anything else); control characters,
/// quotes and backslashes are escaped.
void append_json_string(std::string& out, std::string_view s);

/// The tenant resource of /api/v1, members in this order:
///   id, name, status, created_at, subscription {plan, status, trial_ends_at, cancelled_at},
///   plan, admin_email, domain, settings {timezone, locale, max_seats}, address, city,
///   country_code, country_name, post_code, description, is_trashed, group_id, group_name,
///   user_status, updated_at, version
/// (seed 002's create response first). Absent optional fields are null; `user_status` is the
/// 0/1/2 of the last activate/deactivate (null before any); `version` equals the ETag.
void append_tenant_resource(std::string& out, const domain::tenant_state& s);
std::string tenant_resource(const domain::tenant_state& s);

/// Seed 001's tenant: id, name, address, city, country_code, country_name, description,
/// is_trashed; list items (`with_group`) add group_id and group_name.
void append_tms_tenant(std::string& out, const domain::tenant_state& s, bool with_group);

/// A renderer of a whole tenant and the slot of `tenant_view::rendered` that keeps its output.
/// Each renderer has a slot of its own (the constants below), so a slot always holds one
/// renderer's bytes.
struct view_renderer {
  void (*render)(std::string& out, const domain::tenant_state& s);
  std::size_t slot;
};
inline constexpr view_renderer resource_renderer{&append_tenant_resource, 0};
/// TMS list items (append_tms_tenant with the group).
void append_tms_list_item(std::string& out, const domain::tenant_state& s);
inline constexpr view_renderer tms_item_renderer{&append_tms_list_item, 1};

/// `r.render(out, v.state)`'s bytes, rendered on the view's first use and kept with the view
/// (a published view never changes): a tenant shown on many pages or fetched many times is
/// rendered once per version.
const std::string& rendered(const projections::tenant_view& v, view_renderer r);

/// GET /api/v1/tenants/{id}/usage (DESIGN.md "Kafka"): tenant_id, plan, seats_in_use,
/// seat_limit (null when unlimited), storage_bytes, api_calls_today, api_calls_month,
/// events_recorded, observed_at (null before any report).
std::string usage_resource(const projections::usage_view& u);

}  // namespace tenant::api
