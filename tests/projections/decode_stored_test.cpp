// The replay's one-pass decoder (decode_stored) against the codec, the reference: on every event
// type, with Unicode, escapes and nulls, it must decode exactly what the codec decodes; whatever
// it accepts (including single-byte corruptions of real envelopes) the codec accepts with the
// same result; older schemas and foreign layouts are left to the codec. And the replay's
// domain::apply_in_place taking the event equals domain::evolve.
#include <gtest/gtest.h>

#include <random>

#include "fold.hpp"
#include "keys.hpp"
#include "log_scan.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"

namespace tenant::projections::detail {
namespace {

namespace es = eventstore;
using namespace tenant::domain;

const std::vector<std::string> texts = {
    "Acme Corporation",
    "Zürich Café München",
    "ΣΊΣΥΦΟΣ straße İstanbul",
    "rocket 🚀 launch",
    "quote \" backslash \\ slash / newline \n tab \t",
    "control \x01 char",
    "x",
    "",
    "a much longer description with several words: cloud analytics retail logistics health"};

struct gen {
  std::mt19937_64 rng;
  explicit gen(std::uint64_t seed) : rng(seed) {}

  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng() % n); }
  std::string text() { return texts[pick(texts.size())]; }
  std::optional<std::string> opt() {
    if (pick(4) == 0) return std::nullopt;
    return text();
  }
  plan_tier plan() { return static_cast<plan_tier>(1 + pick(3)); }
  uuid id() {
    uuid u;
    for (auto& b : u.bytes)
      b = static_cast<std::uint8_t>(rng());
    return u;
  }
  tenant_profile profile() {
    tenant_profile p;
    p.name = text();
    p.admin_email = opt();
    p.domain = opt();
    p.settings.timezone = opt();
    p.settings.locale = opt();
    if (pick(3) != 0) p.settings.max_seats = static_cast<std::uint32_t>(rng());
    p.address = opt();
    p.city = opt();
    p.country_code = opt();
    p.post_code = opt();
    p.description = opt();
    p.group_id = std::to_string(pick(1000));
    p.group_name = text();
    return p;
  }
  std::optional<user_status> users() {
    if (pick(4) == 0) return std::nullopt;
    return static_cast<user_status>(pick(3));
  }
  event_data data(int type) {
    switch (type) {
      case 0:
        return tenant_created{tenant_id::from_uuid(id()),
                              profile(),
                              text(),
                              plan(),
                              clock_time(std::chrono::milliseconds(rng() % 4'000'000'000'000)),
                              user_id(text())};
      case 1:
        return tenant_provisioned{text()};
      case 2:
        return tenant_updated{profile(), text()};
      case 3:
        return tenant_suspended{text()};
      case 4:
        return tenant_deactivated{users(), text()};
      case 5:
        return tenant_reactivated{users(), static_cast<tenant_status>(1 + pick(4))};
      case 6:
        return plan_upgraded{plan(), plan()};
      case 7: {
        plan_downgraded e{plan(), plan(), std::nullopt};
        if (pick(2)) e.max_seats = static_cast<std::uint32_t>(pick(100));
        return e;
      }
      case 8:
        return payment_failed{text(), static_cast<std::int64_t>(rng()), text(), text(),
                              static_cast<std::uint32_t>(pick(10))};
      case 9:
        return payment_succeeded{text(), -static_cast<std::int64_t>(pick(100000)), text()};
      case 10:
        return subscription_cancelled{text()};
      default:
        return user_switched_tenant{user_id(text()), tenant_id::from_uuid(id())};
    }
  }
  event any() {
    return event{data(static_cast<int>(pick(12))),
                 clock_time(std::chrono::milliseconds(rng() % 4'000'000'000'000))};
  }
};

std::string envelope_of(const event& e, std::uint64_t position, const std::string& stream) {
  auto p = es::codec::to_proposed(e, uuid::derived("ev" + std::to_string(position)).to_string());
  es::event_metadata m;
  m.correlation_id = "corr-" + std::to_string(position);
  m.actor = "user \"x\" ü";
  return es::codec::encode_envelope(p, stream, stream, 1 + position % 7, position, m);
}

std::string stream_of(const event& e, gen& g) {
  if (std::holds_alternative<user_switched_tenant>(e.data)) return "user-" + g.text();
  if (const auto* c = std::get_if<tenant_created>(&e.data)) return c->id.str();
  return tenant_id::from_uuid(g.id()).str();
}

// What the replay made of an envelope before decode_stored: the codec's reading.
std::optional<decoded_event> reference(std::string_view json) {
  auto r = es::codec::to_recorded(json);
  if (!r) return std::nullopt;
  decoded_event d;
  if (decode_into(*r, true, d)) return std::nullopt;
  return d;
}

void expect_same(const decoded_event& a, const decoded_event& b, const std::string& json) {
  EXPECT_EQ(a.position, b.position) << json;
  EXPECT_EQ(a.version, b.version) << json;
  EXPECT_EQ(a.tenant, b.tenant) << json;
  EXPECT_TRUE(a.event == b.event) << json;
  EXPECT_EQ(a.text, b.text) << json;
}

TEST(DecodeStored, DecodesEveryEventTypeExactlyAsTheCodec) {
  gen g(7);
  int taken[12] = {};
  for (std::uint64_t i = 1; i <= 3'000; ++i) {
    const event e{g.data(static_cast<int>(i % 12)), g.any().occurred_at};
    const auto json = envelope_of(e, i, stream_of(e, g));
    decoded_event fast;
    ASSERT_TRUE(decode_stored(json, true, fast)) << json;
    const auto ref = reference(json);
    ASSERT_TRUE(ref.has_value()) << json;
    expect_same(fast, *ref, json);
    EXPECT_TRUE(fast.event == e) << json;
    EXPECT_EQ(fast.version, 1 + i % 7) << json;
    ++taken[i % 12];
  }
  for (int n : taken)
    EXPECT_GT(n, 0);
}

// Whatever decode_stored accepts, the codec accepts and reads the same way; over every
// single-byte deletion and a few replacements at every offset of real envelopes.
TEST(DecodeStored, AcceptsNothingTheCodecReadsDifferently) {
  gen g(11);
  std::size_t accepted = 0, refused = 0;
  for (std::uint64_t i = 1; i <= 24; ++i) {
    const event e{g.data(static_cast<int>(i % 12)), g.any().occurred_at};
    const auto json = envelope_of(e, i, stream_of(e, g));
    std::vector<std::string> variants;
    for (std::size_t k = 0; k < json.size(); ++k) {
      variants.push_back(json.substr(0, k) + json.substr(k + 1));
      for (char c : {'"', '1', 'n', ',', '}', '\\', 'X', ' '}) {
        std::string v = json;
        v[k] = c;
        variants.push_back(v);
      }
    }
    for (const auto& v : variants) {
      decoded_event fast;
      if (!decode_stored(v, true, fast)) {
        ++refused;
        continue;
      }
      ++accepted;
      const auto ref = reference(v);
      ASSERT_TRUE(ref.has_value()) << v;
      expect_same(fast, *ref, v);
    }
  }
  EXPECT_GT(accepted, 0u);  // e.g. a changed letter inside a string
  EXPECT_GT(refused, 0u);
}

// A TenantSuspended envelope up to its `data` (schema 1, position 9).
const std::string suspended_head =
    R"({"event_id":"0194c3a2-7f00-7000-8000-000000000005","type":"TenantSuspended",)"
    R"("schema_version":1,"stream_id":"tn_0194c3a2-7f00-7000-8000-000000000005",)"
    R"("tenant_id":"tn_0194c3a2-7f00-7000-8000-000000000005","version":2,"position":9,)"
    R"("occurred_at":"2026-01-15T09:35:00.123Z",)";

// The two readers behind decode_stored: whatever the exact reader accepts, the On-Demand reader
// accepts and decodes the same way, on every event type and on damaged envelopes (deletions and
// replacements at every offset); and the exact reader does take the encoder's own output when it
// holds no escape (it is the replay's fast path, not a reader that never answers).
TEST(DecodeStored, TheExactReaderAgreesWithOnDemand) {
  gen g(13);
  std::size_t exact_taken = 0, plain = 0, compared = 0;
  auto compare = [&](const std::string& json) {
    decoded_event a, b;
    if (!decode_exact(json, a)) return false;
    ++compared;
    EXPECT_TRUE(decode_on_demand(json, b)) << json;
    EXPECT_EQ(a.position, b.position) << json;
    EXPECT_EQ(a.version, b.version) << json;
    EXPECT_EQ(a.tenant, b.tenant) << json;
    EXPECT_TRUE(a.event == b.event) << json;
    return true;
  };
  for (std::uint64_t i = 1; i <= 3'000; ++i) {
    const event e{g.data(static_cast<int>(i % 12)), g.any().occurred_at};
    const auto json = envelope_of(e, i, stream_of(e, g));
    if (compare(json)) ++exact_taken;
    // The metadata's actor holds a quote (envelope_of): with it replaced, an envelope without
    // escapes anywhere must take the exact path.
    auto unescaped = json;
    const auto at = unescaped.find(R"(user \"x\" ü)");
    ASSERT_NE(at, std::string::npos);
    unescaped.replace(at, 13, "user x ü");
    if (unescaped.find('\\') == std::string::npos) {
      ++plain;
      decoded_event d;
      EXPECT_TRUE(decode_exact(unescaped, d)) << unescaped;
      compare(unescaped);
    }
  }
  EXPECT_GT(plain, 300u);
  for (std::uint64_t i = 1; i <= 24; ++i) {
    const event e{g.data(static_cast<int>(i % 12)), g.any().occurred_at};
    auto json = envelope_of(e, i, stream_of(e, g));
    json.replace(json.find(R"(user \"x\" ü)"), 13, "user x ü");
    for (std::size_t k = 0; k < json.size(); ++k) {
      compare(json.substr(0, k) + json.substr(k + 1));
      for (char c : {'"', '0', '1', '-', 'n', ',', ':', '{', '}', '\\', 'X', ' ', '\x01'}) {
        std::string v = json;
        v[k] = c;
        compare(v);
      }
    }
  }
  EXPECT_GT(compared, exact_taken);
}

// Forms the exact reader leaves to On-Demand, which decides: whitespace, escapes, numbers with
// a leading zero, a fraction, an exponent or past 64 bits, invalid UTF-8, control characters.
TEST(DecodeStored, TheExactReaderLeavesOtherFormsToOnDemand) {
  const std::string head = suspended_head;
  const std::string meta = R"("metadata":{"correlation_id":"c","actor":"a"}})";
  decoded_event d;
  const std::string plain = head + R"("data":{"reason":"r"},)" + meta;
  ASSERT_TRUE(decode_exact(plain, d));
  EXPECT_EQ(d.position, 9u);
  auto with = [&](std::string from, std::string to) {
    auto v = plain;
    const auto at = v.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    v.replace(at, from.size(), to);
    return v;
  };
  struct form {
    std::string json;
    bool valid;  // On-Demand (and the codec) read it
  };
  const std::vector<form> forms{
      {with(R"("reason":"r")", R"("reason" : "r")"), true},
      {with(R"("reason":"r")", R"("reason":"\u0072")"), true},
      {with(R"("position":9)", R"("position":09)"), false},
      {with(R"("position":9)", R"("position":9.0)"), false},
      {with(R"("position":9)", R"("position":9e0)"), false},
      {with(R"("position":9)", R"("position":-0)"), false},
      {with(R"("position":9)", R"("position":18446744073709551616)"), false},
      {with(R"("reason":"r")", "\"reason\":\"\xff\""), false},
      // Invalid UTF-8 past the first 16 bytes of a string, a sequence cut short by the closing
      // quote, an overlong form, and a key with a stray byte.
      {with(R"("reason":"r")", "\"reason\":\"0123456789abcdef\xff-tail\""), false},
      {with(R"("reason":"r")", "\"reason\":\"01234\xc3\""), false},
      {with(R"("reason":"r")", "\"reason\":\"0123456789abcdefghij\xe2\x82\""), false},
      {with(R"("reason":"r")", "\"reason\":\"\xc0\xaf\""), false},
      {with(R"("reason":"r")", "\"reas\xffon\":\"r\""), false},
      {with(R"("reason":"r")", "\"reason\":\"\x01\""), false},
      {plain + " ", true},
      {" " + plain, true},
  };
  for (const auto& f : forms) {
    EXPECT_FALSE(decode_exact(f.json, d)) << f.json << " (form " << &f - &forms[0] << ")";
    EXPECT_EQ(decode_on_demand(f.json, d), f.valid) << f.json;
    EXPECT_EQ(decode_stored(f.json, false, d), f.valid) << f.json;
  }
  // Valid UTF-8 outside ASCII is read here, in short strings and past 16 bytes, and agrees.
  for (const std::string text :
       {"caf\xc3\xa9", "0123456789abcdef caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}) {
    const auto v = with(R"("reason":"r")", "\"reason\":\"" + text + "\"");
    ASSERT_TRUE(decode_exact(v, d)) << v;
    ASSERT_TRUE(std::holds_alternative<tenant_suspended>(d.event.data));
    EXPECT_EQ(std::get<tenant_suspended>(d.event.data).reason, text);
    decoded_event o;
    ASSERT_TRUE(decode_on_demand(v, o));
    EXPECT_EQ(std::get<tenant_suspended>(o.event.data).reason, text);
  }
  // The largest 64-bit position is read here, and agrees.
  const auto big = with(R"("position":9)", R"("position":18446744073709551615)");
  ASSERT_TRUE(decode_exact(big, d));
  EXPECT_EQ(d.position, 18446744073709551615u);
  decoded_event o;
  ASSERT_TRUE(decode_on_demand(big, o));
  EXPECT_EQ(o.position, d.position);
}

TEST(DecodeStored, LeavesOlderSchemasAndForeignLayoutsToTheCodec) {
  const std::string head = suspended_head;
  const std::string meta = R"("metadata":{"correlation_id":"c","causation_id":"",)"
                           R"("actor":"a","traceparent":""}})";
  decoded_event d;
  ASSERT_TRUE(decode_stored(head + R"("data":{"reason":"r"},)" + meta, false, d));
  EXPECT_EQ(d.position, 9u);
  EXPECT_TRUE(std::holds_alternative<tenant_suspended>(d.event.data));
  // No metadata at all: still the codec's reading.
  ASSERT_TRUE(decode_stored(head + R"("data":{"reason":"r"}})", false, d));

  for (const std::string& bad : {
           head + R"("data":{"reason":"r","extra":1},)" + meta,        // unknown data key
           head + R"("data":{"reason":"r","reason":"s"},)" + meta,     // repeated key
           head + R"("data":{},)" + meta,                              // missing key
           head + R"("data":{"reason":5},)" + meta,                    // wrong type
           head + R"("data":{"reason":"r"},"metadata":{"actor":5}})",  // metadata type
           head + R"("data":{"reason":"r"},)" + meta + " x",           // trailing bytes
           head + R"("data":{"reason":"r"},"extra":0,)" + meta,        // unknown key
       }) {
    EXPECT_FALSE(decode_stored(bad, false, d)) << bad;
  }

  // A v1 TenantCreated (flat settings): upcast by the codec, never read here.
  gen g(3);
  event e{g.data(0), clock_time{}};
  auto p = es::codec::to_proposed(e, "0194c3a2-7f00-7000-8000-000000000006");
  p.schema_version = 1;
  const auto current = es::codec::encode_envelope(p, "tn_x", "tn_x", 1, 1, {});
  EXPECT_FALSE(decode_stored(current, true, d));
  std::string flat = p.data_json;
  const auto at = flat.find(R"("settings":{)");
  ASSERT_NE(at, std::string::npos);
  const auto end = flat.find('}', at);
  flat = flat.substr(0, at) + flat.substr(at + 12, end - at - 12) + flat.substr(end + 1);
  p.data_json = flat;
  const auto v1 = es::codec::encode_envelope(p, std::get<tenant_created>(e.data).id.str(),
                                             std::get<tenant_created>(e.data).id.str(), 1, 1, {});
  EXPECT_FALSE(decode_stored(v1, true, d)) << v1;
  const auto ref = reference(v1);
  ASSERT_TRUE(ref.has_value()) << v1;
  EXPECT_TRUE(ref->event.data == e.data);
}

// Keys are matched as written: a key spelled with an escape ("re\u0061son" is "reason") is
// left to the codec, which reads it as the plain key; an escaped metadata key is checked.
TEST(DecodeStored, LeavesEscapedKeysToTheCodec) {
  const std::string head = suspended_head;
  const std::string meta = R"("metadata":{"correlation_id":"c","actor":"a"}})";
  decoded_event d;
  const std::string plain = head + R"("data":{"reason":"r"},)" + meta;
  ASSERT_TRUE(decode_stored(plain, false, d));
  for (const std::string& escaped : {
           head + R"("data":{"re\u0061son":"r"},)" + meta,  // a data key
           head + R"("d\u0061ta":{"reason":"r"},)" + meta,  // an envelope key
       }) {
    EXPECT_FALSE(decode_stored(escaped, false, d)) << escaped;
    const auto ref = reference(escaped);
    ASSERT_TRUE(ref.has_value()) << escaped;
    EXPECT_TRUE(std::holds_alternative<tenant_suspended>(ref->event.data)) << escaped;
  }
  // Metadata keys are not matched, only validated: a valid escape is accepted, a broken one is
  // not.
  EXPECT_TRUE(
      decode_stored(head + R"("data":{"reason":"r"},"metadata":{"\u0061ctor":"a"}})", false, d));
  EXPECT_FALSE(decode_stored(head + R"("data":{"reason":"r"},"metadata":{"\q":"a"}})", false, d));
}

// The replay's index text entry, folded straight into its buffer (append_index_text_value), is
// byte for byte the entry of fold_text + index_text_value, on simple text (ASCII and Latin-1
// letters: folded without ICU) and on any other (Greek, Turkish, emoji, escapes, controls).
TEST(IndexText, AppendedEntryEqualsTheFoldedOne) {
  gen g(17);
  std::size_t simple = 0, other = 0;
  for (int i = 0; i < 2'000; ++i) {
    tenant_profile p = g.profile();
    if (i % 5 == 0) p.description = std::nullopt;
    if (i % 7 == 0) p.description = g.text() + " " + g.text() + ", " + g.text() + ".";
    std::string appended = "prefix";
    append_index_text_value(appended, p);
    EXPECT_EQ(appended, "prefix" + index_text_value(fold_text(p))) << p.name;
    if (p.description) {
      bool plain = true;
      for (unsigned char c : *p.description)
        plain = plain && c < 0x80;
      (plain ? simple : other)++;
    }
  }
  EXPECT_GT(simple, 100u);
  EXPECT_GT(other, 100u);
}

// The replay applies each decoded event in place, taking its strings (domain::apply_in_place
// on an rvalue); evolve copies them. Both must give the same state on every event type.
TEST(ApplyInPlace, TakingTheEventsStringsEqualsEvolve) {
  gen g(5);
  for (int run = 0; run < 200; ++run) {
    tenant_state a, b;
    for (int i = 0; i < 30; ++i) {
      const event e = g.any();
      a = evolve(std::move(a), e);
      event consumed = e;
      apply_in_place(b, std::move(consumed));
      ASSERT_TRUE(a == b) << "run " << run << " event " << i;
    }
  }
}

// The live fold reads a tenant's row before its first event of a batch, except for the stream's
// first event (version 1): no row can exist before it. Every other version reads it.
TEST(TenantsFold, ReadsNoRowBeforeAStreamsFirstEvent) {
  gen g(17);
  int loads = 0;
  tenants_fold fold([&](const uuid16&) -> result<tenant_view_ptr> {
    ++loads;
    return tenant_view_ptr();
  });
  const auto id = g.id();
  auto created = g.data(0);
  std::get<tenant_created>(created).id = tenant_id::from_uuid(id);
  decoded_event first;
  first.position = 1;
  first.version = 1;
  first.tenant = to_uuid16(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), 16));
  first.event = event{created, clock_time{}};
  ASSERT_FALSE(fold.apply(first));
  EXPECT_EQ(loads, 0);
  decoded_event other = first;
  other.position = 2;
  other.version = 3;
  other.tenant = to_uuid16(std::string_view("0123456789abcdef", 16));
  other.event = event{tenant_suspended{"r"}, clock_time{}};
  ASSERT_FALSE(fold.apply(other));
  EXPECT_EQ(loads, 1);
}

}  // namespace
}  // namespace tenant::projections::detail
