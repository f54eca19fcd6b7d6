// The replay's parser-free envelope header scan: it must read what the codec writes and refuse
// (leaving the full parse to the codec) anything the codec would read differently or refuse.
#include "log_scan.hpp"

#include <gtest/gtest.h>

#include "keys.hpp"
#include "tenant/eventstore/codec.hpp"

namespace tenant::projections::detail {
namespace {

namespace es = eventstore;

std::string envelope() {
  es::proposed_event e;
  e.event_id = "0194c3a2-7f00-7000-8000-000000000005";
  e.type = "TenantDeactivated";
  e.schema_version = 1;
  e.occurred_at = *domain::parse_time("2026-01-15T09:35:00.123Z");
  e.data_json = R"({"reason":"closed by operator"})";
  es::event_metadata m;
  m.correlation_id = "corr-1";
  return es::codec::encode_envelope(e, "tn_a", "tn_a", 5, 45, m);
}

// The table-driven UUID parse of the replay must agree with domain::uuid::parse on every
// input: same bytes when both accept, both refuse otherwise.
TEST(ParseUuid16, AgreesWithTheDomainParse) {
  std::vector<std::string> inputs = {"0194c3a2-7f00-7000-8000-000000000005",
                                     "0194C3A2-7F00-7000-8000-00000000000F",
                                     "ffffffff-ffff-ffff-ffff-ffffffffffff",
                                     "00000000-0000-0000-0000-000000000000",
                                     "0194c3a2-7f00-7000-8000-00000000000g",
                                     "0194c3a2x7f00-7000-8000-000000000005",
                                     "0194c3a2-7f00-7000-8000-0000000000051",
                                     "0194c3a2-7f00-7000-8000-00000000000",
                                     "",
                                     "0194c3a2-7f00-7000-8000-00000000000 ",
                                     "0194c3a2-7f00-7000-8000-00000000000\xff"};
  // Every single-character change of a valid id, with characters from each class.
  const std::string base = inputs[0];
  for (std::size_t i = 0; i < base.size(); ++i)
    for (char c : {'0', '9', 'a', 'f', 'A', 'F', 'g', 'G', '-', ' ', '\0', '/', ':', '@', '`'}) {
      std::string s = base;
      s[i] = c;
      inputs.push_back(s);
    }
  for (const auto& s : inputs) {
    const auto fast = parse_uuid16(s);
    const auto slow = domain::uuid::parse(s);
    ASSERT_EQ(fast.has_value(), slow.has_value()) << s;
    if (fast) {
      EXPECT_EQ(*fast, slow->bytes) << s;
    }
  }
  EXPECT_EQ(tenant_key("tn_" + base), parse_uuid16(base));
  EXPECT_FALSE(tenant_key("tx_" + base));
  EXPECT_FALSE(tenant_key(base));
}

TEST(ScanEnvelopeHeader, ReadsWhatTheCodecWritesAndAgreesWithIt) {
  const auto json = envelope();
  es::recorded_event fast;
  ASSERT_TRUE(scan_envelope_header(json, fast)) << json;
  const auto full = es::codec::to_recorded(json);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(fast.event_id, full->event_id);
  EXPECT_EQ(fast.type, full->type);
  EXPECT_EQ(fast.schema_version, full->schema_version);
  EXPECT_EQ(fast.stream_id, full->stream_id);
  EXPECT_EQ(fast.tenant_id, full->tenant_id);
  EXPECT_EQ(fast.version, 5u);
  EXPECT_EQ(fast.position, 45u);
  EXPECT_EQ(fast.occurred_at, full->occurred_at);
}

// Each of these is refused by the scan (the codec then decides).
TEST(ScanEnvelopeHeader, RefusesWhatItCannotReadExactlyAsTheCodec) {
  const auto good = envelope();
  const auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      // Found by fuzzing (tests/fuzz/corpus/envelope_header/crash-malformed-event-id.json): an
      // event id that is no UUID, which decode_envelope refuses.
      replaced("000000000005", "00 000000005"),
      replaced(R"("version":5)", R"("version":0)"),
      replaced(R"("position":45)", R"("position":045)"),
      replaced(R"("position":45)", R"("position":12345678901234567890)"),
      replaced(R"("schema_version":1)", R"("schema_version":0)"),
      replaced(R"("schema_version":1)", R"("schema_version":70000)"),
      replaced(R"("type":"TenantDeactivated")", R"("type":"")"),
      replaced(R"("type":"TenantDeactivated")", R"("type":"Tenant\"Deactivated")"),
      replaced(R"("type":"TenantDeactivated")", "\"type\":\"Tenant\xc3\xa9\""),
      replaced(R"(,"type")", R"(,"extra":1,"type")"),
      replaced(R"("version":5,)", R"("version":5 ,)"),
      good.substr(1),
      good.substr(0, good.find(R"("data")")),
  };
  for (const auto& json : bad) {
    es::recorded_event r;
    EXPECT_FALSE(scan_envelope_header(json, r)) << json;
  }
}

}  // namespace
}  // namespace tenant::projections::detail
