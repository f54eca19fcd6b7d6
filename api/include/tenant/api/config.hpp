#pragma once
/// The one configuration of tenantd: every flag of DESIGN.md "Executables" plus the tunables of
/// the server and the domain. A plain value: built once at start-up (apps/tenantd/options.cpp
/// binds it to the command line and TENANTD_* environment variables), then shared read-only.
/// Every default documented here is the default of the matching flag.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::api {

/// Why a configuration value was refused: a message fit for the operator.
struct config_error {
  std::string message;
};

/// Lets `config_result::value()` throw (found by ADL): std::invalid_argument with the message.
[[noreturn]] inline void throw_exception_from_error(const config_error& e,
                                                    const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

/// A parse outcome: the value, or a config_error.
template <class T>
using config_result = boost::system::result<T, config_error>;

/// `--listen HOST:PORT`. HOST is an IPv4 literal, a bracketed IPv6 literal (`[::1]`) or a name
/// resolved at start-up (`localhost`). PORT 0 asks the kernel for a free port (tests).
struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  /// "127.0.0.1:8080", "[::1]:8080".
  std::string to_string() const;
  friend bool operator==(const listen_address&, const listen_address&) = default;
};
config_result<listen_address> parse_listen_address(std::string_view text);

enum class node_role : std::uint8_t {
  writer,   ///< decides commands, owns the event log
  replica,  ///< builds projections from Kafka, serves queries, refuses commands (421)
};
std::string_view to_string(node_role r);
config_result<node_role> parse_role(std::string_view text);

config_result<eventstore::durability> parse_durability(std::string_view text);
std::string_view to_string(eventstore::durability d);

enum class log_level : std::uint8_t { trace, debug, info, warn, error, off };
std::string_view to_string(log_level l);
config_result<log_level> parse_log_level(std::string_view text);

enum class log_format : std::uint8_t {
  json,  ///< one JSON object per line (default: what log shippers expect)
  text,  ///< human-readable, for a terminal
};
std::string_view to_string(log_format f);
config_result<log_format> parse_log_format(std::string_view text);

/// "on"/"off" (also true/false, yes/no, 1/0), for `--rate-limits`.
config_result<bool> parse_switch(std::string_view text);

/// "250ms", "10s", "5m", "1h"; a bare number is milliseconds. Must be > 0.
config_result<std::chrono::milliseconds> parse_duration(std::string_view text);
/// Inverse of parse_duration, picking the largest exact unit: "2s", "250ms".
std::string format_duration(std::chrono::milliseconds d);

/// A seat limit: a positive integer or "unlimited".
config_result<std::optional<std::uint32_t>> parse_seat_limit(std::string_view text);

/// Request quotas of DESIGN.md "Rate limits"; windows are sliding.
struct rate_limit_settings {
  std::uint32_t standard_per_minute = 100;     ///< starter and professional tenants
  std::uint32_t enterprise_per_minute = 1000;  ///< enterprise tenants
  std::uint32_t tms_endpoint_per_minute = 60;  ///< per endpoint on /v1 and /v0.1 routes
  std::uint32_t per_day = 10000;               ///< rolling 24 hours, every tier
  friend bool operator==(const rate_limit_settings&, const rate_limit_settings&) = default;
};

struct config {
  // ---- DESIGN.md "Executables" (contract) ----
  std::string data_dir = "./data";  ///< created at start; the event store lives in <dir>/eventstore
  listen_address listen{};          ///< default 127.0.0.1:8080
  std::string kafka_brokers;        ///< bootstrap servers; empty = start the embedded mock cluster
  std::string kafka_topic = "tenant.events";
  std::string jwt_secret;           ///< HS256 shared secret; never logged
  std::string jwt_public_key_file;  ///< RS256 PEM public key file (exclusive with jwt_secret)
  std::string tls_cert_file;        ///< PEM certificate chain; with tls_key_file serves HTTPS
  std::string tls_key_file;         ///< PEM private key
  bool rate_limits = true;          ///< `--rate-limits on|off`
  eventstore::durability durability = eventstore::durability::fsync;
  node_role role = node_role::writer;
  std::string public_base_url;  ///< base of Location and links; empty = from the Host header
  bool insecure_http = false;   ///< allow plain HTTP on a non-loopback address

  // ---- HTTP server ----
  unsigned io_threads = 0;              ///< io_context threads; 0 = one per core
  unsigned blocking_threads = 0;        ///< threads for RocksDB reads; 0 = one per core, at least 2
  std::size_t header_limit = 8 * 1024;  ///< request line + headers; larger -> 431
  std::size_t body_limit = 64 * 1024;   ///< request body; larger -> 413 PAYLOAD_TOO_LARGE
  std::chrono::milliseconds read_timeout{10'000};  ///< to receive a whole request once started
  std::chrono::milliseconds idle_timeout{60'000};  ///< keep-alive: between requests
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds shutdown_timeout{10'000};  ///< bound on draining in-flight requests
  std::chrono::milliseconds min_position_wait{2'000};  ///< X-Min-Position wait before 503
  std::string jwt_issuer;                              ///< when set, tokens must carry this `iss`
  std::string jwt_audience;                            ///< when set, tokens must carry this `aud`
  rate_limit_settings limits{};

  // ---- domain ----
  domain::plan_limits plan_limits{};  ///< seats per plan (starter 10, professional 50, unlimited)
  unsigned payment_failures_before_suspension = 3;

  // ---- Kafka consumers ----
  std::string billing_topic = "billing.events";
  std::string usage_topic = "tenant.usage";

  // ---- logging ----
  log_level level = log_level::info;
  log_format format = log_format::json;
  bool access_log = true;  ///< one JSON line per request on the "access" logger

  bool tls_enabled() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
  /// io_threads with 0 resolved to the number of cores.
  unsigned effective_io_threads() const;
  unsigned effective_blocking_threads() const;
};

/// Cross-field checks that do not touch the system (no DNS, no files): TLS cert and key come
/// together, one JWT key kind, limits positive, a well-formed public base URL. Every problem at
/// once, empty when valid. The non-loopback rule needs name resolution: server::start checks it.
std::vector<std::string> validate(const config& c);

}  // namespace tenant::api
