#pragma once
// Key and value layouts of the RocksDB column families (see eventstore/README.md "On disk").
// Fixed-width integers are big-endian so that byte order is numeric order.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tenant::eventstore::detail {

inline void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// put_u64 into a caller's 8-byte buffer.
inline void store_u64(char* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
}

inline std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

/// `events`: position as 8-byte big-endian (the on-disk contract of DESIGN.md).
inline std::string position_key(std::uint64_t position) {
  std::string k;
  k.reserve(8);
  put_u64(k, position);
  return k;
}

/// `stream_index`: u8 length + stream id + version (8-byte BE) -> position (8-byte BE).
/// The length prefix keeps one stream's keys contiguous whatever bytes the id holds.
inline std::string stream_prefix(std::string_view stream_id) {
  std::string k;
  k.reserve(stream_id.size() + 9);
  k.push_back(static_cast<char>(stream_id.size()));
  k.append(stream_id);
  return k;
}

inline std::string stream_index_key(std::string_view stream_id, std::uint64_t version) {
  std::string k = stream_prefix(stream_id);
  put_u64(k, version);
  return k;
}

/// Splits a stream_index key; nullopt when malformed.
struct stream_index_entry {
  std::string_view stream_id;
  std::uint64_t version = 0;
};
inline std::optional<stream_index_entry> parse_stream_index_key(std::string_view key) {
  if (key.empty()) return std::nullopt;
  const std::size_t len = static_cast<unsigned char>(key[0]);
  if (key.size() != 1 + len + 8) return std::nullopt;
  return stream_index_entry{key.substr(1, len), get_u64(key.substr(1 + len))};
}

/// `streams` (stream heads): stream id -> version (8) + last position (8).
inline std::string stream_head_value(std::uint64_t version, std::uint64_t last_position) {
  std::string v;
  v.reserve(16);
  put_u64(v, version);
  put_u64(v, last_position);
  return v;
}

/// `event_ids`: the 16 bytes of the UUID -> position (8) + version (8) + stream id.
inline std::string event_id_value(std::uint64_t position, std::uint64_t version,
                                  std::string_view stream_id) {
  std::string v;
  v.reserve(16 + stream_id.size());
  put_u64(v, position);
  put_u64(v, version);
  v.append(stream_id);
  return v;
}

/// `idempotency`: key -> stored_at ms (8) + fingerprint length (4) + fingerprint + response.
/// `idempotency_expiry`: stored_at ms (8) + key -> empty, the eviction order.
inline std::string expiry_key(std::int64_t stored_at_ms, std::string_view key) {
  std::string k;
  k.reserve(8 + key.size());
  put_u64(k, static_cast<std::uint64_t>(stored_at_ms));
  k.append(key);
  return k;
}

/// `snapshots`: stream id -> version (8) + state bytes.
/// `checkpoints`: name -> position (8).
/// `meta`: "format" -> "1".

}  // namespace tenant::eventstore::detail
