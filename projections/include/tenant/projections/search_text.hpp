#pragma once
/// Text normalisation of the list filters, shared by the index and the queries so that both
/// sides agree: ICU full case folding and Unicode (UAX #29) word boundaries.
///
/// Thread-safe: pure functions (ICU break iterators are cloned per thread).

#include <string>
#include <string_view>
#include <vector>

namespace tenant::projections {

/// The name filter's key: surrounding Unicode whitespace trimmed, then case-folded.
/// Ill-formed UTF-8 is replaced by U+FFFD first.
std::string fold_name(std::string_view name);

/// The words of a text: case-folded, split at UAX #29 word boundaries, keeping only segments
/// with a letter, digit or ideograph (no spaces or punctuation). Duplicates removed, sorted.
std::vector<std::string> fold_words(std::string_view text);

/// Whether every word of `query` is a prefix of some word of `text` (the description filter),
/// by fold_words of both. Reference implementation for tests.
bool description_matches(std::string_view text, std::string_view query);

}  // namespace tenant::projections
