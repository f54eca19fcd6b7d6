#include "tenant/domain/types.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace tenant::domain {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s)
    v = v * 10 + (c - '0');
  return v;
}

// FNV-1a 64 over the name, twice with different seeds: enough spread for derived ids. Not a
// security primitive; derived ids only need to be stable and collision-unlikely.
std::uint64_t fnv1a(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // final avalanche (splitmix64 finaliser)
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

std::string format_time(clock_time t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  const int year = static_cast<int>(ymd.year());
  if (year >= 0 && year <= 9999) {
    // Every digit written in place: snprintf took ~3 500 instructions per call, three calls per
    // tenant create (both events' occurred_at and the trial end).
    char b[24] = {'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0',
                  '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', 'Z'};
    auto two = [&](int at, unsigned v) {
      b[at] = static_cast<char>('0' + v / 10);
      b[at + 1] = static_cast<char>('0' + v % 10);
    };
    const auto y = static_cast<unsigned>(year);
    two(0, y / 100);
    two(2, y % 100);
    two(5, static_cast<unsigned>(ymd.month()));
    two(8, static_cast<unsigned>(ymd.day()));
    two(11, static_cast<unsigned>(hms.hours().count()));
    two(14, static_cast<unsigned>(hms.minutes().count()));
    two(17, static_cast<unsigned>(hms.seconds().count()));
    const auto ms = static_cast<unsigned>(hms.subseconds().count());
    b[20] = static_cast<char>('0' + ms / 100);
    two(21, ms % 100);
    return std::string(b, sizeof b);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::optional<clock_time> parse_time(std::string_view s) {
  using namespace std::chrono;
  // The form format_time writes, i.e. every time stored in the log: fixed offsets, every digit
  // checked at once, no sub-strings (the general path below took ~530 instructions, a twentieth
  // of decoding a replayed event). Same result as the general path (test:
  // TimeFormat.TheCanonicalFormAgreesWithTheGeneralPath).
  if (s.size() == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
      s[16] == ':' && s[19] == '.' && s[23] == 'Z') {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    // Each digit minus '0' (a byte below '0' wraps around, so > 9 catches it too), written out:
    // GCC -O2 does not unroll the loop form.
    const unsigned d0 = p[0] - 0x30u, d1 = p[1] - 0x30u, d2 = p[2] - 0x30u, d3 = p[3] - 0x30u,
                   d5 = p[5] - 0x30u, d6 = p[6] - 0x30u, d8 = p[8] - 0x30u, d9 = p[9] - 0x30u,
                   d11 = p[11] - 0x30u, d12 = p[12] - 0x30u, d14 = p[14] - 0x30u,
                   d15 = p[15] - 0x30u, d17 = p[17] - 0x30u, d18 = p[18] - 0x30u,
                   d20 = p[20] - 0x30u, d21 = p[21] - 0x30u, d22 = p[22] - 0x30u;
    if ((d0 > 9) | (d1 > 9) | (d2 > 9) | (d3 > 9) | (d5 > 9) | (d6 > 9) | (d8 > 9) | (d9 > 9) |
        (d11 > 9) | (d12 > 9) | (d14 > 9) | (d15 > 9) | (d17 > 9) | (d18 > 9) | (d20 > 9) |
        (d21 > 9) | (d22 > 9))
      return std::nullopt;
    const unsigned yr = d0 * 1000 + d1 * 100 + d2 * 10 + d3, mo = d5 * 10 + d6, dy = d8 * 10 + d9;
    const unsigned h = d11 * 10 + d12, m = d14 * 10 + d15, sec = d17 * 10 + d18;
    const unsigned ms = d20 * 100 + d21 * 10 + d22;
    if (h > 23 || m > 59 || sec > 60) return std::nullopt;
    const year_month_day ymd{year{static_cast<int>(yr)}, month{mo}, day{dy}};
    if (!ymd.ok()) return std::nullopt;
    return time_point_cast<milliseconds>(sys_days{ymd} + hours{h} + minutes{m} +
                                         seconds{std::min(sec, 59u)} + milliseconds{ms});
  }
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const auto yr = s.substr(0, 4), mo = s.substr(5, 2), dy = s.substr(8, 2), hr = s.substr(11, 2),
             mi = s.substr(14, 2), se = s.substr(17, 2);
  for (auto part : {yr, mo, dy, hr, mi, se})
    if (!all_digits(part)) return std::nullopt;
  const year_month_day ymd{year{to_int(yr)}, month{static_cast<unsigned>(to_int(mo))},
                           day{static_cast<unsigned>(to_int(dy))}};
  if (!ymd.ok()) return std::nullopt;
  const int h = to_int(hr), m = to_int(mi), sec = to_int(se);
  if (h > 23 || m > 59 || sec > 60) return std::nullopt;  // 60: leap second, folded below
  std::size_t i = 19;
  int millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t d = digits; d < 3; ++d)
      millis *= 10;
  }
  if (i >= s.size()) return std::nullopt;
  minutes offset{0};
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    if (s.size() - i != 6 || s[i + 3] != ':') return std::nullopt;
    const auto oh = s.substr(i + 1, 2), om = s.substr(i + 4, 2);
    if (!all_digits(oh) || !all_digits(om)) return std::nullopt;
    if (to_int(oh) > 23 || to_int(om) > 59) return std::nullopt;
    offset = hours{to_int(oh)} + minutes{to_int(om)};
    if (s[i] == '-') offset = -offset;
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const auto tp = sys_days{ymd} + hours{h} + minutes{m} + seconds{std::min(sec, 59)} +
                  milliseconds{millis} - offset;
  return time_point_cast<milliseconds>(tp);
}

uuid uuid::v7(clock_time t, std::span<const std::uint8_t, 10> random) {
  uuid u;
  const auto ms = static_cast<std::uint64_t>(t.time_since_epoch().count());
  for (int i = 0; i < 6; ++i)
    u.bytes[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  for (int i = 0; i < 10; ++i)
    u.bytes[6 + i] = random[i];
  u.bytes[6] = static_cast<std::uint8_t>(0x70 | (u.bytes[6] & 0x0f));  // version 7
  u.bytes[8] = static_cast<std::uint8_t>(0x80 | (u.bytes[8] & 0x3f));  // variant 10
  return u;
}

uuid uuid::derived(std::string_view name) {
  uuid u;
  const std::uint64_t a = fnv1a(name, 0x746e616e74ULL), b = fnv1a(name, 0x6576656e7473ULL);
  for (int i = 0; i < 8; ++i) {
    u.bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
    u.bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  }
  u.bytes[6] = static_cast<std::uint8_t>(0x80 | (u.bytes[6] & 0x0f));  // version 8
  u.bytes[8] = static_cast<std::uint8_t>(0x80 | (u.bytes[8] & 0x3f));  // variant 10
  return u;
}

#if defined(__SSE2__)
// The hex digits' values of 16 bytes (garbage where a byte is not a hex digit) and, as a bit
// mask, which bytes are hex digits. SSE2 has no unsigned byte comparison: x <= k is
// min(x, k) == x.
static inline __m128i hex_nibbles(__m128i x, unsigned& hex_mask) {
  const __m128i digit = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit);
  const __m128i letter = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
  const __m128i is_letter = _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(5)), letter);
  hex_mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(is_digit, is_letter)));
  return _mm_or_si128(_mm_and_si128(is_digit, digit),
                      _mm_andnot_si128(is_digit, _mm_add_epi8(letter, _mm_set1_epi8(10))));
}
#endif

std::optional<uuid> uuid::parse(std::string_view s) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return std::nullopt;
  uuid u;
#if defined(__SSE2__)
  // The 32 digits without the dashes, as two 16-byte vectors: every byte must be a hex digit;
  // each pair of nibbles becomes a byte in 16-bit lanes (high nibble in the even byte), and the
  // lanes are packed back to bytes. About 84 instructions per id against about 300 for the table
  // loop (ids are parsed several times per request and per replayed event).
  char digits[32];
  std::memcpy(digits, s.data(), 8);
  std::memcpy(digits + 8, s.data() + 9, 4);
  std::memcpy(digits + 12, s.data() + 14, 4);
  std::memcpy(digits + 16, s.data() + 19, 4);
  std::memcpy(digits + 20, s.data() + 24, 12);
  unsigned ma = 0, mb = 0;
  const __m128i a = hex_nibbles(_mm_loadu_si128(reinterpret_cast<const __m128i*>(digits)), ma);
  const __m128i b = hex_nibbles(_mm_loadu_si128(reinterpret_cast<const __m128i*>(digits + 16)), mb);
  if ((ma & mb) != 0xffff) return std::nullopt;
  const __m128i low_byte = _mm_set1_epi16(0x00ff);
  auto pair = [&](__m128i v) {
    return _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v, low_byte), 4), _mm_srli_epi16(v, 8));
  };
  _mm_storeu_si128(reinterpret_cast<__m128i*>(u.bytes.data()), _mm_packus_epi16(pair(a), pair(b)));
  return u;
#else
  // One table lookup per digit; -1 marks a byte that is not a hex digit.
  static constexpr auto hex = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int c = 0; c < 10; ++c)
      t['0' + c] = static_cast<std::int8_t>(c);
    for (int c = 0; c < 6; ++c) {
      t['a' + c] = static_cast<std::int8_t>(10 + c);
      t['A' + c] = static_cast<std::int8_t>(10 + c);
    }
    return t;
  }();
  static constexpr std::uint8_t at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                          19, 21, 24, 26, 28, 30, 32, 34};
  int bad = 0;
  for (int k = 0; k < 16; ++k) {
    const int hi = hex[static_cast<unsigned char>(s[at[k]])];
    const int lo = hex[static_cast<unsigned char>(s[at[k] + 1])];
    bad |= hi | lo;  // negative once any digit is not hex
    u.bytes[k] = static_cast<std::uint8_t>((hi << 4) | (lo & 0x0f));
  }
  if (bad < 0) return std::nullopt;
  return u;
#endif
}

std::string uuid::to_string() const {
  char text[36];
  char* p = text;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = hex_digits[bytes[i] >> 4];
    *p++ = hex_digits[bytes[i] & 0x0f];
  }
  return std::string(text, sizeof text);
}

std::optional<tenant_id> tenant_id::parse(std::string_view text) {
  if (text.size() != 39 || text.substr(0, 3) != "tn_") return std::nullopt;
  const auto u = uuid::parse(text.substr(3));
  if (!u) return std::nullopt;
  // Already canonical (no uppercase hex digit): the text is the id, no re-formatting. Every id
  // read back from the log takes this path.
  if (std::none_of(text.begin() + 3, text.end(), [](char c) { return c >= 'A' && c <= 'F'; }))
    return tenant_id(std::string(text));
  return from_uuid(*u);
}

std::string user_stream_id(const user_id& u) {
  return "user-" + u.str();
}

std::string_view to_string(plan_tier p) {
  switch (p) {
    case plan_tier::starter:
      return "starter";
    case plan_tier::professional:
      return "professional";
    case plan_tier::enterprise:
      return "enterprise";
  }
  return "starter";
}

std::optional<plan_tier> parse_plan(std::string_view t) {
  if (t == "starter") return plan_tier::starter;
  if (t == "professional") return plan_tier::professional;
  if (t == "enterprise") return plan_tier::enterprise;
  return std::nullopt;
}

std::string_view to_string(tenant_status s) {
  switch (s) {
    case tenant_status::none:
      return "none";
    case tenant_status::provisioning:
      return "provisioning";
    case tenant_status::active:
      return "active";
    case tenant_status::suspended:
      return "suspended";
    case tenant_status::deactivated:
      return "deactivated";
  }
  return "none";
}

std::optional<tenant_status> parse_tenant_status(std::string_view t) {
  if (t == "provisioning") return tenant_status::provisioning;
  if (t == "active") return tenant_status::active;
  if (t == "suspended") return tenant_status::suspended;
  if (t == "deactivated") return tenant_status::deactivated;
  return std::nullopt;
}

std::string_view to_string(subscription_status s) {
  switch (s) {
    case subscription_status::trialing:
      return "trialing";
    case subscription_status::active:
      return "active";
    case subscription_status::past_due:
      return "past_due";
    case subscription_status::cancelled:
      return "cancelled";
  }
  return "trialing";
}

std::optional<subscription_status> parse_subscription_status(std::string_view t) {
  if (t == "trialing") return subscription_status::trialing;
  if (t == "active") return subscription_status::active;
  if (t == "past_due") return subscription_status::past_due;
  if (t == "cancelled") return subscription_status::cancelled;
  return std::nullopt;
}

std::optional<std::uint32_t> plan_limits::seat_limit(plan_tier p) const {
  switch (p) {
    case plan_tier::starter:
      return starter;
    case plan_tier::professional:
      return professional;
    case plan_tier::enterprise:
      return enterprise;
  }
  return starter;
}

}  // namespace tenant::domain
