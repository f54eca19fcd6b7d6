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

}  // namespace tenant::domain::detail
