// The rate limiter with a hand-driven clock: exact minute windows, tiers, TMS per-endpoint
// quotas, the rolling day, headers, memory bounds. No sleeps.
#include "tenant/api/rate_limit.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

namespace {

using namespace tenant::api;
using namespace std::chrono_literals;
using tp = std::chrono::system_clock::time_point;

struct manual_clock {
  tp now = tp(std::chrono::seconds(1'768'469'400));  // 2026-01-15T09:30:00Z
  wall_clock_fn fn() {
    return [this] { return now; };
  }
};

std::map<std::string, std::string> as_map(
    const std::vector<std::pair<std::string, std::string>>& v) {
  return {v.begin(), v.end()};
}

TEST(RateLimit, The101stCallWithinAMinuteIsRefused) {
  manual_clock c;
  rate_limiter rl(rate_limit_settings{}, c.fn());
  for (int i = 0; i < 100; ++i) {
    auto d = rl.check({"tn_a"});
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 100u);
    EXPECT_EQ(d.remaining, static_cast<std::uint32_t>(99 - i));
    c.now += 500ms;  // 100 calls spread over 50 s
  }
  c.now = tp(std::chrono::seconds(1'768'469'400)) + 59'999ms;  // still within 60 s of the first
  auto refused = rl.check({"tn_a"});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.window, rate_window::minute);
  EXPECT_EQ(refused.remaining, 0u);
  // The first call leaves the window at exactly 60 s: reset is then (rounded up to a second).
  EXPECT_EQ(refused.reset_at, tp(std::chrono::seconds(1'768'469'460)));
  EXPECT_EQ(refused.reset_after_seconds, 1u);

  // A refused call is not charged: once the first call is 60 s old there is room for one.
  c.now = tp(std::chrono::seconds(1'768'469'460));
  auto again = rl.check({"tn_a"});
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.remaining, 0u);
  EXPECT_FALSE(rl.check({"tn_a"}).allowed);
  // Another key is independent.
  EXPECT_TRUE(rl.check({"tn_b"}).allowed);
}

TEST(RateLimit, EnterpriseTierGetsAThousand) {
  manual_clock c;
  rate_limiter rl(rate_limit_settings{}, c.fn());
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(rl.check({"tn_e", true}).allowed) << i;
  auto d = rl.check({"tn_e", true});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 1000u);
  // The same key on the standard tier (a downgrade) is over its 100 at once.
  EXPECT_FALSE(rl.check({"tn_e", false}).allowed);
}

TEST(RateLimit, TmsEndpointQuotaIsPerEndpoint) {
  manual_clock c;
  rate_limiter rl(rate_limit_settings{}, c.fn());
  for (int i = 0; i < 60; ++i) {
    auto d = rl.check({"tn_t", false, "GET /v1/tenants"});
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.window, rate_window::endpoint_minute);
    EXPECT_EQ(d.limit, 60u);
  }
  auto refused = rl.check({"tn_t", false, "GET /v1/tenants"});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.window, rate_window::endpoint_minute);
  // Another endpoint still has its own 60, within the tenant's 100.
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(rl.check({"tn_t", false, "GET /v1/tenants/count"}).allowed) << i;
  auto tenant_full = rl.check({"tn_t", false, "GET /v1/tenants/count"});
  EXPECT_FALSE(tenant_full.allowed);
  EXPECT_EQ(tenant_full.window, rate_window::minute);
}

TEST(RateLimit, RollingDay) {
  manual_clock c;
  rate_limit_settings s;
  s.standard_per_minute = 1000;
  s.per_day = 50;
  rate_limiter rl(s, c.fn());
  const tp start = c.now;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(rl.check({"tn_d"}).allowed) << i;
    c.now += 10min;  // spread over 8 h 20 min
  }
  c.now = start + 23h;
  auto d = rl.check({"tn_d"});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.window, rate_window::day);
  EXPECT_EQ(d.limit, 50u);
  // The first call (at `start`) leaves the day between 24 h and 24 h + 1 min after it.
  EXPECT_GE(d.reset_at, start + 24h);
  EXPECT_LE(d.reset_at, start + 24h + 1min);
  c.now = start + 24h - 1s;
  EXPECT_FALSE(rl.check({"tn_d"}).allowed);
  c.now = start + 24h + 1min;
  EXPECT_TRUE(rl.check({"tn_d"}).allowed);
  EXPECT_FALSE(rl.check({"tn_d"}).allowed);
}

TEST(RateLimit, BindingWindowIsTheOneWithLeastLeft) {
  manual_clock c;
  rate_limit_settings s;
  s.per_day = 5;
  rate_limiter rl(s, c.fn());
  auto d = rl.check({"k"});
  EXPECT_EQ(d.window, rate_window::day);
  EXPECT_EQ(d.limit, 5u);
  EXPECT_EQ(d.remaining, 4u);
}

TEST(RateLimit, Headers) {
  manual_clock c;
  c.now += 250ms;
  rate_limiter rl(rate_limit_settings{}, c.fn());
  auto d = rl.check({"tn_h", false, "GET /v1/tenants"});
  auto h = as_map(rate_limit_headers(d));
  EXPECT_EQ(h["X-RateLimit-Limit"], "60");
  EXPECT_EQ(h["X-RateLimit-Remaining"], "59");
  // Oldest call + 60 s, rounded up to a whole second.
  EXPECT_EQ(h["X-RateLimit-Reset"], "1768469461");
  EXPECT_EQ(h["RateLimit-Policy"],
            "\"minute\";q=100;w=60, \"endpoint\";q=60;w=60, \"day\";q=10000;w=86400");
  EXPECT_EQ(h["RateLimit"], "\"endpoint\";r=59;t=61");

  auto plain = as_map(rate_limit_headers(rl.check({"tn_h"})));
  EXPECT_EQ(plain["RateLimit-Policy"], "\"minute\";q=100;w=60, \"day\";q=10000;w=86400");
  EXPECT_EQ(plain["X-RateLimit-Limit"], "100");
  EXPECT_EQ(plain["X-RateLimit-Remaining"], "98");

  rate_limit_settings tiny;
  tiny.standard_per_minute = 1;
  rate_limiter one(tiny, c.fn());
  ASSERT_TRUE(one.check({"x"}).allowed);
  c.now += 20s;
  auto refused = one.check({"x"});
  ASSERT_FALSE(refused.allowed);
  auto h429 = as_map(rate_limited_headers(refused));
  EXPECT_EQ(h429["Retry-After"], "41");
  EXPECT_EQ(h429["X-Rate-Limit-Reset"], "2026-01-15T09:31:01.0000000Z");
}

TEST(RateLimit, RoundTripFormat) {
  EXPECT_EQ(format_round_trip_utc(tp(std::chrono::seconds(1'768'469'460))),
            "2026-01-15T09:31:00.0000000Z");
  EXPECT_EQ(format_round_trip_utc(tp(std::chrono::seconds(1'768'469'460)) + 1234567us),
            "2026-01-15T09:31:01.2345670Z");
  EXPECT_EQ(format_round_trip_utc(tp{}), "1970-01-01T00:00:00.0000000Z");
}

TEST(RateLimit, MemoryPerKeyIsBoundedAndIdleKeysAreEvicted) {
  manual_clock c;
  rate_limiter rl(rate_limit_settings{}, c.fn(), 1000);
  // Hammer one key far beyond its limits for a long time: it never holds more than its quota.
  for (int i = 0; i < 20'000; ++i) {
    rl.check({"tn_m", false, "GET /v1/tenants"});
    c.now += 100ms;
  }
  // 100 timestamps (minute) + 60 (endpoint) + at most 1441 day buckets, plus bookkeeping.
  EXPECT_LT(rl.key_bytes("tn_m"), 2 * (100 + 60) * 8 + 1441 * 16 + 1024);

  for (int i = 0; i < 500; ++i)
    rl.check({"user:" + std::to_string(i)});
  EXPECT_EQ(rl.key_count(), 501u);
  c.now += 24h + 2min;
  EXPECT_EQ(rl.evict_idle(), 501u);
  EXPECT_EQ(rl.key_count(), 0u);
}

TEST(RateLimit, KeyTableIsBounded) {
  manual_clock c;
  rate_limiter rl(rate_limit_settings{}, c.fn(), 100);
  for (int i = 0; i < 1000; ++i) {
    rl.check({"user:" + std::to_string(i)});
    c.now += 1ms;
  }
  EXPECT_LE(rl.key_count(), 100u);
  // The most recent keys survive, and keep their counts.
  EXPECT_EQ(rl.check({"user:999"}).remaining, 98u);
}

}  // namespace
