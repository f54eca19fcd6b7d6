#include "tenant/consumers/kafka.hpp"

#include <algorithm>
#include <chrono>

#include "rdkafka.hpp"

namespace tenant::consumers {

namespace detail {

namespace {

// Fixed-width decimal, most significant digit first (the caller guarantees v < 10^width).
char* put_digits(char* p, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

}  // namespace

std::string_view format_ce_time(domain::clock_time t, char (&out)[ce_time_capacity]) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    // Not four digits: domain::format_time's own text (rare enough to allocate).
    const std::string s = domain::format_time(t);
    const auto n = std::min(s.size(), sizeof out);
    std::copy_n(s.data(), n, out);
    return {out, n};
  }
  const hh_mm_ss<milliseconds> hms{t - day};
  char* p = out;
  p = put_digits(p, static_cast<unsigned>(year), 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  p = put_digits(p, static_cast<unsigned>(hms.hours().count()), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(hms.minutes().count()), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(hms.seconds().count()), 2);
  *p++ = '.';
  p = put_digits(p, static_cast<unsigned>(hms.subseconds().count()), 3);
  *p++ = 'Z';
  return {out, static_cast<std::size_t>(p - out)};
}

}  // namespace detail

std::string dlq_topic(std::string_view topic) {
  std::string out(topic);
  out += ".dlq";
  return out;
}

std::string_view event_key(const eventstore::recorded_event& e) {
  return e.tenant_id.empty() ? std::string_view(e.stream_id) : std::string_view(e.tenant_id);
}

std::vector<message_header> event_headers(const eventstore::recorded_event& e) {
  char time[detail::ce_time_capacity];
  std::vector<message_header> h;
  h.reserve(9);
  h.push_back({"ce_specversion", "1.0"});
  h.push_back({"ce_id", e.event_id});
  h.push_back({"ce_type", e.type});
  h.push_back({"ce_source", "/tenants"});
  h.push_back({"ce_subject", std::string(event_key(e))});
  h.push_back({"ce_time", std::string(detail::format_ce_time(e.occurred_at, time))});
  h.push_back({"content-type", "application/json"});
  h.push_back({"position", std::to_string(e.position)});
  h.push_back({"version", std::to_string(e.version)});
  return h;
}

}  // namespace tenant::consumers
