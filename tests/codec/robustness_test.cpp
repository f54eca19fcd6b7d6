// Bad bytes never crash the decoders (run under ASan+UBSan in CI): every truncation, byte
// substitutions and seeded random mutations of the golden envelopes and of a snapshot. Whatever
// decodes must re-encode and decode to itself.
#include <gtest/gtest.h>

#include <random>

#include "samples.hpp"
#include "tenant/domain/tenant.hpp"

namespace tenant::codec_test {
namespace {

namespace codec = eventstore::codec;

// Feeds one candidate through every decoder; returns how many accepted it.
int exercise(const std::string& text) {
  int accepted = 0;
  if (auto env = codec::decode_envelope(text)) {
    ++accepted;
    if (auto e =
            codec::decode_event(env->type, env->schema_version, env->data_json, env->occurred_at)) {
      const auto again = codec::decode_event(env->type, d::schema_version_of(d::type_of(e->data)),
                                             codec::encode_data(e->data), e->occurred_at);
      EXPECT_TRUE(again && *again == *e) << text;
    }
  }
  if (auto rec = codec::to_recorded(text)) {
    if (auto e = codec::decode_event(*rec)) ++accepted;
  }
  if (auto s = codec::decode_state(text)) {
    ++accepted;
    const auto again = codec::decode_state(codec::encode_state(*s));
    EXPECT_TRUE(again && *again == *s) << text;
  }
  return accepted;
}

std::vector<std::string> corpus() {
  std::vector<std::string> out;
  for (const auto& s : samples())
    out.push_back(envelope_of(s));
  std::vector<d::event> h;
  for (const auto& s : samples())
    h.push_back(s.event);
  out.push_back(codec::encode_state(d::fold(h)));
  return out;
}

TEST(Robustness, EveryTruncation) {
  for (const auto& text : corpus()) {
    EXPECT_GT(exercise(text), 0);
    for (std::size_t n = 0; n < text.size(); ++n)
      exercise(text.substr(0, n));
  }
}

TEST(Robustness, ByteSubstitutions) {
  const char replacements[] = {'"', '{', '}', '[', '0', '-', '\\', ' ', 'x', '\0', '\x80', '\xff'};
  for (const auto& text : corpus()) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      for (char r : replacements) {
        auto mutated = text;
        mutated[i] = r;
        exercise(mutated);
      }
    }
  }
}

TEST(Robustness, SeededRandomMutations) {
  std::mt19937_64 rng(20260115);  // fixed: a failure reproduces
  const auto texts = corpus();
  for (int round = 0; round < 20000; ++round) {
    auto text = texts[rng() % texts.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[at] = static_cast<char>(rng() & 0xff);
          break;
        case 1:
          text.erase(at, 1 + rng() % 16);
          break;
        case 2:
          text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 32));
          break;
        default:
          text.insert(at, 1, "\"{}[],:0e-.\\"[rng() % 12]);
          break;
      }
    }
    exercise(text);
  }
}

}  // namespace
}  // namespace tenant::codec_test
