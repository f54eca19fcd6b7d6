#include "tenant/api/config.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <thread>

namespace tenant::api {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

template <class Int>
std::optional<Int> to_integer(std::string_view s) {
  Int v{};
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A DNS name as accepted for --listen: letters, digits, '-', '.'; no empty label.
bool is_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.') return false;
  std::size_t label = 0;
  for (char c : h) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (++label > 63) return false;
  }
  return true;
}

}  // namespace

std::string listen_address::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

config_result<listen_address> parse_listen_address(std::string_view text) {
  const std::string expected = "expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080";
  auto fail = [&](std::string_view why) {
    return config_error{std::string(why) + " in '" + std::string(text) + "' (" + expected + ")"};
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail("unterminated '['");
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return fail("missing ':PORT'");
    port = rest.substr(1);
    if (host.find(':') == std::string_view::npos) return fail("brackets are for IPv6 literals");
    for (char c : host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return fail("invalid IPv6 literal");
    }
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing ':PORT'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("IPv6 hosts need brackets");
    if (!is_host_name(host)) return fail("invalid host");
  }
  if (host.empty()) return fail("empty host");
  auto p = to_integer<unsigned>(port);
  if (!p || *p > 65535) return fail("port must be a number from 0 to 65535");
  return listen_address{std::string(host), static_cast<std::uint16_t>(*p)};
}

std::string_view to_string(node_role r) {
  return r == node_role::replica ? "replica" : "writer";
}

config_result<node_role> parse_role(std::string_view text) {
  auto t = lower(trim(text));
  if (t == "writer") return node_role::writer;
  if (t == "replica") return node_role::replica;
  return config_error{"expected writer or replica, got '" + std::string(text) + "'"};
}

config_result<eventstore::durability> parse_durability(std::string_view text) {
  auto t = lower(trim(text));
  if (t == "fsync") return eventstore::durability::fsync;
  if (t == "os") return eventstore::durability::os;
  return config_error{"expected fsync or os, got '" + std::string(text) + "'"};
}

std::string_view to_string(eventstore::durability d) {
  return d == eventstore::durability::os ? "os" : "fsync";
}

std::string_view to_string(log_level l) {
  switch (l) {
    case log_level::trace:
      return "trace";
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
    case log_level::off:
      return "off";
  }
  return "info";
}

config_result<log_level> parse_log_level(std::string_view text) {
  auto t = lower(trim(text));
  for (auto l : {log_level::trace, log_level::debug, log_level::info, log_level::warn,
                 log_level::error, log_level::off}) {
    if (t == to_string(l)) return l;
  }
  if (t == "warning") return log_level::warn;
  return config_error{"expected trace, debug, info, warn, error or off, got '" + std::string(text) +
                      "'"};
}

std::string_view to_string(log_format f) {
  return f == log_format::text ? "text" : "json";
}

config_result<log_format> parse_log_format(std::string_view text) {
  auto t = lower(trim(text));
  if (t == "json") return log_format::json;
  if (t == "text") return log_format::text;
  return config_error{"expected json or text, got '" + std::string(text) + "'"};
}

config_result<bool> parse_switch(std::string_view text) {
  auto t = lower(trim(text));
  if (t == "on" || t == "true" || t == "yes" || t == "1") return true;
  if (t == "off" || t == "false" || t == "no" || t == "0") return false;
  return config_error{"expected on or off, got '" + std::string(text) + "'"};
}

config_result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto t = lower(trim(text));
  std::size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits])))
    ++digits;
  auto number = to_integer<std::uint64_t>(std::string_view(t).substr(0, digits));
  auto unit = std::string_view(t).substr(digits);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m" || unit == "min") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  }
  // Bound at 30 days: longer would overflow nothing, but is never what an operator meant.
  constexpr std::uint64_t max_ms = 30ULL * 24 * 3'600'000;
  if (!number || scale == 0 || *number == 0) {
    return config_error{"expected a positive duration such as 250ms, 10s, 5m or 1h, got '" +
                        std::string(text) + "'"};
  }
  if (*number > max_ms / scale)
    return config_error{"'" + std::string(text) + "' is longer than the longest duration, 720h"};
  return std::chrono::milliseconds(static_cast<std::int64_t>(*number * scale));
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

config_result<std::optional<std::uint32_t>> parse_seat_limit(std::string_view text) {
  auto t = lower(trim(text));
  if (t == "unlimited") return std::optional<std::uint32_t>{};
  auto v = to_integer<std::uint32_t>(t);
  if (!v || *v == 0) {
    return config_error{"expected a positive number of seats or 'unlimited', got '" +
                        std::string(text) + "'"};
  }
  return std::optional<std::uint32_t>{*v};
}

unsigned config::effective_io_threads() const {
  if (io_threads != 0) return io_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

unsigned config::effective_blocking_threads() const {
  if (blocking_threads != 0) return blocking_threads;
  return std::max(2u, std::thread::hardware_concurrency());
}

std::vector<std::string> validate(const config& c) {
  std::vector<std::string> errors;
  if (c.data_dir.empty()) errors.emplace_back("--data-dir must not be empty");
  if (c.tls_cert_file.empty() != c.tls_key_file.empty())
    errors.emplace_back("--tls-cert and --tls-key must be given together");
  if (!c.jwt_secret.empty() && !c.jwt_public_key_file.empty())
    errors.emplace_back("--jwt-secret and --jwt-public-key are mutually exclusive");
  if (c.kafka_topic.empty()) errors.emplace_back("--kafka-topic must not be empty");
  if (c.header_limit < 1024) errors.emplace_back("--header-limit must be at least 1024 bytes");
  if (c.body_limit == 0) errors.emplace_back("--body-limit must be positive");
  auto positive = [&](std::chrono::milliseconds d, std::string_view flag) {
    if (d.count() <= 0) errors.push_back(std::string(flag) + " must be positive");
  };
  positive(c.read_timeout, "--read-timeout");
  positive(c.idle_timeout, "--idle-timeout");
  positive(c.write_timeout, "--write-timeout");
  positive(c.shutdown_timeout, "--shutdown-timeout");
  positive(c.min_position_wait, "--min-position-wait");
  const auto& l = c.limits;
  if (l.standard_per_minute == 0 || l.enterprise_per_minute == 0 ||
      l.tms_endpoint_per_minute == 0 || l.per_day == 0) {
    errors.emplace_back("rate limits must be positive (use --rate-limits off to disable them)");
  }
  for (auto seats : {c.plan_limits.starter, c.plan_limits.professional, c.plan_limits.enterprise}) {
    if (seats && *seats == 0) {
      errors.emplace_back("plan seat limits must be positive or unlimited");
      break;
    }
  }
  if (!c.public_base_url.empty()) {
    auto u = boost::urls::parse_absolute_uri(c.public_base_url);
    bool ok = u.has_value() && (u->scheme() == "http" || u->scheme() == "https") &&
              u->has_authority() && !u->encoded_host().empty() && !u->has_query() &&
              !u->has_fragment();
    if (!ok) {
      errors.push_back("--public-base-url must be an absolute http(s) URL without query, got '" +
                       c.public_base_url + "'");
    }
  }
  return errors;
}

}  // namespace tenant::api
