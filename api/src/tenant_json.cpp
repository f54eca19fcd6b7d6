#include "tenant/api/tenant_json.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>

#include "tenant/eventstore/json_scan.hpp"

namespace tenant::api {

namespace {

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// A literal of this file (keys with their quotes, colon and the comma or brace before them:
// plain ASCII, nothing to escape), appended in one call: a page of 100 tenants writes about
// 3 000 keys, and appending the quote, the key and '":' one by one was a fifth of a list
// page's CPU.
template <std::size_t N>
void lit(std::string& out, const char (&s)[N]) {
  out.append(s, N - 1);
}

void append_opt(std::string& out, const std::optional<std::string>& v) {
  if (v)
    append_json_string(out, *v);
  else
    out += "null";
}

void put_digits(char* p, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// domain::format_time's exact output ("2026-01-15T09:30:00.000Z"), quoted, without its
// snprintf: a page of 100 tenants formats 300 times, and snprintf was a fifth of a list's CPU.
void append_time(std::string& out, domain::clock_time t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999 || !ymd.ok()) {  // never in practice: the general formatter
    out += '"';
    out += domain::format_time(t);
    out += '"';
    return;
  }
  const hh_mm_ss<milliseconds> hms{t - day};
  char buf[26];
  buf[0] = '"';
  put_digits(buf + 1, static_cast<unsigned>(year), 4);
  buf[5] = '-';
  put_digits(buf + 6, static_cast<unsigned>(ymd.month()), 2);
  buf[8] = '-';
  put_digits(buf + 9, static_cast<unsigned>(ymd.day()), 2);
  buf[11] = 'T';
  put_digits(buf + 12, static_cast<unsigned>(hms.hours().count()), 2);
  buf[14] = ':';
  put_digits(buf + 15, static_cast<unsigned>(hms.minutes().count()), 2);
  buf[17] = ':';
  put_digits(buf + 18, static_cast<unsigned>(hms.seconds().count()), 2);
  buf[20] = '.';
  put_digits(buf + 21, static_cast<unsigned>(hms.subseconds().count()), 3);
  buf[24] = 'Z';
  buf[25] = '"';
  out.append(buf, sizeof buf);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  const char* const end = s.data() + s.size();
  const char* run = s.data();  // start of the pending run of characters that need no escape
  // The next character to escape, 16 bytes at a time: most values have none.
  for (const char* q = eventstore::codec::find_json_special(run, end); q != end;
       q = eventstore::codec::find_json_special(run, end)) {
    const auto c = static_cast<unsigned char>(*q);
    out.append(run, q);
    run = q + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
  }
  out.append(run, end);
  out += '"';
}

void append_tenant_resource(std::string& out, const domain::tenant_state& s) {
  const auto& p = s.profile;
  lit(out, "{\"id\":");
  append_json_string(out, s.id.str());
  lit(out, ",\"name\":");
  append_json_string(out, p.name);
  lit(out, ",\"status\":");
  append_json_string(out, domain::to_string(s.status));
  lit(out, ",\"created_at\":");
  append_time(out, s.created_at);
  lit(out, ",\"subscription\":{\"plan\":");
  append_json_string(out, domain::to_string(s.subscription.plan));
  lit(out, ",\"status\":");
  append_json_string(out, domain::to_string(s.subscription.status));
  lit(out, ",\"trial_ends_at\":");
  append_time(out, s.subscription.trial_ends_at);
  lit(out, ",\"cancelled_at\":");
  if (s.subscription.cancelled_at)
    append_time(out, *s.subscription.cancelled_at);
  else
    out += "null";
  lit(out, "},\"plan\":");
  append_json_string(out, domain::to_string(s.subscription.plan));
  lit(out, ",\"admin_email\":");
  append_opt(out, p.admin_email);
  lit(out, ",\"domain\":");
  append_opt(out, p.domain);
  lit(out, ",\"settings\":{\"timezone\":");
  append_opt(out, p.settings.timezone);
  lit(out, ",\"locale\":");
  append_opt(out, p.settings.locale);
  lit(out, ",\"max_seats\":");
  if (p.settings.max_seats)
    append_uint(out, *p.settings.max_seats);
  else
    out += "null";
  lit(out, "},\"address\":");
  append_opt(out, p.address);
  lit(out, ",\"city\":");
  append_opt(out, p.city);
  lit(out, ",\"country_code\":");
  append_opt(out, p.country_code);
  lit(out, ",\"country_name\":");
  if (p.country_code)
    append_json_string(out, s.country_name);
  else
    out += "null";
  lit(out, ",\"post_code\":");
  append_opt(out, p.post_code);
  lit(out, ",\"description\":");
  append_opt(out, p.description);
  lit(out, ",\"is_trashed\":");
  out += s.is_trashed() ? "true" : "false";
  lit(out, ",\"group_id\":");
  append_json_string(out, p.group_id);
  lit(out, ",\"group_name\":");
  append_json_string(out, p.group_name);
  lit(out, ",\"user_status\":");
  if (s.users)
    append_uint(out, static_cast<std::uint64_t>(*s.users));
  else
    out += "null";
  lit(out, ",\"updated_at\":");
  append_time(out, s.updated_at);
  lit(out, ",\"version\":");
  append_uint(out, s.version.value);
  out += '}';
}

std::string tenant_resource(const domain::tenant_state& s) {
  std::string out;
  out.reserve(768);
  append_tenant_resource(out, s);
  return out;
}

const std::string& rendered(const projections::tenant_view& v, view_renderer r) {
  static_assert(tms_item_renderer.slot < projections::derived_bytes::slot_count);
  if (const auto* done = v.rendered.get(r.slot)) return *done;
  std::string out;
  out.reserve(768);
  r.render(out, v.state);
  return v.rendered.set(r.slot, std::move(out));
}

void append_tms_list_item(std::string& out, const domain::tenant_state& s) {
  append_tms_tenant(out, s, true);
}

void append_tms_tenant(std::string& out, const domain::tenant_state& s, bool with_group) {
  const auto& p = s.profile;
  lit(out, "{\"id\":");
  append_json_string(out, s.id.str());
  lit(out, ",\"name\":");
  append_json_string(out, p.name);
  lit(out, ",\"address\":");
  append_opt(out, p.address);
  lit(out, ",\"city\":");
  append_opt(out, p.city);
  lit(out, ",\"country_code\":");
  append_opt(out, p.country_code);
  lit(out, ",\"country_name\":");
  if (p.country_code)
    append_json_string(out, s.country_name);
  else
    out += "null";
  lit(out, ",\"description\":");
  append_opt(out, p.description);
  lit(out, ",\"is_trashed\":");
  out += s.is_trashed() ? "true" : "false";
  if (with_group) {
    lit(out, ",\"group_id\":");
    append_json_string(out, p.group_id);
    lit(out, ",\"group_name\":");
    append_json_string(out, p.group_name);
  }
  out += '}';
}

std::string usage_resource(const projections::usage_view& u) {
  std::string out;
  out.reserve(320);
  lit(out, "{\"tenant_id\":");
  append_json_string(out, u.tenant_id.str());
  lit(out, ",\"plan\":");
  append_json_string(out, domain::to_string(u.plan));
  lit(out, ",\"seats_in_use\":");
  append_uint(out, u.seats_in_use);
  lit(out, ",\"seat_limit\":");
  if (u.seat_limit)
    append_uint(out, *u.seat_limit);
  else
    out += "null";
  lit(out, ",\"storage_bytes\":");
  append_uint(out, u.storage_bytes);
  lit(out, ",\"api_calls_today\":");
  append_uint(out, u.api_calls_today);
  lit(out, ",\"api_calls_month\":");
  append_uint(out, u.api_calls_month);
  lit(out, ",\"events_recorded\":");
  append_uint(out, u.events_recorded);
  lit(out, ",\"observed_at\":");
  if (u.observed_at)
    append_time(out, *u.observed_at);
  else
    out += "null";
  out += '}';
  return out;
}

}  // namespace tenant::api
