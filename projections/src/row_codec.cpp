#include "row_codec.hpp"

#include <cstring>

#include "keys.hpp"

namespace tenant::projections::detail {

namespace {

using namespace tenant::domain;

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

// Writes the row format through a pointer into space reserved up front (the byte-at-a-time
// push_back form cost ~2 600 instructions per row; a replay encodes every tenant once).
struct row_writer {
  char* p;
  void byte(int c) { *p++ = static_cast<char>(c); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
  }
  void str(std::string_view s) {  // put_str's format
    varint(s.size());
    if (s.empty()) return;  // an empty view may hold a null pointer, which memcpy must not get
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void opt(const std::optional<std::string>& s) {  // a flag byte, then the string if set
    byte(s ? 1 : 0);
    if (s) str(*s);
  }
  void time(clock_time t) {  // zig-zag milliseconds: times before 1970 stay small and valid
    const std::int64_t ms = t.time_since_epoch().count();
    varint((static_cast<std::uint64_t>(ms) << 1) ^ static_cast<std::uint64_t>(ms >> 63));
  }
};

}  // namespace

void encode_view(const tenant_view& v, std::string& out) {
  const auto& s = v.state;
  const auto& p = s.profile;
  auto opt_size = [](const std::optional<std::string>& o) { return o ? o->size() : 0; };
  // At most: 10 bytes per varint (9 numbers, 17 string lengths), 17 flag and enum bytes, and
  // the strings themselves.
  const std::size_t bound =
      (9 + 17) * 10 + 17 + s.id.str().size() + p.name.size() + opt_size(p.admin_email) +
      opt_size(p.domain) + opt_size(p.settings.timezone) + opt_size(p.settings.locale) +
      opt_size(p.address) + opt_size(p.city) + opt_size(p.country_code) + opt_size(p.post_code) +
      opt_size(p.description) + p.group_id.size() + p.group_name.size() + s.country_name.size() +
      s.created_by.str().size() + s.suspension_reason.size() + s.default_location_id.size();
  const std::size_t start = out.size();
  out.resize(start + bound);
  row_writer w{out.data() + start};
  w.byte(row_format);
  w.varint(v.created_position);
  w.varint(v.last_position);
  w.str(s.id.str());
  w.varint(s.version.value);
  w.byte(static_cast<int>(s.status));
  w.str(p.name);
  w.opt(p.admin_email);
  w.opt(p.domain);
  w.opt(p.settings.timezone);
  w.opt(p.settings.locale);
  w.byte(p.settings.max_seats ? 1 : 0);
  if (p.settings.max_seats) w.varint(*p.settings.max_seats);
  w.opt(p.address);
  w.opt(p.city);
  w.opt(p.country_code);
  w.opt(p.post_code);
  w.opt(p.description);
  w.str(p.group_id);
  w.str(p.group_name);
  w.str(s.country_name);
  w.byte(static_cast<int>(s.subscription.plan));
  w.byte(static_cast<int>(s.subscription.status));
  w.time(s.subscription.trial_ends_at);
  w.byte(s.subscription.cancelled_at ? 1 : 0);
  if (s.subscription.cancelled_at) w.time(*s.subscription.cancelled_at);
  w.time(s.created_at);
  w.time(s.updated_at);
  w.str(s.created_by.str());
  w.byte(s.users ? 1 + static_cast<int>(*s.users) : 0);
  w.str(s.suspension_reason);
  w.str(s.default_location_id);
  w.byte(s.provisioned ? 1 : 0);
  w.varint(s.consecutive_payment_failures);
  out.resize(static_cast<std::size_t>(w.p - out.data()));
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
