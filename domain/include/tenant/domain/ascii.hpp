#pragma once
// A byte test shared by the domain's text helpers and the projections' search text.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tenant::domain {

/// True when no byte of `s` has its high bit set (plain ASCII), tested 8 bytes at a time.
inline bool is_ascii(std::string_view s) {
  std::size_t i = 0;
  std::uint64_t bits = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    bits |= w;
  }
  for (; i < s.size(); ++i)
    bits |= static_cast<std::uint8_t>(s[i]);
  return (bits & 0x8080808080808080ull) == 0;
}

}  // namespace tenant::domain
