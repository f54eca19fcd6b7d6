// tenantd's command line (apps/tenantd/options.cpp) and the config value parsers.
#include "tenant/api/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "options.hpp"

namespace tenant::api {
namespace {

using namespace std::chrono_literals;

// Sets environment variables for one test and restores them afterwards.
class scoped_env {
 public:
  scoped_env(std::initializer_list<std::pair<std::string, std::string>> vars) {
    for (const auto& [k, v] : vars) {
      const char* old = ::getenv(k.c_str());
      saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~scoped_env() {
    for (const auto& [k, v] : saved_) {
      if (v)
        ::setenv(k.c_str(), v->c_str(), 1);
      else
        ::unsetenv(k.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

tenantd::cli_outcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tenantd");
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  return tenantd::parse_command_line(static_cast<int>(argv.size()), argv.data());
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST(tenantd_options, defaults_are_design_md_defaults) {
  auto out = parse({});
  ASSERT_TRUE(out.config.has_value()) << out.output;
  const auto& c = *out.config;
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.listen, (listen_address{"127.0.0.1", 8080}));
  EXPECT_EQ(c.kafka_brokers, "");
  EXPECT_EQ(c.kafka_topic, "tenant.events");
  EXPECT_EQ(c.jwt_secret, "");
  EXPECT_EQ(c.jwt_public_key_file, "");
  EXPECT_FALSE(c.tls_enabled());
  EXPECT_TRUE(c.rate_limits);
  EXPECT_EQ(c.durability, eventstore::durability::fsync);
  EXPECT_EQ(c.role, node_role::writer);
  EXPECT_EQ(c.public_base_url, "");
  EXPECT_FALSE(c.insecure_http);
  EXPECT_EQ(c.body_limit, 64u * 1024);
  EXPECT_EQ(c.min_position_wait, 2s);
  EXPECT_EQ(c.payment_failures_before_suspension, 3u);
  EXPECT_EQ(c.plan_limits.starter, 10u);
  EXPECT_EQ(c.plan_limits.professional, 50u);
  EXPECT_EQ(c.plan_limits.enterprise, std::nullopt);
  EXPECT_EQ(c.limits, rate_limit_settings{});
  EXPECT_EQ(c.level, log_level::info);
  EXPECT_EQ(c.format, log_format::json);
  EXPECT_GE(c.effective_io_threads(), 1u);
  EXPECT_GE(c.effective_blocking_threads(), 2u);
}

TEST(tenantd_options, every_contract_flag_is_parsed) {
  auto out = parse({"--data-dir",
                    "/var/lib/tenantd",
                    "--listen",
                    "[::1]:9443",
                    "--kafka-brokers",
                    "k1:9092,k2:9092",
                    "--kafka-topic",
                    "t.events",
                    "--jwt-public-key",
                    "/etc/jwt.pem",
                    "--tls-cert",
                    "/etc/cert.pem",
                    "--tls-key",
                    "/etc/key.pem",
                    "--rate-limits",
                    "off",
                    "--durability",
                    "os",
                    "--role",
                    "replica",
                    "--public-base-url",
                    "https://api.example.com/tms",
                    "--insecure-http"});
  ASSERT_TRUE(out.config.has_value()) << out.output;
  const auto& c = *out.config;
  EXPECT_EQ(c.data_dir, "/var/lib/tenantd");
  EXPECT_EQ(c.listen, (listen_address{"::1", 9443}));
  EXPECT_EQ(c.kafka_brokers, "k1:9092,k2:9092");
  EXPECT_EQ(c.kafka_topic, "t.events");
  EXPECT_EQ(c.jwt_public_key_file, "/etc/jwt.pem");
  EXPECT_EQ(c.tls_cert_file, "/etc/cert.pem");
  EXPECT_EQ(c.tls_key_file, "/etc/key.pem");
  EXPECT_FALSE(c.rate_limits);
  EXPECT_EQ(c.durability, eventstore::durability::os);
  EXPECT_EQ(c.role, node_role::replica);
  EXPECT_EQ(c.public_base_url, "https://api.example.com/tms");
  EXPECT_TRUE(c.insecure_http);
}

TEST(tenantd_options, tunables_are_parsed) {
  auto out = parse({"--io-threads",
                    "3",
                    "--body-limit",
                    "1000",
                    "--header-limit",
                    "4096",
                    "--read-timeout",
                    "250ms",
                    "--idle-timeout",
                    "2m",
                    "--min-position-wait",
                    "5s",
                    "--seats-starter",
                    "5",
                    "--seats-enterprise",
                    "1000",
                    "--seats-professional",
                    "unlimited",
                    "--rate-limit-standard",
                    "7",
                    "--payment-failures-before-suspension",
                    "4",
                    "--log-level",
                    "debug",
                    "--log-format",
                    "text",
                    "--access-log",
                    "off",
                    "--jwt-secret",
                    "s3cret"});
  ASSERT_TRUE(out.config.has_value()) << out.output;
  const auto& c = *out.config;
  EXPECT_EQ(c.io_threads, 3u);
  EXPECT_EQ(c.effective_io_threads(), 3u);
  EXPECT_EQ(c.body_limit, 1000u);
  EXPECT_EQ(c.header_limit, 4096u);
  EXPECT_EQ(c.read_timeout, 250ms);
  EXPECT_EQ(c.idle_timeout, 2min);
  EXPECT_EQ(c.min_position_wait, 5s);
  EXPECT_EQ(c.plan_limits.starter, 5u);
  EXPECT_EQ(c.plan_limits.professional, std::nullopt);
  EXPECT_EQ(c.plan_limits.enterprise, 1000u);
  EXPECT_EQ(c.limits.standard_per_minute, 7u);
  EXPECT_EQ(c.payment_failures_before_suspension, 4u);
  EXPECT_EQ(c.level, log_level::debug);
  EXPECT_EQ(c.format, log_format::text);
  EXPECT_FALSE(c.access_log);
  EXPECT_EQ(c.jwt_secret, "s3cret");
}

TEST(tenantd_options, every_flag_reads_its_environment_variable) {
  scoped_env env{{"TENANTD_DATA_DIR", "/tmp/from-env"},
                 {"TENANTD_LISTEN", "127.0.0.1:0"},
                 {"TENANTD_KAFKA_BROKERS", "broker:9092"},
                 {"TENANTD_KAFKA_TOPIC", "env.topic"},
                 {"TENANTD_JWT_SECRET", "env-secret"},
                 {"TENANTD_RATE_LIMITS", "off"},
                 {"TENANTD_DURABILITY", "os"},
                 {"TENANTD_ROLE", "replica"},
                 {"TENANTD_PUBLIC_BASE_URL", "http://gw.example"},
                 {"TENANTD_INSECURE_HTTP", "true"},
                 {"TENANTD_IDLE_TIMEOUT", "30s"},
                 {"TENANTD_SEATS_STARTER", "3"}};
  auto out = parse({});
  ASSERT_TRUE(out.config.has_value()) << out.output;
  const auto& c = *out.config;
  EXPECT_EQ(c.data_dir, "/tmp/from-env");
  EXPECT_EQ(c.listen, (listen_address{"127.0.0.1", 0}));
  EXPECT_EQ(c.kafka_brokers, "broker:9092");
  EXPECT_EQ(c.kafka_topic, "env.topic");
  EXPECT_EQ(c.jwt_secret, "env-secret");
  EXPECT_FALSE(c.rate_limits);
  EXPECT_EQ(c.durability, eventstore::durability::os);
  EXPECT_EQ(c.role, node_role::replica);
  EXPECT_EQ(c.public_base_url, "http://gw.example");
  EXPECT_TRUE(c.insecure_http);
  EXPECT_EQ(c.idle_timeout, 30s);
  EXPECT_EQ(c.plan_limits.starter, 3u);
}

TEST(tenantd_options, tls_files_from_the_environment) {
  scoped_env env{{"TENANTD_TLS_CERT", "/c.pem"},
                 {"TENANTD_TLS_KEY", "/k.pem"},
                 {"TENANTD_JWT_PUBLIC_KEY", "/jwt.pem"}};
  auto out = parse({});
  ASSERT_TRUE(out.config.has_value()) << out.output;
  EXPECT_EQ(out.config->tls_cert_file, "/c.pem");
  EXPECT_EQ(out.config->tls_key_file, "/k.pem");
  EXPECT_EQ(out.config->jwt_public_key_file, "/jwt.pem");
}

TEST(tenantd_options, a_flag_wins_over_the_environment) {
  scoped_env env{{"TENANTD_DATA_DIR", "/from-env"}, {"TENANTD_LISTEN", "127.0.0.1:1"}};
  auto out = parse({"--data-dir", "/from-flag", "--listen", "localhost:2"});
  ASSERT_TRUE(out.config.has_value()) << out.output;
  EXPECT_EQ(out.config->data_dir, "/from-flag");
  EXPECT_EQ(out.config->listen, (listen_address{"localhost", 2}));
}

TEST(tenantd_options, bad_values_are_usage_errors_naming_flag_and_variable) {
  struct row {
    std::vector<std::string> args;
    std::vector<std::string> message_parts;
  };
  const std::vector<row> rows = {
      {{"--listen", "nonsense"}, {"--listen (TENANTD_LISTEN)", "HOST:PORT", "'nonsense'"}},
      {{"--listen", "127.0.0.1:99999"}, {"--listen", "port"}},
      {{"--listen", "::1:80"}, {"--listen", "brackets"}},
      {{"--durability", "sometimes"}, {"--durability (TENANTD_DURABILITY)", "fsync or os"}},
      {{"--rate-limits", "maybe"}, {"--rate-limits", "on or off"}},
      {{"--role", "leader"}, {"--role", "writer or replica"}},
      {{"--read-timeout", "0"}, {"--read-timeout", "positive duration"}},
      {{"--idle-timeout", "ten"}, {"--idle-timeout"}},
      {{"--seats-starter", "0"}, {"--seats-starter", "unlimited"}},
      {{"--log-level", "loud"}, {"--log-level"}},
      {{"--io-threads", "-1"}, {"--io-threads"}},
      {{"--body-limit", "0"}, {"--body-limit"}},
      {{"--tls-cert", "/c.pem"}, {"--tls-cert and --tls-key"}},
      {{"--jwt-secret", "s", "--jwt-public-key", "/k.pem"}, {"mutually exclusive"}},
      {{"--public-base-url", "ftp://x"}, {"--public-base-url"}},
      {{"--no-such-flag"}, {"--no-such-flag"}},
      {{"--data-dir"}, {"--data-dir"}},
  };
  for (const auto& r : rows) {
    auto out = parse(r.args);
    EXPECT_FALSE(out.config.has_value()) << r.args[0];
    EXPECT_EQ(out.exit_code, 2) << r.args[0];
    for (const auto& part : r.message_parts)
      EXPECT_TRUE(contains(out.output, part)) << r.args[0] << ": " << out.output;
    EXPECT_TRUE(contains(out.output, "--help")) << out.output;
  }
}

TEST(tenantd_options, bad_environment_values_are_reported_too) {
  scoped_env env{{"TENANTD_DURABILITY", "never"}, {"TENANTD_LISTEN", "x"}};
  auto out = parse({});
  EXPECT_FALSE(out.config.has_value());
  EXPECT_EQ(out.exit_code, 2);
  // Both at once, so the operator fixes them in one go.
  EXPECT_TRUE(contains(out.output, "TENANTD_DURABILITY")) << out.output;
  EXPECT_TRUE(contains(out.output, "TENANTD_LISTEN")) << out.output;
}

TEST(tenantd_options, help_explains_every_flag_with_defaults_and_variables) {
  auto out = parse({"--help"});
  EXPECT_FALSE(out.config.has_value());
  EXPECT_EQ(out.exit_code, 0);
  for (const char* flag :
       {"--data-dir",          "--listen",        "--kafka-brokers",
        "--kafka-topic",       "--jwt-secret",    "--jwt-public-key",
        "--tls-cert",          "--tls-key",       "--rate-limits",
        "--durability",        "--role",          "--public-base-url",
        "--insecure-http",     "--io-threads",    "--body-limit",
        "--header-limit",      "--read-timeout",  "--idle-timeout",
        "--min-position-wait", "--seats-starter", "--payment-failures-before-suspension",
        "--log-level",         "--log-format"}) {
    EXPECT_TRUE(contains(out.output, flag)) << flag;
    EXPECT_TRUE(contains(out.output, tenantd::env_name(flag))) << flag;
  }
  for (const char* def : {"./data", "127.0.0.1:8080", "tenant.events", "fsync", "writer", "65536",
                          "2s", "unlimited"}) {
    EXPECT_TRUE(contains(out.output, def)) << def << "\n" << out.output;
  }
}

TEST(tenantd_options, zero_payment_failures_turns_the_suspension_policy_off) {
  auto off = parse({"--payment-failures-before-suspension", "0"});
  ASSERT_TRUE(off.config.has_value()) << off.output;
  EXPECT_EQ(off.config->payment_failures_before_suspension, 0u);
  auto too_many = parse({"--payment-failures-before-suspension", "1001"});
  EXPECT_FALSE(too_many.config.has_value());
}

TEST(tenantd_options, env_names) {
  EXPECT_EQ(tenantd::env_name("--data-dir"), "TENANTD_DATA_DIR");
  EXPECT_EQ(tenantd::env_name("--kafka-brokers"), "TENANTD_KAFKA_BROKERS");
  EXPECT_EQ(tenantd::env_name("--insecure-http"), "TENANTD_INSECURE_HTTP");
}

TEST(config_parsers, listen_addresses) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080").value(), (listen_address{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_listen_address("localhost:0").value(), (listen_address{"localhost", 0}));
  EXPECT_EQ(parse_listen_address("[::1]:443").value(), (listen_address{"::1", 443}));
  EXPECT_EQ(parse_listen_address("0.0.0.0:65535").value(), (listen_address{"0.0.0.0", 65535}));
  for (const char* bad : {"", "8080", ":8080", "host:", "host:http", "host:65536", "[::1]",
                          "[::1]8080", "[nothost]:1", "a b:1", "::1:80", "host:-1", "[::1:80"}) {
    EXPECT_FALSE(parse_listen_address(bad).has_value()) << bad;
  }
  EXPECT_EQ((listen_address{"::1", 8080}).to_string(), "[::1]:8080");
  EXPECT_EQ((listen_address{"127.0.0.1", 80}).to_string(), "127.0.0.1:80");
}

TEST(config_parsers, durations) {
  EXPECT_EQ(parse_duration("250ms").value(), 250ms);
  EXPECT_EQ(parse_duration("10s").value(), 10s);
  EXPECT_EQ(parse_duration("5m").value(), 5min);
  EXPECT_EQ(parse_duration("1h").value(), 1h);
  EXPECT_EQ(parse_duration("1500").value(), 1500ms);
  for (const char* bad : {"", "0", "0s", "-1s", "s", "1d", "1.5s", "999999999999h"})
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  EXPECT_EQ(parse_duration("720h").value(), 720h);
  // Too long is not "not positive": the message names the bound.
  EXPECT_EQ(parse_duration("721h").error().message,
            "'721h' is longer than the longest duration, 720h");
  EXPECT_EQ(format_duration(2s), "2s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(60min), "1h");
  EXPECT_EQ(format_duration(2min), "2m");
}

TEST(config_parsers, switches_roles_seats) {
  EXPECT_EQ(parse_switch("ON").value(), true);
  EXPECT_EQ(parse_switch("off").value(), false);
  EXPECT_FALSE(parse_switch("maybe").has_value());
  EXPECT_EQ(parse_role("Replica").value(), node_role::replica);
  EXPECT_EQ(parse_seat_limit("unlimited").value(), std::nullopt);
  EXPECT_EQ(parse_seat_limit("12").value(), 12u);
  EXPECT_FALSE(parse_seat_limit("-3").has_value());
  EXPECT_FALSE(parse_seat_limit("99999999999").has_value());
}

TEST(config_validate, reports_every_problem) {
  config c;
  c.tls_key_file = "/k.pem";
  c.jwt_secret = "s";
  c.jwt_public_key_file = "/p.pem";
  c.body_limit = 0;
  c.payment_failures_before_suspension = 0;  // valid: the policy is off
  c.public_base_url = "https://x.example/?q=1";
  auto errors = validate(c);
  EXPECT_EQ(errors.size(), 4u);
  EXPECT_TRUE(validate(config{}).empty());
}

}  // namespace
}  // namespace tenant::api
