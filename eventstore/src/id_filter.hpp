#pragma once
// An in-memory filter over every stored event id, so that the append hot path (new ids) never
// reads RocksDB: a negative answer is exact, a positive one (a replay, or ~1% false positives)
// falls back to the recent-id cache and then to the `event_ids` column family.
//
// Scalable Bloom filter: a chain of blocked filters, each twice the capacity of the previous;
// a full one stays and a new one is added, so the false-positive rate stays near 1% as the log
// grows without ever rebuilding. ~10 bits per id (10 million ids: ~13 MB).
// Not thread-safe: owned by the writer thread (filled before it starts).

#include <array>
#include <cstdint>
#include <vector>

namespace tenant::eventstore::detail {

class id_filter {
 public:
  id_filter() : id_filter(1u << 16) {}
  explicit id_filter(std::size_t initial_capacity) : next_capacity_(initial_capacity) {}

  /// `uuid` = the 16 bytes of the event id.
  void insert(const std::array<std::uint8_t, 16>& uuid) {
    if (layers_.empty() || layers_.back().count >= layers_.back().capacity) add_layer();
    layer& l = layers_.back();
    const auto [h1, h2] = hashes(uuid);
    std::uint64_t* block = &l.bits[(h1 % l.blocks) * words_per_block];
    for (unsigned i = 0; i < probes; ++i) {
      const std::uint64_t bit = (h2 + i * (h2 >> 32 | 1)) & (block_bits - 1);
      block[bit / 64] |= 1ULL << (bit % 64);
    }
    ++l.count;
  }

  bool may_contain(const std::array<std::uint8_t, 16>& uuid) const {
    const auto [h1, h2] = hashes(uuid);
    for (const layer& l : layers_) {
      const std::uint64_t* block = &l.bits[(h1 % l.blocks) * words_per_block];
      bool all = true;
      for (unsigned i = 0; i < probes && all; ++i) {
        const std::uint64_t bit = (h2 + i * (h2 >> 32 | 1)) & (block_bits - 1);
        all = (block[bit / 64] >> (bit % 64)) & 1;
      }
      if (all) return true;
    }
    return false;
  }

  std::size_t memory_bytes() const {
    std::size_t n = 0;
    for (const layer& l : layers_)
      n += l.bits.size() * sizeof(std::uint64_t);
    return n;
  }

 private:
  // 512-bit blocks (one cache line), 7 probes, 12 bits per id: ~1% false positives per layer.
  static constexpr std::size_t block_bits = 512;
  static constexpr std::size_t words_per_block = block_bits / 64;
  static constexpr unsigned probes = 7;
  static constexpr std::size_t bits_per_id = 12;

  struct layer {
    std::vector<std::uint64_t> bits;
    std::size_t blocks = 0;
    std::size_t capacity = 0;
    std::size_t count = 0;
  };

  void add_layer() {
    layer l;
    l.capacity = next_capacity_;
    l.blocks = (l.capacity * bits_per_id + block_bits - 1) / block_bits;
    l.bits.assign(l.blocks * words_per_block, 0);
    layers_.push_back(std::move(l));
    next_capacity_ *= 2;
  }

  // UUID v7 and derived ids carry random bits, but v7 starts with a timestamp: mix all 16
  // bytes so that ids from the same millisecond spread over blocks.
  static std::pair<std::uint64_t, std::uint64_t> hashes(const std::array<std::uint8_t, 16>& u) {
    std::uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; ++i) {
      a = (a << 8) | u[i];
      b = (b << 8) | u[8 + i];
    }
    return {mix(a ^ (b * 0x9e3779b97f4a7c15ULL)), mix(b ^ (a * 0xc2b2ae3d27d4eb4fULL))};
  }
  static std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
  }

  std::vector<layer> layers_;
  std::size_t next_capacity_;
};

}  // namespace tenant::eventstore::detail
