#include "tenant/domain/types.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <random>

namespace tenant::domain {
namespace {

using namespace std::chrono;

TEST(TimeFormat, FormatsUtcWithMilliseconds) {
  const clock_time t = sys_days{2026y / 1 / 15} + 9h + 30min + 123ms;
  EXPECT_EQ(format_time(t), "2026-01-15T09:30:00.123Z");
}

// format_time writes its digits in place for years 0 to 9999 (snprintf beyond): the same text as
// the printf form, over times from year 0 to past 9999 and before 1970.
TEST(TimeFormat, DigitsInPlaceEqualThePrintfForm) {
  auto printf_form = [](clock_time t) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    return std::string(buf);
  };
  std::mt19937_64 rng(9);
  const std::int64_t year_ms = 31'556'952'000;                          // a Gregorian year
  const std::int64_t from = -1'971 * year_ms, span = 10'100 * year_ms;  // year -1 to ~10 130
  for (int i = 0; i < 100'000; ++i) {
    const auto t = clock_time(
        milliseconds(from + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span))));
    ASSERT_EQ(format_time(t), printf_form(t));
  }
  for (const clock_time t :
       {clock_time{}, clock_time(milliseconds(-1)), clock_time(sys_days{0y / 1 / 1}),
        clock_time(sys_days{9999y / 12 / 31} + 86'399'999ms), clock_time(sys_days{10000y / 1 / 1})})
    EXPECT_EQ(format_time(t), printf_form(t));
}

TEST(TimeFormat, ParsesOffsetsAndFractions) {
  const clock_time t = sys_days{2026y / 1 / 15} + 9h + 30min;
  EXPECT_EQ(parse_time("2026-01-15T09:30:00Z"), t);
  EXPECT_EQ(parse_time("2026-01-15T11:30:00+02:00"), t);
  EXPECT_EQ(parse_time("2026-01-15T04:30:00.000000-05:00"), t);
  EXPECT_EQ(parse_time("2026-01-15T09:30:00.5Z"), t + 500ms);
}

// parse_time's fast path (the form format_time writes) must give what the general path gives:
// the same text with a lower-case 't' (or a "+00:00" offset) takes the general path.
TEST(TimeFormat, TheCanonicalFormAgreesWithTheGeneralPath) {
  std::mt19937_64 rng(5);
  const std::string alphabet = "0123456789-:.TZx ";
  for (int i = 0; i < 50000; ++i) {
    const auto t = clock_time(std::chrono::milliseconds(
        static_cast<std::int64_t>(rng() % 8'000'000'000'000ull) - 1'000'000'000'000));
    std::string text = format_time(t);
    ASSERT_EQ(parse_time(text), t) << text;
    // Damage up to two bytes (digits out of range, wrong separators, impossible dates).
    for (int k = static_cast<int>(rng() % 3); k > 0; --k)
      text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    if (text.size() != 24 || text[10] != 'T' || text[23] != 'Z') continue;
    std::string lower = text, offset = text;
    lower[10] = 't';
    offset.replace(23, 1, "+00:00");
    ASSERT_EQ(parse_time(text), parse_time(lower)) << text;
    ASSERT_EQ(parse_time(text), parse_time(offset)) << text;
  }
  EXPECT_FALSE(parse_time("2026-02-30T00:00:00.000Z"));
  EXPECT_FALSE(parse_time("2026-01-15T24:00:00.000Z"));
  EXPECT_EQ(parse_time("2026-01-15T23:59:60.000Z"), parse_time("2026-01-15T23:59:59.000Z"));
}

TEST(TimeFormat, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-01-15", "2026-01-15T09:30:00", "2026-02-30T00:00:00Z", "2026-01-15T24:00:00Z",
        "2026-01-15T09:30:00.Z", "2026-01-15T09:30:00+2:00", "2026-01-15T09:30:00Zjunk",
        "abcd-01-15T09:30:00Z"}) {
    EXPECT_FALSE(parse_time(bad).has_value()) << bad;
  }
}

TEST(Uuid, V7IsTimeOrderedAndVersioned) {
  const std::array<std::uint8_t, 10> r{};
  const auto a = uuid::v7(clock_time{milliseconds{1000}}, r);
  const auto b = uuid::v7(clock_time{milliseconds{1001}}, r);
  EXPECT_LT(a, b);
  EXPECT_EQ(a.to_string()[14], '7');
  EXPECT_LT(a.to_string(), b.to_string());
}

TEST(Uuid, RoundTripsAndRejectsBadText) {
  const auto u = uuid::parse("3fa85f64-5717-4562-b3fc-2c963f66afa6");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->to_string(), "3fa85f64-5717-4562-b3fc-2c963f66afa6");
  EXPECT_FALSE(uuid::parse("3fa85f64-5717-4562-b3fc-2c963f66afaZ"));
  EXPECT_FALSE(uuid::parse("3fa85f6457174562b3fc2c963f66afa6"));
}

// Every byte value at every position: accepted exactly when it is a hex digit where a digit
// goes (either case, same value) and '-' where a dash goes.
TEST(Uuid, EverySingleByteChangeIsJudgedByItsPosition) {
  const std::string good = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
  const auto base = uuid::parse(good);
  ASSERT_TRUE(base);
  for (std::size_t i = 0; i < good.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    for (int b = 0; b < 256; ++b) {
      std::string t = good;
      t[i] = static_cast<char>(b);
      const char c = static_cast<char>(b);
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      const auto u = uuid::parse(t);
      ASSERT_EQ(u.has_value(), dash ? c == '-' : hex) << i << " " << b;
      if (u && !dash) {
        const char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
        std::string want = good;
        want[i] = lower;
        EXPECT_EQ(u->to_string(), want);
      }
    }
  }
}

// Every byte at once: random ids survive printing (lower case) and upper-casing.
TEST(Uuid, RandomIdsRoundTripInBothCases) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uuid u;
    for (auto& b : u.bytes)
      b = static_cast<std::uint8_t>(rng());
    std::string text = u.to_string();
    auto back = uuid::parse(text);
    ASSERT_TRUE(back) << text;
    ASSERT_EQ(back->bytes, u.bytes) << text;
    for (auto& c : text)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    back = uuid::parse(text);
    ASSERT_TRUE(back) << text;
    ASSERT_EQ(back->bytes, u.bytes) << text;
  }
}

TEST(Uuid, DerivedIsStableAndDistinct) {
  EXPECT_EQ(uuid::derived("key-1"), uuid::derived("key-1"));
  EXPECT_NE(uuid::derived("key-1"), uuid::derived("key-2"));
  EXPECT_EQ(uuid::derived("x").to_string()[14], '8');
}

TEST(TenantId, ParsesOnlyPrefixedUuids) {
  const auto id = tenant_id::parse("tn_3FA85F64-5717-4562-B3FC-2C963F66AFA6");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->str(), "tn_3fa85f64-5717-4562-b3fc-2c963f66afa6");
  EXPECT_FALSE(tenant_id::parse("3fa85f64-5717-4562-b3fc-2c963f66afa6"));
  EXPECT_FALSE(tenant_id::parse("tn_nope"));
  EXPECT_FALSE(tenant_id::parse("QZOpo3GoB8X"));
}

TEST(TenantId, CanonicalTextIsKeptAndAnyUppercaseDigitIsLowered) {
  // The lowercase form is the id as is; one uppercase hex digit anywhere lowers all of it.
  const std::string canonical = "tn_3fa85f64-5717-4562-b3fc-2c963f66afa6";
  EXPECT_EQ(tenant_id::parse(canonical)->str(), canonical);
  EXPECT_EQ(tenant_id::parse("tn_3fa85f64-5717-4562-b3fc-2c963f66afaA")->str(),
            "tn_3fa85f64-5717-4562-b3fc-2c963f66afaa");
  EXPECT_EQ(tenant_id::parse("tn_Bfa85f64-5717-4562-b3fc-2c963f66afa6")->str(),
            "tn_bfa85f64-5717-4562-b3fc-2c963f66afa6");
  // Not hex, or a misplaced dash: refused on either path.
  EXPECT_FALSE(tenant_id::parse("tn_3fa85f64-5717-4562-b3fc-2c963f66afag"));
  EXPECT_FALSE(tenant_id::parse("tn_3fa85f64-5717-4562-b3fc2-c963f66afa6"));
  EXPECT_FALSE(tenant_id::parse("TN_3fa85f64-5717-4562-b3fc-2c963f66afa6"));
}

TEST(Plans, AreOrderedAndLimited) {
  EXPECT_LT(plan_tier::starter, plan_tier::professional);
  EXPECT_LT(plan_tier::professional, plan_tier::enterprise);
  const plan_limits limits;
  EXPECT_EQ(limits.seat_limit(plan_tier::starter), 10u);
  EXPECT_EQ(limits.seat_limit(plan_tier::professional), 50u);
  EXPECT_FALSE(limits.seat_limit(plan_tier::enterprise).has_value());
  EXPECT_EQ(parse_plan("professional"), plan_tier::professional);
  EXPECT_FALSE(parse_plan("Professional"));
}

}  // namespace
}  // namespace tenant::domain
