#pragma once
// UTF-8 helpers shared by validation and decide (private to the domain module).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tenant::domain::detail {

/// Number of code points, or nullopt when `s` is not well-formed UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s);

/// Trims Unicode White_Space from both ends; ill-formed UTF-8 is returned unchanged.
std::string trim(std::string_view s);

/// What makes well-formed UTF-8 text unfit for a field, if anything.
enum class text_flaw : unsigned char {
  none,
  /// A control character (general category Cc: U+0000..U+001F, U+007F..U+009F); tab, line
  /// feed and carriage return are allowed in `multiline` text.
  control,
  /// Nothing visible: only White_Space and Default_Ignorable_Code_Point characters (zero-width
  /// spaces and joiners, bidirectional marks, variation selectors, ...).
  invisible,
};
text_flaw find_text_flaw(std::string_view s, bool multiline);

}  // namespace tenant::domain::detail
