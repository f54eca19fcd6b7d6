#include "row_codec.hpp"

#include <gtest/gtest.h>

#include <random>

namespace tenant::projections::detail {
namespace {

tenant_view sample() {
  tenant_view v;
  auto& s = v.state;
  s.id = *domain::tenant_id::parse("tn_0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
  s.version = domain::stream_version{7};
  s.status = domain::tenant_status::suspended;
  s.profile.name = "Straße GmbH";
  s.profile.admin_email = "a@b.c";
  s.profile.domain = "acme.example";
  s.profile.settings = {"Europe/Berlin", "de-DE", 42};
  s.profile.address = "Hauptstraße 1";
  s.profile.city = "Berlin";
  s.profile.country_code = "DE";
  s.profile.post_code = "10115";
  s.profile.description = std::string("multi\nline \0 with nul", 21);
  s.profile.group_id = "7";
  s.profile.group_name = "Group";
  s.country_name = "Germany";
  s.subscription = {domain::plan_tier::professional, domain::subscription_status::past_due,
                    domain::clock_time(std::chrono::milliseconds(1'767'225'600'123)),
                    domain::clock_time(std::chrono::milliseconds(-5))};
  s.created_at = domain::clock_time(std::chrono::milliseconds(1'767'225'600'000));
  s.updated_at = domain::clock_time(std::chrono::milliseconds(1'767'225'700'000));
  s.created_by = domain::user_id("auth0|123");
  s.users = domain::user_status::banned;
  s.suspension_reason = "payment_failed";
  s.default_location_id = "loc-1";
  s.provisioned = true;
  s.consecutive_payment_failures = 3;
  v.created_position = 12;
  v.last_position = 99;
  return v;
}

TEST(RowCodec, RoundTripsEveryField) {
  const auto v = sample();
  const auto bytes = encode_view(v);
  const auto back = decode_view(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, v);

  tenant_view empty;
  EXPECT_EQ(*decode_view(encode_view(empty)), empty);
}

TEST(RowCodec, RejectsTruncatedAndGarbageWithoutCrashing) {
  const auto bytes = encode_view(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_view(std::string_view(bytes).substr(0, n))) << n;
  EXPECT_FALSE(decode_view(bytes + "x"));
  std::mt19937 rng(1);
  for (int i = 0; i < 5000; ++i) {
    std::string junk = bytes;
    junk[rng() % junk.size()] = static_cast<char>(rng());
    (void)decode_view(junk);  // any outcome but a crash
    std::string random(rng() % 64, '\0');
    for (auto& c : random)
      c = static_cast<char>(rng());
    (void)decode_view(random);
  }
}

}  // namespace
}  // namespace tenant::projections::detail
