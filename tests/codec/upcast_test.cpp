// Upcasters: envelopes written under an older schema version decode as the current version.
// tests/fixtures/events/v<N>/<Type>.json are envelopes as a version-N writer wrote them; they
// never change (the log is immutable), only the code that reads them does.
#include <gtest/gtest.h>

#include "samples.hpp"

namespace tenant::codec_test {
namespace {

namespace codec = eventstore::codec;

const sample& sample_of(d::event_type t) {
  static const auto all = samples();
  for (const auto& s : all)
    if (d::type_of(s.event.data) == t) return s;
  throw std::logic_error("no sample");
}

std::string fixture(const std::string& relative) {
  auto text = read_file(fixture_path(relative));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// Every older version of every type has a fixture, and it reads as the current sample: a
// version bump without an upcaster (or without a fixture) fails here.
TEST(Upcast, EveryOlderVersionOfEveryTypeReadsAsTheCurrentOne) {
  int checked = 0;
  for (std::uint16_t n = 1; n <= std::variant_size_v<d::event_data>; ++n) {
    const auto type = static_cast<d::event_type>(n);
    for (std::uint32_t v = 1; v < d::schema_version_of(type); ++v) {
      const auto name = "v" + std::to_string(v) + "/" + std::string(d::to_string(type)) + ".json";
      const auto text = fixture(name);
      ASSERT_FALSE(text.empty()) << "missing fixture " << name;
      const auto rec = codec::to_recorded(text);
      ASSERT_TRUE(rec) << name;
      EXPECT_EQ(rec->schema_version, v) << name;
      const auto e = codec::decode_event(*rec);
      ASSERT_TRUE(e) << name;
      EXPECT_EQ(*e, sample_of(type).event) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);  // TenantCreated v1, TenantUpdated v1
}

TEST(Upcast, FlatSettingsAreNestedAndMissingOnesAreNull) {
  const auto e = codec::decode_event(
      "TenantUpdated", 1,
      R"({"name":"Acme Corp","admin_email":null,"domain":null,"max_seats":7,"address":null,)"
      R"("city":null,"country_code":null,"country_name":"","post_code":null,)"
      R"("description":null,"group_id":"0","group_name":""})",
      sample_time);
  ASSERT_TRUE(e);
  const auto& settings = std::get<d::tenant_updated>(e->data).profile.settings;
  EXPECT_EQ(settings.max_seats, 7u);
  EXPECT_FALSE(settings.timezone);
  EXPECT_FALSE(settings.locale);
}

TEST(Upcast, MalformedOldDataIsRefused) {
  // Already nested: not what a v1 writer produced.
  auto v2_data = codec::encode_data(sample_of(d::event_type::tenant_updated).event.data);
  EXPECT_FALSE(codec::decode_event("TenantUpdated", 1, v2_data, sample_time));
  EXPECT_FALSE(codec::decode_event("TenantUpdated", 1, "[]", sample_time));
  EXPECT_FALSE(codec::decode_event("TenantUpdated", 1, "{", sample_time));
  EXPECT_FALSE(codec::decode_event("TenantUpdated", 1, "{\"name\":\"\xff\"}", sample_time));
  // Nested too deep for the upcaster's parser: an error, not a stack overflow.
  EXPECT_FALSE(codec::decode_event(
      "TenantCreated", 1, std::string(100000, '[') + std::string(100000, ']'), sample_time));
  // The flat fields keep their types through the rewrite, and the strict reader checks them.
  EXPECT_FALSE(codec::decode_event(
      "TenantUpdated", 1,
      R"({"name":"Acme Corp","admin_email":null,"domain":null,"max_seats":"7","address":null,)"
      R"("city":null,"country_code":null,"country_name":"","post_code":null,)"
      R"("description":null,"group_id":"0","group_name":""})",
      sample_time));
}

}  // namespace
}  // namespace tenant::codec_test
