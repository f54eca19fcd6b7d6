#include "text.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <cstdint>
#include <limits>

#include "tenant/domain/ascii.hpp"

namespace tenant::domain::detail {

namespace {

// Unicode White_Space within ASCII: U+0009..U+000D and U+0020 (not U+001C..U+001F).
bool ascii_white_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

}  // namespace

std::optional<std::size_t> utf8_length(std::string_view s) {
  // Field values are mostly ASCII: one 8-bytes-at-a-time test, no decoding of code points.
  if (is_ascii(s)) return s.size();
  // ICU's macros index with int32_t; nothing that long is a field value.
  if (s.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    return std::nullopt;
  std::size_t count = 0;
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(s.size());
  for (std::int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) return std::nullopt;
    ++count;
  }
  return count;
}

text_flaw find_text_flaw(std::string_view s, bool multiline) {
  const auto allowed = [multiline](UChar32 c) {
    return multiline && (c == '\t' || c == '\n' || c == '\r');
  };
  if (is_ascii(s)) {
    bool visible = false;
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 || c == 0x7f) && !allowed(c)) return text_flaw::control;
      visible = visible || !ascii_white_space(ch);
    }
    return visible ? text_flaw::none : text_flaw::invisible;
  }
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(s.size());
  bool visible = false;
  for (std::int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) return text_flaw::none;  // ill-formed: reported by utf8_length's caller
    if (u_charType(c) == U_CONTROL_CHAR && !allowed(c)) return text_flaw::control;
    visible = visible ||
              !(u_isUWhiteSpace(c) || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT));
  }
  return visible ? text_flaw::none : text_flaw::invisible;
}

std::string trim(std::string_view s) {
  if (is_ascii(s)) {
    std::size_t begin = 0, end = s.size();
    while (begin < end && ascii_white_space(s[begin]))
      ++begin;
    while (end > begin && ascii_white_space(s[end - 1]))
      --end;
    return std::string(s.substr(begin, end - begin));
  }
  if (!utf8_length(s)) return std::string(s);
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(s.size());
  std::int32_t begin = 0;
  while (begin < n) {
    std::int32_t next = begin;
    UChar32 c;
    U8_NEXT(p, next, n, c);
    if (!u_isUWhiteSpace(c)) break;
    begin = next;
  }
  std::int32_t end = n;
  while (end > begin) {
    std::int32_t prev = end;
    UChar32 c;
    U8_PREV(p, begin, prev, c);
    if (!u_isUWhiteSpace(c)) break;
    end = prev;
  }
  return std::string(
      s.substr(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)));
}

}  // namespace tenant::domain::detail
