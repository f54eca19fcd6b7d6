#pragma once
// The ICU path of fold_words, bypassing its ASCII fast path (tests compare the two).

#include <string>
#include <string_view>
#include <vector>

namespace tenant::projections::detail {

std::vector<std::string> fold_words_icu(std::string_view text);

}  // namespace tenant::projections::detail
