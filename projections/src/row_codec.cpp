#include "row_codec.hpp"

#include "keys.hpp"

namespace tenant::projections::detail {

namespace {

using namespace tenant::domain;

void put_opt(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out.push_back(0);
    return;
  }
  out.push_back(1);
  put_str(out, *s);
}

void put_time(std::string& out, clock_time t) {
  // Zig-zag: times before 1970 stay small and valid.
  const std::int64_t ms = t.time_since_epoch().count();
  put_varint(out, (static_cast<std::uint64_t>(ms) << 1) ^ static_cast<std::uint64_t>(ms >> 63));
}

clock_time get_time(reader& r) {
  const std::uint64_t z = r.varint();
  const auto ms = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
  return clock_time(std::chrono::milliseconds(ms));
}

std::optional<std::string> get_opt(reader& r) {
  const auto flag = r.byte();
  if (flag == 0) return std::nullopt;
  if (flag != 1) r.ok = false;
  return std::string(r.str());
}

std::size_t str_bytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}
std::size_t str_bytes(const std::optional<std::string>& s) {
  return s ? str_bytes(*s) : 0;
}

}  // namespace

void encode_view(const tenant_view& v, std::string& out) {
  const auto& s = v.state;
  const auto& p = s.profile;
  out.push_back(static_cast<char>(row_format));
  put_varint(out, v.created_position);
  put_varint(out, v.last_position);
  put_str(out, s.id.str());
  put_varint(out, s.version.value);
  out.push_back(static_cast<char>(s.status));
  put_str(out, p.name);
  put_opt(out, p.admin_email);
  put_opt(out, p.domain);
  put_opt(out, p.settings.timezone);
  put_opt(out, p.settings.locale);
  if (p.settings.max_seats) {
    out.push_back(1);
    put_varint(out, *p.settings.max_seats);
  } else {
    out.push_back(0);
  }
  put_opt(out, p.address);
  put_opt(out, p.city);
  put_opt(out, p.country_code);
  put_opt(out, p.post_code);
  put_opt(out, p.description);
  put_str(out, p.group_id);
  put_str(out, p.group_name);
  put_str(out, s.country_name);
  out.push_back(static_cast<char>(s.subscription.plan));
  out.push_back(static_cast<char>(s.subscription.status));
  put_time(out, s.subscription.trial_ends_at);
  if (s.subscription.cancelled_at) {
    out.push_back(1);
    put_time(out, *s.subscription.cancelled_at);
  } else {
    out.push_back(0);
  }
  put_time(out, s.created_at);
  put_time(out, s.updated_at);
  put_str(out, s.created_by.str());
  out.push_back(s.users ? static_cast<char>(1 + static_cast<int>(*s.users)) : 0);
  put_str(out, s.suspension_reason);
  put_str(out, s.default_location_id);
  out.push_back(s.provisioned ? 1 : 0);
  put_varint(out, s.consecutive_payment_failures);
}

std::string encode_view(const tenant_view& v) {
  std::string out;
  out.reserve(256);
  encode_view(v, out);
  return out;
}

std::optional<tenant_view> decode_view(std::string_view bytes) {
  reader r{bytes};
  if (r.byte() != row_format) return std::nullopt;
  tenant_view v;
  auto& s = v.state;
  auto& p = s.profile;
  v.created_position = r.varint();
  v.last_position = r.varint();
  const auto id = r.str();
  if (!id.empty()) {
    const auto parsed = tenant_id::parse(id);
    if (!parsed) return std::nullopt;
    s.id = *parsed;
  }
  s.version = stream_version{r.varint()};
  const auto status = r.byte();
  if (status > static_cast<std::uint8_t>(tenant_status::deactivated)) return std::nullopt;
  s.status = static_cast<tenant_status>(status);
  p.name = r.str();
  p.admin_email = get_opt(r);
  p.domain = get_opt(r);
  p.settings.timezone = get_opt(r);
  p.settings.locale = get_opt(r);
  const auto has_seats = r.byte();
  if (has_seats == 1) {
    const auto seats = r.varint();
    if (seats > UINT32_MAX) return std::nullopt;
    p.settings.max_seats = static_cast<std::uint32_t>(seats);
  } else if (has_seats != 0) {
    return std::nullopt;
  }
  p.address = get_opt(r);
  p.city = get_opt(r);
  p.country_code = get_opt(r);
  p.post_code = get_opt(r);
  p.description = get_opt(r);
  p.group_id = r.str();
  p.group_name = r.str();
  s.country_name = r.str();
  const auto plan = r.byte();
  if (plan < 1 || plan > 3) return std::nullopt;
  s.subscription.plan = static_cast<plan_tier>(plan);
  const auto sub = r.byte();
  if (sub < 1 || sub > 4) return std::nullopt;
  s.subscription.status = static_cast<subscription_status>(sub);
  s.subscription.trial_ends_at = get_time(r);
  const auto has_cancel = r.byte();
  if (has_cancel == 1) {
    s.subscription.cancelled_at = get_time(r);
  } else if (has_cancel != 0) {
    return std::nullopt;
  }
  s.created_at = get_time(r);
  s.updated_at = get_time(r);
  s.created_by = user_id(std::string(r.str()));
  const auto users = r.byte();
  if (users > 3) return std::nullopt;
  if (users != 0) s.users = static_cast<user_status>(users - 1);
  s.suspension_reason = r.str();
  s.default_location_id = r.str();
  const auto provisioned = r.byte();
  if (provisioned > 1) return std::nullopt;
  s.provisioned = provisioned == 1;
  const auto failures = r.varint();
  if (failures > UINT32_MAX) return std::nullopt;
  s.consecutive_payment_failures = static_cast<std::uint32_t>(failures);
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return v;
}

std::size_t view_bytes(const tenant_view& v) {
  const auto& s = v.state;
  const auto& p = s.profile;
  return sizeof(tenant_view) + str_bytes(s.id.str()) + str_bytes(p.name) +
         str_bytes(p.admin_email) + str_bytes(p.domain) + str_bytes(p.settings.timezone) +
         str_bytes(p.settings.locale) + str_bytes(p.address) + str_bytes(p.city) +
         str_bytes(p.country_code) + str_bytes(p.post_code) + str_bytes(p.description) +
         str_bytes(p.group_id) + str_bytes(p.group_name) + str_bytes(s.country_name) +
         str_bytes(s.created_by.str()) + str_bytes(s.suspension_reason) +
         str_bytes(s.default_location_id);
}

}  // namespace tenant::projections::detail
