#include "options.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <deque>
#include <functional>
#include <vector>

namespace tenantd {

namespace api = tenant::api;

std::string env_name(std::string_view flag) {
  while (!flag.empty() && flag.front() == '-')
    flag.remove_prefix(1);
  std::string out = "TENANTD_";
  for (char c : flag)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {

// Text values converted after CLI11 has parsed (so that the error names the flag and its
// environment variable, and every bad value is reported at once).
struct deferred {
  std::string flag;
  std::string text;
  std::function<std::optional<std::string>(const std::string&)> apply;  // error or nullopt
};

template <class T, class Parse>
std::function<std::optional<std::string>(const std::string&)> into(T& target, Parse parse) {
  return [&target, parse](const std::string& text) -> std::optional<std::string> {
    auto r = parse(text);
    if (!r) return r.error().message;
    target = *r;
    return std::nullopt;
  };
}

std::string seats_text(const std::optional<std::uint32_t>& s) {
  return s ? std::to_string(*s) : "unlimited";
}

}  // namespace

cli_outcome parse_command_line(int argc, const char* const* argv) {
  api::config cfg;
  CLI::App app{
      "tenantd: the event-sourced tenant service. Serves the Tenant API (/api/v1) and the "
      "TMS-compatible API (/v1, /v0.1) over HTTP(S), stores events in RocksDB under --data-dir "
      "and publishes them to Kafka.\n\nEvery flag can also be set with the environment variable "
      "shown as Env; a flag on the command line wins.",
      "tenantd"};
  app.get_formatter()->column_width(44);
  std::deque<deferred> later;  // a deque: options keep pointers to its elements

  auto text = [&](const std::string& flag, std::string& target, const std::string& help,
                  const std::string& group) {
    return app.add_option(flag, target, help)
        ->envname(env_name(flag))
        ->default_str(target)
        ->group(group);
  };
  // A value converted after parsing; `shown` is the default as the flag would spell it.
  auto converted = [&](const std::string& flag, const std::string& help, std::string shown,
                       std::function<std::optional<std::string>(const std::string&)> apply,
                       const std::string& group, const std::string& type_name) {
    later.push_back({flag, shown, std::move(apply)});
    return app.add_option(flag, later.back().text, help)
        ->envname(env_name(flag))
        ->default_str(shown)
        ->type_name(type_name)
        ->group(group);
  };

  const std::string core = "Service (DESIGN.md contract)";
  const std::string tune = "HTTP server tunables";
  const std::string dom = "Domain and Kafka";
  const std::string logs = "Logging";

  // ---- the contract flags ----
  text("--data-dir", cfg.data_dir,
       "Directory for all state; created if missing. The event log is <dir>/eventstore.", core)
      ->type_name("DIR");
  converted("--listen",
            "Address to serve HTTP(S) on: HOST:PORT, [IPv6]:PORT; port 0 = any free "
            "port. Non-loopback addresses need TLS (or --insecure-http).",
            cfg.listen.to_string(), into(cfg.listen, api::parse_listen_address), core, "HOST:PORT");
  text("--kafka-brokers", cfg.kafka_brokers,
       "Kafka bootstrap servers (host:port,...). Empty: start an embedded in-process broker on "
       "loopback and log its address.",
       core)
      ->type_name("LIST");
  text("--kafka-topic", cfg.kafka_topic, "Topic the domain events are published to.", core)
      ->type_name("TOPIC");
  text("--jwt-secret", cfg.jwt_secret,
       "HS256 secret for bearer tokens (prefer the env variable: argv is visible to other "
       "users). With no JWT key at all, a development secret is generated and an admin token "
       "printed.",
       core)
      ->type_name("SECRET")
      ->default_str("");
  text("--jwt-public-key", cfg.jwt_public_key_file,
       "PEM file with the RS256 public key for bearer tokens (instead of --jwt-secret).", core)
      ->type_name("PEM");
  text("--tls-cert", cfg.tls_cert_file, "PEM certificate chain: serve HTTPS (TLS 1.2+).", core)
      ->type_name("FILE");
  text("--tls-key", cfg.tls_key_file, "PEM private key of --tls-cert.", core)->type_name("FILE");
  converted("--rate-limits", "Per-tenant rate limits: on, or off (benchmarks).",
            cfg.rate_limits ? "on" : "off", into(cfg.rate_limits, api::parse_switch), core,
            "on|off");
  converted("--durability",
            "fsync: acknowledge an append after the WAL is synced; os: after the OS has it "
            "(survives a process crash, not a power loss).",
            std::string(api::to_string(cfg.durability)),
            into(cfg.durability, api::parse_durability), core, "fsync|os");
  converted("--role",
            "writer: decide commands and own the event log; replica: build projections from "
            "Kafka and serve queries only (commands answer 421 NOT_WRITER).",
            std::string(api::to_string(cfg.role)), into(cfg.role, api::parse_role), core,
            "writer|replica");
  text("--public-base-url", cfg.public_base_url,
       "External base URL for Location headers and pagination links (behind a gateway). "
       "Empty: derived from each request's Host header.",
       core)
      ->type_name("URL");
  app.add_flag("--insecure-http", cfg.insecure_http,
               "Allow plain HTTP on a non-loopback address (a TLS-terminating proxy in front).")
      ->envname(env_name("--insecure-http"))
      ->group(core);

  // ---- server tunables ----
  app.add_option("--io-threads", cfg.io_threads,
                 "Threads running the HTTP io_context; 0 = one per core.")
      ->envname(env_name("--io-threads"))
      ->default_str(std::to_string(cfg.io_threads))
      ->check(CLI::Range(0u, 1024u))
      ->type_name("N")
      ->group(tune);
  app.add_option("--blocking-threads", cfg.blocking_threads,
                 "Threads for blocking storage reads; 0 = one per core, at least 2.")
      ->envname(env_name("--blocking-threads"))
      ->default_str(std::to_string(cfg.blocking_threads))
      ->check(CLI::Range(0u, 1024u))
      ->type_name("N")
      ->group(tune);
  app.add_option("--header-limit", cfg.header_limit,
                 "Largest request line + headers in bytes; larger requests get 431.")
      ->envname(env_name("--header-limit"))
      ->default_str(std::to_string(cfg.header_limit))
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 20))
      ->type_name("BYTES")
      ->group(tune);
  app.add_option("--body-limit", cfg.body_limit,
                 "Largest request body in bytes; larger bodies get 413 PAYLOAD_TOO_LARGE.")
      ->envname(env_name("--body-limit"))
      ->default_str(std::to_string(cfg.body_limit))
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} << 20))
      ->type_name("BYTES")
      ->group(tune);
  auto duration = [&](const std::string& flag, std::chrono::milliseconds& target,
                      const std::string& help) {
    converted(flag, help, api::format_duration(target), into(target, api::parse_duration), tune,
              "DURATION");
  };
  duration("--read-timeout", cfg.read_timeout,
           "Time allowed to receive a whole request once it started (250ms, 10s, 1m).");
  duration("--idle-timeout", cfg.idle_timeout, "Keep-alive connections idle longer are closed.");
  duration("--write-timeout", cfg.write_timeout, "Time allowed to send one response.");
  duration("--shutdown-timeout", cfg.shutdown_timeout,
           "On SIGINT/SIGTERM, how long in-flight requests may take before they are cut.");
  duration("--min-position-wait", cfg.min_position_wait,
           "Longest wait of a query with X-Min-Position for projections to catch up (then "
           "503).");
  text("--jwt-issuer", cfg.jwt_issuer, "Required `iss` claim of bearer tokens (empty: any).", tune)
      ->type_name("ISS");
  text("--jwt-audience", cfg.jwt_audience, "Required `aud` claim of bearer tokens (empty: any).",
       tune)
      ->type_name("AUD");
  auto quota = [&](const std::string& flag, std::uint32_t& target, const std::string& help) {
    app.add_option(flag, target, help)
        ->envname(env_name(flag))
        ->default_str(std::to_string(target))
        ->check(CLI::Range(1u, 100'000'000u))
        ->type_name("N")
        ->group(tune);
  };
  quota("--rate-limit-standard", cfg.limits.standard_per_minute,
        "Requests per minute per starter/professional tenant.");
  quota("--rate-limit-enterprise", cfg.limits.enterprise_per_minute,
        "Requests per minute per enterprise tenant.");
  quota("--rate-limit-tms", cfg.limits.tms_endpoint_per_minute,
        "Requests per minute per tenant and endpoint on the TMS routes (/v1, /v0.1).");
  quota("--rate-limit-daily", cfg.limits.per_day, "Requests per rolling 24 hours per tenant.");

  // ---- domain and Kafka ----
  auto seats = [&](const std::string& flag, std::optional<std::uint32_t>& target,
                   const std::string& plan) {
    converted(flag, "Seat limit of the " + plan + " plan: a number or unlimited.",
              seats_text(target), into(target, api::parse_seat_limit), dom, "N|unlimited");
  };
  seats("--seats-starter", cfg.plan_limits.starter, "starter");
  seats("--seats-professional", cfg.plan_limits.professional, "professional");
  seats("--seats-enterprise", cfg.plan_limits.enterprise, "enterprise");
  app.add_option("--payment-failures-before-suspension", cfg.payment_failures_before_suspension,
                 "Consecutive failed payments that suspend a tenant; 0: never suspend for "
                 "failed payments.")
      ->envname(env_name("--payment-failures-before-suspension"))
      ->default_str(std::to_string(cfg.payment_failures_before_suspension))
      ->check(CLI::Range(0u, 1000u))
      ->type_name("N")
      ->group(dom);
  text("--billing-topic", cfg.billing_topic, "Inbound topic of payment and cancellation events.",
       dom)
      ->type_name("TOPIC");
  text("--usage-topic", cfg.usage_topic, "Inbound topic of seat and storage usage.", dom)
      ->type_name("TOPIC");

  // ---- logging ----
  converted("--log-level", "trace, debug, info, warn, error or off.",
            std::string(api::to_string(cfg.level)), into(cfg.level, api::parse_log_level), logs,
            "LEVEL");
  converted("--log-format", "json (one object per line) or text (for a terminal).",
            std::string(api::to_string(cfg.format)), into(cfg.format, api::parse_log_format), logs,
            "json|text");
  converted("--access-log",
            "One JSON line per request on stderr, whatever --log-level says: on or off.",
            cfg.access_log ? "on" : "off", into(cfg.access_log, api::parse_switch), logs, "on|off");

  cli_outcome out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.output = app.help();
    out.exit_code = 0;
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.output = app.help("", CLI::AppFormatMode::All);
    out.exit_code = 0;
    return out;
  } catch (const CLI::ParseError& e) {
    out.output = std::string("tenantd: ") + e.what() + "\nRun 'tenantd --help' for the flags.";
    out.exit_code = 2;
    return out;
  }

  std::vector<std::string> errors;
  for (auto& d : later) {
    if (auto err = d.apply(d.text)) {
      errors.push_back(d.flag + " (" + env_name(d.flag) + "): " + *err);
    }
  }
  if (errors.empty()) {
    for (auto& e : api::validate(cfg))
      errors.push_back(std::move(e));
  }
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors)
      msg += "tenantd: " + e + "\n";
    msg += "Run 'tenantd --help' for the flags.";
    out.output = std::move(msg);
    out.exit_code = 2;
    return out;
  }
  out.config = std::move(cfg);
  return out;
}

}  // namespace tenantd
