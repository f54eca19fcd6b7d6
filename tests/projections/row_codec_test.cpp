#include "row_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

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

// The stored bytes of a row do not change with the encoder's implementation (rows on disk are
// read back by every later version): the sample's encoding, byte for byte.
TEST(RowCodec, TheEncodingIsStable) {
  const auto bytes = encode_view(sample());
  std::string hex;
  for (unsigned char c : bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  EXPECT_EQ(hex,
            "010c6327746e5f30313930613562322d376333642d376534662d386139622d30633164326533"
            "663461356207030c53747261c39f6520476d624801056140622e63010c61636d652e6578616d"
            "706c65010d4575726f70652f4265726c696e010564652d4445012a010e486175707473747261"
            "c39f65203101064265726c696e010244450105313031313501156d756c74690a6c696e652000"
            "2077697468206e756c01370547726f7570074765726d616e790203f6a1d5edee66010980a0d5"
            "edee66c0bae1edee660961757468307c313233030e7061796d656e745f6661696c6564056c6f"
            "632d310103");
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
