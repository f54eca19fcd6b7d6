#pragma once
// The one scan for the bytes a JSON string cannot hold as they are: '"', '\\' and the control
// characters below 0x20. The envelope encoder asks whether a string needs escaping; the replay's
// exact reader finds where a stored string ends (or meets an escape). Both run for every string
// of every event, so the scan looks at 16 bytes at a time where SSE2 is there.

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tenant::eventstore::codec {

/// The first byte in [p, end) that is '"', '\\' or below 0x20 (unsigned); `end` when none is.
inline const char* find_json_special(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20), bias = _mm_set1_epi8(static_cast<char>(0x80));
  for (; end - p >= 16; p += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned x < 0x20, as a signed compare of both sides shifted by 0x80.
    const __m128i control = _mm_cmplt_epi8(_mm_xor_si128(x, bias), _mm_xor_si128(space, bias));
    const int m = _mm_movemask_epi8(_mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), control));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
  }
#endif
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20)
    ++p;
  return p;
}

}  // namespace tenant::eventstore::codec
