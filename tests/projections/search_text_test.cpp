#include "tenant/projections/search_text.hpp"

#include <gtest/gtest.h>

#include <random>

#include "search_text_detail.hpp"

namespace tenant::projections {
namespace {

using words = std::vector<std::string>;

TEST(FoldName, TrimsAndFoldsCase) {
  EXPECT_EQ(fold_name("  Acme Corp\t"), "acme corp");
  EXPECT_EQ(fold_name("ACME CORP"), fold_name("acme corp"));
  EXPECT_EQ(fold_name("\u00a0Acme\u2003"), "acme");  // no-break space, em space: White_Space
}

TEST(FoldName, UsesFullUnicodeCaseFolding) {
  EXPECT_EQ(fold_name("Straße"), fold_name("STRASSE"));  // ß folds to ss
  EXPECT_EQ(fold_name("ÉCOLE"), fold_name("école"));
  EXPECT_EQ(fold_name("ΣΊΣΥΦΟΣ"), fold_name("σίσυφος"));  // final sigma
  EXPECT_NE(fold_name("Acme"), fold_name("Acne"));
}

TEST(FoldName, IllFormedUtf8DoesNotCrash) {
  const std::string bad = "Acme \xff\xfe Corp";
  EXPECT_FALSE(fold_name(bad).empty());
  EXPECT_EQ(fold_name(bad), fold_name("ACME \xff\xfe CORP"));
}

TEST(FoldWords, SplitsAtWordBoundariesAndDropsPunctuation) {
  EXPECT_EQ(fold_words("New York, NY!"), (words{"new", "ny", "york"}));
  EXPECT_EQ(fold_words("data-driven analytics"), (words{"analytics", "data", "driven"}));
  EXPECT_EQ(fold_words("  ...  "), words{});
  EXPECT_EQ(fold_words(""), words{});
  EXPECT_EQ(fold_words("the THE The"), words{"the"});
}

TEST(FoldWords, KeepsApostrophesAndDecimalsInsideWords) {
  // UAX #29: letters around an apostrophe or digits around a dot stay one word.
  EXPECT_EQ(fold_words("can't stop"), (words{"can't", "stop"}));
  EXPECT_EQ(fold_words("version 3.14"), (words{"3.14", "version"}));
}

TEST(FoldWords, FoldsUnicode) {
  EXPECT_EQ(fold_words("Straßenbau UND Tiefbau"), (words{"strassenbau", "tiefbau", "und"}));
  EXPECT_EQ(fold_words("ÉCOLE supérieure"), (words{"supérieure", "école"}));  // byte order
}

TEST(DescriptionMatches, EveryQueryWordPrefixesSomeWord) {
  EXPECT_TRUE(description_matches("New York office", "new"));
  EXPECT_TRUE(description_matches("New York office", "YORK off"));
  EXPECT_TRUE(description_matches("New York office", "of ne"));
  EXPECT_FALSE(description_matches("New York office", "york city"));
  EXPECT_FALSE(description_matches("New York office", "ork"));  // not a prefix
  EXPECT_TRUE(description_matches("Straßenbau", "STRASSEN"));
  EXPECT_TRUE(description_matches("anything", "  ,, "));  // no query words: vacuous
  EXPECT_FALSE(description_matches("", "a"));
}

// fold_name has an ASCII fast path; ICU decides for any other input. Both must agree on ASCII:
// wrapping in "é" forces the ICU path without changing how the ASCII part folds.
TEST(FoldName, AsciiFastPathAgreesWithIcu) {
  const std::string e = "\xe2\x82\xac";  // "€": outside the fast path's range
  for (int c = 0; c < 0x80; ++c) {
    const std::string one(1, static_cast<char>(c));
    const auto fast = fold_name(one);
    const auto icu = fold_name(e + one + e);
    // Whitespace is trimmed by the fast path only at the ends; ICU keeps it inside.
    if (fast.empty()) {
      EXPECT_EQ(icu, e + one + e) << "code " << c << " is White_Space for both";
    } else {
      EXPECT_EQ(icu, e + fast + e) << "code " << c;
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int j = 0; j < n; ++j)
      s.push_back(static_cast<char>(rng() % 0x7f));
    EXPECT_EQ(fold_name(e + s + e), e + fold_name("x" + s + "x").substr(1, s.size()) + e) << s;
  }
  // Latin-1 letters take the fast path too.
  for (int cp = 0xc0; cp <= 0xff; ++cp) {
    const std::string ch = {static_cast<char>(0xc0 | (cp >> 6)),
                            static_cast<char>(0x80 | (cp & 0x3f))};
    const auto fast = fold_name("a" + ch + "a");
    const auto icu = fold_name(e + "a" + ch + "a" + e);
    EXPECT_EQ(e + fast + e, icu) << "U+" << std::hex << cp;
  }
}

// fold_words' ASCII fast path must cut exactly where ICU's word break iterator does.
TEST(FoldWords, AsciiFastPathAgreesWithIcu) {
  // ASCII classes plus Latin-1 letters (the fast path's range) and a few outside it.
  const std::vector<std::string> alphabet = {"a", "Z", "q",  "0", "9", "_", ":",  ",", ";",
                                             ".", "'", "\"", " ", "-", "!", "\t", "é", "É",
                                             "ß", "ÿ", "Ü",  "×", "÷", "ª", "·",  "ñ"};
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 14);
    for (int j = 0; j < n; ++j)
      s += alphabet[rng() % alphabet.size()];
    ASSERT_EQ(fold_words(s), detail::fold_words_icu(s)) << "input: [" << s << "]";
  }
  for (const char* s : {"can't stop", "3.14 pi", "a.b.c", "1,000,000", "x:y", "1:2", "a_b", "__",
                        "_a", "a_", "a1b2", "e.g.", "U.S.A.", "don't!", "rock'n'roll",
                        "Straße München", "ÉCOLE d'été", "Zürich, Genève"})
    EXPECT_EQ(fold_words(s), detail::fold_words_icu(s)) << s;
}

}  // namespace
}  // namespace tenant::projections
