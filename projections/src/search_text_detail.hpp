#pragma once
// The ICU path of fold_words, bypassing its ASCII fast path (tests compare the two).

#include <string>
#include <string_view>
#include <vector>

namespace tenant::projections::detail {

std::vector<std::string> fold_words_icu(std::string_view text);

/// fold_words without a string per word, for simple text (the common case: ASCII and Latin-1
/// letters): the folded text into `folded`, the sorted distinct words as views into it into
/// `words`. False for any other text (then use fold_words); both buffers are reused.
bool fold_words_into(std::string_view text, std::string& folded,
                     std::vector<std::string_view>& words);

/// fold_name for simple text, appended to `out` (as long as the trimmed name: folding simple
/// text keeps every character's length). False for any other text (then use fold_name), with
/// `out` unchanged.
bool fold_name_into(std::string_view name, std::string& out);

}  // namespace tenant::projections::detail
