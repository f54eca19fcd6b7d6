#include "tenant/projections/search_text.hpp"

#include <gtest/gtest.h>

#include <random>

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
  const std::string e = "\xc3\xa9";
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
}

}  // namespace
}  // namespace tenant::projections
