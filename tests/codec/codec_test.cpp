// Golden files (byte for byte) and round trips for every event type, strict decoding, snapshots.
// Set TENANT_UPDATE_GOLDEN=1 to rewrite tests/fixtures/events/<Type>.json after an intended
// change of the encoding; review the diff, it is the wire contract.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cstdlib>
#include <set>

#include "samples.hpp"
#include "tenant/domain/tenant.hpp"

namespace tenant::codec_test {
namespace {

namespace codec = eventstore::codec;

std::string type_name(const sample& s) {
  return std::string(d::to_string(d::type_of(s.event.data)));
}

TEST(Golden, SamplesCoverEveryEventType) {
  std::set<d::event_type> seen;
  for (const auto& s : samples())
    seen.insert(d::type_of(s.event.data));
  EXPECT_EQ(seen.size(), std::variant_size_v<d::event_data>);
}

TEST(Golden, EnvelopesMatchTheFixturesByteForByte) {
  const bool update = std::getenv("TENANT_UPDATE_GOLDEN") != nullptr;
  for (const auto& s : samples()) {
    const auto path = fixture_path(type_name(s) + ".json");
    const auto encoded = envelope_of(s) + "\n";
    if (update) {
      std::ofstream(path, std::ios::binary) << encoded;
      continue;
    }
    EXPECT_EQ(read_file(path), encoded) << path;
  }
}

TEST(Golden, FixturesDecodeToTheSamples) {
  for (const auto& s : samples()) {
    auto text = read_file(fixture_path(type_name(s) + ".json"));
    ASSERT_FALSE(text.empty()) << type_name(s);
    text.pop_back();  // the newline the file ends with
    const auto rec = codec::to_recorded(text);
    ASSERT_TRUE(rec) << type_name(s);
    EXPECT_EQ(rec->type, type_name(s));
    EXPECT_EQ(rec->schema_version, d::schema_version_of(d::type_of(s.event.data)));
    EXPECT_EQ(rec->stream_id, s.stream_id);
    EXPECT_EQ(rec->version, s.version);
    EXPECT_EQ(rec->position, s.position);
    EXPECT_EQ(rec->occurred_at, s.event.occurred_at);
    const auto e = codec::decode_event(*rec);
    ASSERT_TRUE(e) << type_name(s) << ": " << e.error().message();
    EXPECT_EQ(*e, s.event) << type_name(s);
  }
}

TEST(RoundTrip, DataOfEveryTypeDecodesToItself) {
  for (const auto& s : samples()) {
    const auto p = codec::to_proposed(s.event, s.event_id);
    EXPECT_EQ(p.type, type_name(s));
    EXPECT_EQ(p.event_id, s.event_id);
    EXPECT_EQ(p.occurred_at, s.event.occurred_at);
    const auto e = codec::decode_event(p.type, p.schema_version, p.data_json, p.occurred_at);
    ASSERT_TRUE(e) << p.type << ": " << p.data_json;
    EXPECT_EQ(*e, s.event) << p.type;
    // Encoding is deterministic: the same event, the same bytes.
    EXPECT_EQ(codec::encode_data(e->data), p.data_json);
  }
}

TEST(RoundTrip, ExtremeValues) {
  d::payment_failed pf{std::string(1000, 'x'), std::numeric_limits<std::int64_t>::min(), "",
                       std::string("\0\x01\x1f", 3), std::numeric_limits<std::uint32_t>::max()};
  d::plan_downgraded pd{d::plan_tier::professional, d::plan_tier::starter,
                        std::numeric_limits<std::uint32_t>::max()};
  d::tenant_created tc;
  tc.id = sample_tenant();
  tc.profile.name = "";
  tc.profile.group_id = "";
  tc.trial_ends_at = d::clock_time{};  // 1970-01-01T00:00:00.000Z
  for (const d::event_data& data : {d::event_data{pf}, d::event_data{pd}, d::event_data{tc}}) {
    const d::event ev{data, sample_time};
    const auto p = codec::to_proposed(ev, "id");
    const auto back = codec::decode_event(p.type, p.schema_version, p.data_json, p.occurred_at);
    ASSERT_TRUE(back) << p.data_json;
    EXPECT_EQ(*back, ev) << p.data_json;
  }
}

TEST(RoundTrip, IllFormedUtf8IsReplacedSoTheRecordStaysReadable) {
  const d::event ev{d::tenant_suspended{std::string("bad \xff\xc3( end \xed\xa0\x80", 15)},
                    sample_time};
  const auto p = codec::to_proposed(ev, "id");
  const auto back = codec::decode_event(p.type, p.schema_version, p.data_json, p.occurred_at);
  ASSERT_TRUE(back) << p.data_json;
  EXPECT_EQ(std::get<d::tenant_suspended>(back->data).reason,
            "bad \xef\xbf\xbd\xef\xbf\xbd( end \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(RoundTrip, EscapesAreBoostJsonsOwn) {
  const auto json = codec::encode_data(
      d::tenant_suspended{"quote\" backslash\\ nl\n nul" + std::string(1, '\0')});
  EXPECT_EQ(json, R"({"reason":"quote\" backslash\\ nl\n nul\u0000"})");
}

// Every ASCII byte at every offset of a string longer than the 16-byte blocks the escape check
// scans: the encoded string is what Boost.JSON's serializer writes for it.
TEST(RoundTrip, EveryAsciiByteAtEveryOffsetIsEscapedAsBoostJsonDoes) {
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string text(40, 'a');
      text[at] = static_cast<char>(c);
      const auto json = codec::encode_data(d::tenant_suspended{text});
      EXPECT_EQ(json,
                "{\"reason\":" +
                    boost::json::serialize(boost::json::string_view(text.data(), text.size())) +
                    "}")
          << "byte " << c << " at " << at;
    }
  }
}

// ---- strict decoding ----

struct bad_data {
  const char* type;
  const char* data;
};

class StrictDecoding : public ::testing::TestWithParam<bad_data> {};

TEST_P(StrictDecoding, Refuses) {
  const auto& c = GetParam();
  const auto type = d::parse_event_type(c.type);
  const std::uint32_t version = type ? d::schema_version_of(*type) : 1;
  const auto e = codec::decode_event(c.type, version, c.data, sample_time);
  EXPECT_FALSE(e) << c.type << " " << c.data;
  if (!e) {
    EXPECT_EQ(e.error(), eventstore::errc::invalid_argument);
  }
}

// A valid TenantUpdated v2 body, to mutate one field at a time.
#define UPDATED_PREFIX R"({"name":"Acme Corp","admin_email":null,"domain":null,)"
#define UPDATED_SUFFIX                                                                    \
  R"("address":null,"city":null,"country_code":null,"country_name":"","post_code":null,)" \
  R"("description":null,"group_id":"0","group_name":""})"

INSTANTIATE_TEST_SUITE_P(
    Data, StrictDecoding,
    ::testing::Values(
        bad_data{"TenantSuspended", ""}, bad_data{"TenantSuspended", "{"},
        bad_data{"TenantSuspended", "[]"}, bad_data{"TenantSuspended", "null"},
        bad_data{"TenantSuspended", R"({})"}, bad_data{"TenantSuspended", R"({"reason":null})"},
        bad_data{"TenantSuspended", R"({"reason":1})"},
        bad_data{"TenantSuspended", R"({"reason":"x"} trailing)"},
        bad_data{"TenantSuspended", "{\"reason\":\"\xff\"}"},  // not UTF-8
        bad_data{"NoSuchEvent", R"({"reason":"x"})"}, bad_data{"tenantsuspended", R"({})"},
        bad_data{"PlanUpgraded", R"({"from":"starter","to":"gold"})"},
        bad_data{"PlanUpgraded", R"({"from":"starter"})"},
        bad_data{"PlanDowngraded", R"({"from":"enterprise","to":"starter","max_seats":-1})"},
        bad_data{"PlanDowngraded", R"({"from":"enterprise","to":"starter","max_seats":10.0})"},
        bad_data{"PlanDowngraded", R"({"from":"enterprise","to":"starter","max_seats":"10"})"},
        bad_data{"PlanDowngraded",
                 R"({"from":"enterprise","to":"starter","max_seats":4294967296})"},
        bad_data{"PaymentFailed",
                 R"({"payment_id":"p","amount_cents":1e3,"currency":"EUR","reason":"",)"
                 R"("consecutive_failures":1})"},
        bad_data{"PaymentFailed",
                 R"({"payment_id":"p","amount_cents":9223372036854775808,"currency":"EUR",)"
                 R"("reason":"","consecutive_failures":1})"},
        bad_data{"PaymentFailed",
                 R"({"payment_id":"p","amount_cents":1,"currency":"EUR","reason":"",)"
                 R"("consecutive_failures":-1})"},
        bad_data{"PaymentSucceeded", R"({"payment_id":7,"amount_cents":1,"currency":"EUR"})"},
        bad_data{"PaymentSucceeded", R"({"payment_id":"p","amount_cents":true,"currency":"EUR"})"},
        bad_data{"TenantDeactivated", R"({"user_status":3,"reason":""})"},
        bad_data{"TenantDeactivated", R"({"user_status":"banned","reason":""})"},
        bad_data{"TenantReactivated", R"({"user_status":null,"previous_status":"none"})"},
        bad_data{"TenantReactivated", R"({"user_status":null,"previous_status":"paused"})"},
        bad_data{"UserSwitchedTenant", R"({"user_id":"u","tenant_id":"QZOpo3GoB8X"})"},
        bad_data{"UserSwitchedTenant",
                 R"({"user_id":"u","tenant_id":"tn_0194C3A2-7F00-7000-8000-00000000A11C"})"},
        bad_data{"TenantUpdated",
                 UPDATED_PREFIX R"("settings":null,)" UPDATED_SUFFIX},  // v2 needs the object
        bad_data{"TenantUpdated", UPDATED_PREFIX UPDATED_SUFFIX},
        bad_data{"TenantUpdated", UPDATED_PREFIX
                 R"("settings":{"timezone":1,"locale":null,"max_seats":null},)" UPDATED_SUFFIX},
        bad_data{"TenantUpdated", UPDATED_PREFIX
                 R"("settings":{"timezone":null,"locale":null,"max_seats":0.5},)" UPDATED_SUFFIX},
        bad_data{"TenantUpdated",
                 R"({"name":null,"admin_email":null,"domain":null,)"
                 R"("settings":{"timezone":null,"locale":null,"max_seats":null},)" UPDATED_SUFFIX},
        bad_data{
            "TenantCreated",
            R"({"id":"tn_0194c3a2-7f00-7000-8000-00000000a11c","name":"Acme Corp",)"
            R"("plan":"starter","admin_email":null,"domain":null,)"
            R"("settings":{"timezone":null,"locale":null,"max_seats":null},)" UPDATED_SUFFIX}));

TEST(StrictDecoding, AcceptsTheMutationBaseline) {
  // The valid body the cases above break one field of.
  const auto e = codec::decode_event(
      "TenantUpdated", 2,
      UPDATED_PREFIX
      R"("settings":{"timezone":null,"locale":null,"max_seats":null},)" UPDATED_SUFFIX,
      sample_time);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::get<d::tenant_updated>(e->data).profile.name, "Acme Corp");
}

TEST(StrictDecoding, UnknownFieldsAndAbsentOptionalsAreTolerated) {
  // Forward compatibility within a version: readers ignore what they do not know, and an
  // optional member that is missing reads as null.
  const auto e = codec::decode_event("PlanDowngraded", 1,
                                     R"({"to":"starter","from":"professional","note":{"x":[1,2]}})",
                                     sample_time);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::get<d::plan_downgraded>(e->data),
            (d::plan_downgraded{d::plan_tier::professional, d::plan_tier::starter, std::nullopt}));
}

TEST(StrictDecoding, VersionsOutsideTheKnownRangeAreRefused) {
  const std::string data = R"({"reason":"x"})";
  EXPECT_TRUE(codec::decode_event("TenantSuspended", 1, data, sample_time));
  EXPECT_FALSE(codec::decode_event("TenantSuspended", 0, data, sample_time));
  EXPECT_FALSE(codec::decode_event("TenantSuspended", 2, data, sample_time));  // a newer writer
}

TEST(StrictDecoding, RecordedEventWithoutDataIsRefused) {
  eventstore::recorded_event r;
  r.type = "TenantSuspended";
  r.envelope_json = R"({"type":"TenantSuspended"})";
  EXPECT_FALSE(codec::decode_event(r));
  r.envelope_json = "not json";
  EXPECT_FALSE(codec::decode_event(r));
  r.type = "Nope";
  r.envelope_json = R"({"data":{"reason":"x"}})";
  EXPECT_FALSE(codec::decode_event(r));
}

// ---- snapshots ----

d::tenant_state rich_state() {
  std::vector<d::event> h;
  for (const auto& s : samples())
    if (d::type_of(s.event.data) != d::event_type::user_switched_tenant) h.push_back(s.event);
  h.push_back({d::subscription_cancelled{"x"}, sample_time + 1h});
  h.push_back({d::payment_succeeded{"pay_999", 1, "EUR"}, sample_time + 2h});
  return d::fold(h);
}

TEST(Snapshot, StateRoundTrips) {
  const auto s = rich_state();
  ASSERT_EQ(s.status, d::tenant_status::active);
  ASSERT_TRUE(s.subscription.cancelled_at);
  ASSERT_EQ(s.seen_payment_ids.size(), 3u);
  const auto back = codec::decode_state(codec::encode_state(s));
  ASSERT_TRUE(back) << codec::encode_state(s);
  EXPECT_EQ(*back, s);
  EXPECT_EQ(codec::encode_state(*back), codec::encode_state(s));
}

TEST(Snapshot, EmptyStateRoundTrips) {
  const d::tenant_state none;
  const auto back = codec::decode_state(codec::encode_state(none));
  ASSERT_TRUE(back) << codec::encode_state(none);
  EXPECT_EQ(*back, none);
}

// The snapshot's bytes, as the Boost.JSON tree wrote them before the direct writer replaced it
// (keys in this order, no whitespace, its escaping).
TEST(Snapshot, BytesMatchTheGoldenForm) {
  EXPECT_EQ(
      codec::encode_state(rich_state()),
      R"({"format":1,"id":"tn_0194c3a2-7f00-7000-8000-00000000a11c","version":13,"status":"active)"
      R"(","profile":{"name":"Acme Corp","admin_email":null,"domain":null,"settings":{"timezone":)"
      R"(null,"locale":"de-DE","max_seats":10},"address":null,"city":null,"country_code":null,"co)"
      R"(untry_name":"","post_code":null,"description":null,"group_id":"0","group_name":""},"subs)"
      R"(cription":{"plan":"starter","status":"cancelled","trial_ends_at":"2026-01-29T09:30:00.12)"
      R"(3Z","cancelled_at":"2026-01-15T10:30:00.123Z"},"created_at":"2026-01-15T09:31:00.123Z",")"
      R"(updated_at":"2026-01-15T11:30:00.123Z","created_by":"auth0|user-1","user_status":2,"susp)"
      R"(ension_reason":"","default_location_id":"loc_0194c3a2","provisioned":true,"consecutive_p)"
      R"(ayment_failures":0,"seen_payment_ids":["pay_123","pay_124","pay_999"]})");
  EXPECT_EQ(
      codec::encode_state(d::tenant_state{}),
      R"({"format":1,"id":"","version":0,"status":"none","profile":{"name":"","admin_email":null,)"
      R"("domain":null,"settings":{"timezone":null,"locale":null,"max_seats":null},"address":null)"
      R"(,"city":null,"country_code":null,"country_name":"","post_code":null,"description":null,")"
      R"(group_id":"0","group_name":""},"subscription":{"plan":"starter","status":"trialing","tri)"
      R"(al_ends_at":"1970-01-01T00:00:00.000Z","cancelled_at":null},"created_at":"1970-01-01T00:)"
      R"(00:00.000Z","updated_at":"1970-01-01T00:00:00.000Z","created_by":"","user_status":null,")"
      R"(suspension_reason":"","default_location_id":"","provisioned":false,"consecutive_payment_)"
      R"(failures":0,"seen_payment_ids":[]})");
}

TEST(Snapshot, OtherFormatsAndWrongTypesAreRefused) {
  const auto good = codec::encode_state(rich_state());
  const auto replace = [&](const std::string& from, const std::string& to) {
    auto text = good;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  EXPECT_TRUE(codec::decode_state(good));
  EXPECT_FALSE(codec::decode_state(replace(R"("format":1)", R"("format":2)")));
  EXPECT_FALSE(codec::decode_state(replace(R"("status":"active")", R"("status":"on")")));
  EXPECT_FALSE(codec::decode_state(replace(R"("provisioned":true)", R"("provisioned":1)")));
  EXPECT_FALSE(codec::decode_state(replace(R"("status":"cancelled")", R"("status":"gone")")));
  EXPECT_FALSE(
      codec::decode_state(replace(R"("seen_payment_ids":[)", R"("seen_payment_ids":[1,)")));
  EXPECT_FALSE(codec::decode_state(replace(R"("id":"tn_)", R"("id":"xx_)")));
  EXPECT_FALSE(codec::decode_state(""));
  EXPECT_FALSE(codec::decode_state("[]"));
}

}  // namespace
}  // namespace tenant::codec_test
