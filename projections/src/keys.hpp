#pragma once
// Byte layouts of the projections database (see projections/README.md "On disk"). Fixed-width
// integers are big-endian so that byte order is numeric order; varints are LEB128.

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "tenant/domain/types.hpp"

namespace tenant::projections::detail {

using uuid16 = std::array<std::uint8_t, 16>;

struct uuid16_hash {
  std::size_t operator()(const uuid16& u) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, u.data(), 8);
    std::memcpy(&b, u.data() + 8, 8);
    std::uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return static_cast<std::size_t>(x);
  }
};

/// domain::uuid::parse's bytes (a table lookup per digit since 0646c99, so the replay's one or
/// two ids per event need no parser of their own).
inline std::optional<uuid16> parse_uuid16(std::string_view s) {
  const auto u = domain::uuid::parse(s);
  if (!u) return std::nullopt;
  return u->bytes;
}

/// The 16 bytes of a tenant id ("tn_" + UUID); nullopt for anything else.
inline std::optional<uuid16> tenant_key(std::string_view tenant_id) {
  if (tenant_id.size() != 39 || tenant_id.substr(0, 3) != "tn_") return std::nullopt;
  return parse_uuid16(tenant_id.substr(3));
}
inline std::optional<uuid16> tenant_key(const domain::tenant_id& id) {
  return tenant_key(id.str());
}

inline domain::tenant_id tenant_of(const uuid16& k) {
  domain::uuid u;
  u.bytes = k;
  return domain::tenant_id::from_uuid(u);
}

inline std::string_view as_view(const uuid16& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}
inline uuid16 to_uuid16(std::string_view bytes) {
  uuid16 k{};
  std::memcpy(k.data(), bytes.data(), 16);
  return k;
}

inline void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
inline std::string be64(std::uint64_t v) {
  std::string s;
  s.reserve(8);
  put_u64(s, v);
  return s;
}

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// Sequential reader over a value; any overrun sets `ok = false` and yields zeros.
struct reader {
  std::string_view in;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) {
        ok = false;
        return 0;
      }
      const auto c = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  std::uint8_t byte() {
    if (in.empty()) {
      ok = false;
      return 0;
    }
    const auto c = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    return c;
  }
  std::string_view bytes(std::size_t n) {
    if (in.size() < n) {
      ok = false;
      in = {};
      return {};
    }
    auto v = in.substr(0, n);
    in.remove_prefix(n);
    return v;
  }
  std::string_view str() { return bytes(static_cast<std::size_t>(varint())); }
  std::uint64_t u64() {
    auto b = bytes(8);
    return ok ? get_u64(b) : 0;
  }
};

inline void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// ---- keys ----

/// `tindex.vN`: created position (8, BE) + tag. Tag 0: uuid16 + status + plan. Tag 1: folded
/// name + folded description words. Two keys so that a status change does not rewrite the text.
inline constexpr char index_tag_bucket = 0;
inline constexpr char index_tag_text = 1;
inline std::string index_key(std::uint64_t created_position, char tag) {
  std::string k = be64(created_position);
  k.push_back(tag);
  return k;
}

/// `members.vN`: varint length + user id -> current tenant (uuid16, may be absent);
/// varint length + user id + uuid16 -> "" (membership).
inline std::string member_prefix(std::string_view user) {
  std::string k;
  put_varint(k, user.size());
  k.append(user);
  return k;
}

}  // namespace tenant::projections::detail
