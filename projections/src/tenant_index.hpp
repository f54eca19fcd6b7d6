#pragma once
// The in-memory list/search index of the "tenants" projection: every tenant by creation order
// (a dense ordinal), its status x plan bucket, its folded name and description words.
//
// - status/plan filters: one bitset per bucket (4 statuses x 3 plans) with a Fenwick tree of
//   per-block counts, so a page at any offset costs O(log n + page) (rank/select), never a scan
//   of the earlier pages;
// - name: a hash table of keyed 64-bit hashes of the folded name -> chain of ordinals;
// - description: a dictionary of folded words (sorted, for prefix ranges) -> posting lists.
// A filtered query starts from the smallest candidate list and checks the other filters per
// candidate: its cost is proportional to that list, not to the page offset.
//
// About 100 bytes per tenant. Not synchronised: the owner guards it with a shared_mutex
// (queries shared, the projector's writes exclusive).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keys.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::projections::detail {

class tenant_index {
 public:
  using ordinal = std::uint32_t;
  static constexpr ordinal npos = UINT32_MAX;
  static constexpr int bucket_count = 12;
  static constexpr std::uint16_t all_buckets = (1u << bucket_count) - 1;

  /// 0..11; nullopt for status none (such a tenant is not indexed).
  static std::optional<std::uint8_t> bucket_of(domain::tenant_status s, domain::plan_tier p);
  /// Buckets matching optional status and plan filters (0 when nothing can match).
  static std::uint16_t bucket_mask(std::optional<domain::tenant_status> s,
                                   std::optional<domain::plan_tier> p);

  explicit tenant_index(std::uint64_t hash_seed = 0x5eed);

  // ---- writes ----
  /// A new tenant, after every existing one in creation order. REQUIRES: id not present.
  ordinal add(const uuid16& id, std::uint8_t bucket, std::string_view folded_name,
              const std::vector<std::string>& words);
  void set_bucket(ordinal o, std::uint8_t bucket);
  void set_name(ordinal o, std::string_view folded_name);
  void set_words(ordinal o, const std::vector<std::string>& words);

  // ---- reads ----
  std::size_t size() const { return ids_.size(); }
  ordinal find(const uuid16& id) const;
  const uuid16& id_at(ordinal o) const { return ids_[o]; }
  std::uint8_t bucket_at(ordinal o) const { return bucket_[o]; }
  std::uint64_t name_hash_at(ordinal o) const { return name_hash_[o]; }
  std::vector<std::string> words_at(ordinal o) const;
  std::uint64_t hash_name(std::string_view folded) const;

  struct filter {
    std::optional<std::string> folded_name;
    std::vector<std::string> words;  ///< folded query words (each must prefix some word)
    std::uint16_t buckets = all_buckets;
    std::optional<std::vector<ordinal>> visible;  ///< sorted, unique
  };
  struct page {
    std::vector<ordinal> ordinals;
    std::uint64_t total = 0;
  };
  /// Matches in creation order: `limit` of them from `offset`, and how many there are.
  page query(const filter& f, std::uint64_t offset, std::uint64_t limit) const;

  /// Bytes held (approximately), for tests and metrics.
  std::size_t memory_bytes() const;

 private:
  static constexpr std::uint32_t block_words = 8;  // 512 ordinals per Fenwick leaf
  static constexpr ordinal tomb = npos - 1;

  struct bucket_bits {
    std::vector<std::uint64_t> bits;
    std::vector<std::uint32_t> fen;  // 1-based Fenwick over blocks
    std::uint64_t count = 0;
  };

  void grow_buckets(std::size_t ordinals);
  void bucket_insert(std::uint8_t b, ordinal o);
  void bucket_erase(std::uint8_t b, ordinal o);
  void fen_add(bucket_bits& bb, std::size_t block, std::int32_t delta);
  page select_buckets(std::uint16_t mask, std::uint64_t offset, std::uint64_t limit) const;

  void id_insert(ordinal o);
  void id_rehash(std::size_t cap);

  std::size_t name_slot(std::uint64_t h) const;  // slot holding h, or npos
  void name_link(ordinal o);
  void name_unlink(ordinal o);
  void name_rehash(std::size_t cap);

  std::uint32_t word_id(std::string_view w);
  void words_link(ordinal o, const std::vector<std::string>& words);
  void words_unlink(ordinal o);
  void merge_unsorted();
  // Postings of every word starting with `prefix`, merged; `cost_only` returns just the summed
  // sizes (an upper bound of the union) without materialising.
  std::uint64_t prefix_cost(std::string_view prefix) const;
  /// The non-empty posting lists of the words starting with `prefix`.
  std::vector<const std::vector<ordinal>*> prefix_lists(std::string_view prefix) const;
  /// Their union, sorted (REQUIRES: two lists or more; one is read in place).
  static std::vector<ordinal> merge_lists(const std::vector<const std::vector<ordinal>*>& lists);
  template <class F>
  void for_prefix(std::string_view prefix, F&& f) const;
  bool has_word_prefix(ordinal o, std::string_view prefix) const;

  std::uint64_t seed_;
  std::vector<uuid16> ids_;
  std::vector<std::uint8_t> bucket_;
  std::vector<std::uint32_t> id_slots_;

  std::vector<std::uint64_t> name_hash_;
  std::vector<ordinal> name_next_;  // chains in descending ordinal order
  std::vector<ordinal> name_slots_;
  std::size_t name_used_ = 0;  // slots not empty (live or tomb)

  std::deque<std::string> words_;  // by word id; stable addresses for word_ids_' keys
  std::unordered_map<std::string_view, std::uint32_t> word_ids_;
  std::vector<std::vector<ordinal>> postings_;
  std::vector<std::uint32_t> sorted_words_;    // word ids sorted by word
  std::vector<std::uint32_t> unsorted_words_;  // newer word ids, merged in batches
  std::vector<std::uint32_t> word_off_;
  std::vector<std::uint16_t> word_cnt_;
  std::vector<std::uint32_t> word_arena_;
  std::size_t arena_garbage_ = 0;

  std::size_t nblocks_ = 0;
  bucket_bits buckets_[bucket_count];
};

}  // namespace tenant::projections::detail
