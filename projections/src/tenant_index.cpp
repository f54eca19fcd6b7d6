#include "tenant_index.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace tenant::projections::detail {

namespace {

// SipHash-1-3 with a per-index key: names come from API callers, so an unkeyed hash would let
// one craft collisions that slow the name filter down.
std::uint64_t siphash13(std::string_view data, std::uint64_t k0, std::uint64_t k1) {
  std::uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1,
                v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
  auto round = [&] {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  };
  const std::size_t n = data.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t m;
    std::memcpy(&m, data.data() + i, 8);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  std::uint64_t last = static_cast<std::uint64_t>(n) << 56;
  for (std::size_t j = 0; i + j < n; ++j)
    last |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[i + j])) << (8 * j);
  v3 ^= last;
  round();
  v0 ^= last;
  v2 ^= 0xff;
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

}  // namespace

std::optional<std::uint8_t> tenant_index::bucket_of(domain::tenant_status s, domain::plan_tier p) {
  const auto si = static_cast<int>(s), pi = static_cast<int>(p);
  if (si < 1 || si > 4 || pi < 1 || pi > 3) return std::nullopt;
  return static_cast<std::uint8_t>((si - 1) * 3 + (pi - 1));
}

std::uint16_t tenant_index::bucket_mask(std::optional<domain::tenant_status> s,
                                        std::optional<domain::plan_tier> p) {
  std::uint16_t mask = 0;
  for (int si = 1; si <= 4; ++si) {
    if (s && static_cast<int>(*s) != si) continue;
    for (int pi = 1; pi <= 3; ++pi) {
      if (p && static_cast<int>(*p) != pi) continue;
      mask |= static_cast<std::uint16_t>(1u << ((si - 1) * 3 + (pi - 1)));
    }
  }
  return mask;
}

tenant_index::tenant_index(std::uint64_t hash_seed) : seed_(hash_seed) {
  id_slots_.assign(16, npos);
  name_slots_.assign(16, npos);
}

std::uint64_t tenant_index::hash_name(std::string_view folded) const {
  return siphash13(folded, seed_, seed_ ^ 0x9e3779b97f4a7c15ull);
}

// ---- ids ----

void tenant_index::id_rehash(std::size_t cap) {
  id_slots_.assign(cap, npos);
  for (ordinal o = 0; o < ids_.size(); ++o)
    id_insert(o);
}

void tenant_index::id_insert(ordinal o) {
  const std::size_t mask = id_slots_.size() - 1;
  for (std::size_t i = uuid16_hash{}(ids_[o]) & mask;; i = (i + 1) & mask) {
    if (id_slots_[i] == npos) {
      id_slots_[i] = o;
      return;
    }
  }
}

tenant_index::ordinal tenant_index::find(const uuid16& id) const {
  const std::size_t mask = id_slots_.size() - 1;
  for (std::size_t i = uuid16_hash{}(id)&mask;; i = (i + 1) & mask) {
    const ordinal o = id_slots_[i];
    if (o == npos) return npos;
    if (ids_[o] == id) return o;
  }
}

// ---- names ----

std::size_t tenant_index::name_slot(std::uint64_t h) const {
  const std::size_t mask = name_slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
    const ordinal head = name_slots_[i];
    if (head == npos) return npos;
    if (head != tomb && name_hash_[head] == h) return i;
  }
}

void tenant_index::name_rehash(std::size_t cap) {
  std::vector<ordinal> old;
  old.swap(name_slots_);
  name_slots_.assign(cap, npos);
  name_used_ = 0;
  const std::size_t mask = cap - 1;
  for (ordinal head : old) {
    if (head == npos || head == tomb) continue;
    for (std::size_t i = static_cast<std::size_t>(name_hash_[head]) & mask;; i = (i + 1) & mask) {
      if (name_slots_[i] == npos) {
        name_slots_[i] = head;
        ++name_used_;
        break;
      }
    }
  }
}

void tenant_index::name_link(ordinal o) {
  const std::uint64_t h = name_hash_[o];
  const std::size_t s = name_slot(h);
  if (s == npos) {
    if ((name_used_ + 1) * 2 > name_slots_.size()) name_rehash(name_slots_.size() * 2);
    const std::size_t mask = name_slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
      if (name_slots_[i] == npos || name_slots_[i] == tomb) {
        if (name_slots_[i] == npos) ++name_used_;
        name_slots_[i] = o;
        name_next_[o] = npos;
        return;
      }
    }
  }
  ordinal& head = name_slots_[s];
  if (o > head) {  // the common case: the newest tenant goes first
    name_next_[o] = head;
    head = o;
    return;
  }
  ordinal prev = head;
  while (name_next_[prev] != npos && name_next_[prev] > o)
    prev = name_next_[prev];
  name_next_[o] = name_next_[prev];
  name_next_[prev] = o;
}

void tenant_index::name_unlink(ordinal o) {
  const std::size_t s = name_slot(name_hash_[o]);
  if (s == npos) return;
  ordinal& head = name_slots_[s];
  if (head == o) {
    head = name_next_[o] == npos ? tomb : name_next_[o];
    return;
  }
  for (ordinal prev = head; name_next_[prev] != npos; prev = name_next_[prev]) {
    if (name_next_[prev] == o) {
      name_next_[prev] = name_next_[o];
      return;
    }
  }
}

// ---- words ----

std::uint32_t tenant_index::word_id(std::string_view w) {
  if (auto it = word_ids_.find(w); it != word_ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(words_.size());
  words_.emplace_back(w);
  word_ids_.emplace(words_.back(), id);
  postings_.emplace_back();
  unsorted_words_.push_back(id);
  if (unsorted_words_.size() >= 1024) merge_unsorted();
  return id;
}

void tenant_index::merge_unsorted() {
  auto less = [this](std::uint32_t a, std::uint32_t b) { return words_[a] < words_[b]; };
  std::sort(unsorted_words_.begin(), unsorted_words_.end(), less);
  const auto mid = sorted_words_.size();
  sorted_words_.insert(sorted_words_.end(), unsorted_words_.begin(), unsorted_words_.end());
  std::inplace_merge(sorted_words_.begin(),
                     sorted_words_.begin() + static_cast<std::ptrdiff_t>(mid), sorted_words_.end(),
                     less);
  unsorted_words_.clear();
}

void tenant_index::words_link(ordinal o, const std::vector<std::string>& words) {
  const std::size_t n = std::min<std::size_t>(words.size(), UINT16_MAX);
  word_off_[o] = static_cast<std::uint32_t>(word_arena_.size());
  word_cnt_[o] = static_cast<std::uint16_t>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = word_id(words[i]);
    word_arena_.push_back(id);
    auto& p = postings_[id];
    if (p.empty() || p.back() < o) {
      p.push_back(o);
    } else {
      auto it = std::lower_bound(p.begin(), p.end(), o);
      if (it == p.end() || *it != o) p.insert(it, o);
    }
  }
}

void tenant_index::words_unlink(ordinal o) {
  for (std::uint32_t i = 0; i < word_cnt_[o]; ++i) {
    auto& p = postings_[word_arena_[word_off_[o] + i]];
    auto it = std::lower_bound(p.begin(), p.end(), o);
    if (it != p.end() && *it == o) p.erase(it);
  }
  arena_garbage_ += word_cnt_[o];
  word_cnt_[o] = 0;
}

std::vector<std::string> tenant_index::words_at(ordinal o) const {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < word_cnt_[o]; ++i)
    out.push_back(words_[word_arena_[word_off_[o] + i]]);
  return out;
}

template <class F>
void tenant_index::for_prefix(std::string_view prefix, F&& f) const {
  // Compared as string_views: clang 14 with libstdc++ 12 (the fuzz build) cannot compile
  // std::string < std::string_view (the rewritten operator<=> candidate).
  auto it = std::lower_bound(
      sorted_words_.begin(), sorted_words_.end(), prefix,
      [this](std::uint32_t id, std::string_view p) { return std::string_view(words_[id]) < p; });
  for (; it != sorted_words_.end() && starts_with(words_[*it], prefix); ++it)
    f(*it);
  for (auto id : unsorted_words_)
    if (starts_with(words_[id], prefix)) f(id);
}

std::uint64_t tenant_index::prefix_cost(std::string_view prefix) const {
  std::uint64_t n = 0;
  for_prefix(prefix, [&](std::uint32_t id) { n += postings_[id].size(); });
  return n;
}

std::vector<const std::vector<tenant_index::ordinal>*> tenant_index::prefix_lists(
    std::string_view prefix) const {
  std::vector<const std::vector<ordinal>*> lists;
  for_prefix(prefix, [&](std::uint32_t id) {
    if (!postings_[id].empty()) lists.push_back(&postings_[id]);
  });
  return lists;
}

std::vector<tenant_index::ordinal> tenant_index::merge_lists(
    const std::vector<const std::vector<ordinal>*>& lists) {
  std::vector<ordinal> out;
  std::size_t total = 0;
  for (auto* l : lists)
    total += l->size();
  out.reserve(total);
  for (auto* l : lists)
    out.insert(out.end(), l->begin(), l->end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool tenant_index::has_word_prefix(ordinal o, std::string_view prefix) const {
  for (std::uint32_t i = 0; i < word_cnt_[o]; ++i)
    if (starts_with(words_[word_arena_[word_off_[o] + i]], prefix)) return true;
  return false;
}

// ---- buckets ----

void tenant_index::grow_buckets(std::size_t ordinals) {
  const std::size_t need = (ordinals + block_words * 64 - 1) / (block_words * 64);
  if (need <= nblocks_) return;
  std::size_t nb = std::max<std::size_t>(nblocks_ * 2, 16);
  while (nb < need)
    nb *= 2;
  nblocks_ = nb;
  for (auto& bb : buckets_) {
    bb.bits.resize(nb * block_words, 0);
    // Rebuild the Fenwick tree in O(n): leaves, then push each to its parent.
    bb.fen.assign(nb + 1, 0);
    for (std::size_t b = 0; b < nb; ++b) {
      std::uint32_t c = 0;
      for (std::uint32_t w = 0; w < block_words; ++w)
        c += static_cast<std::uint32_t>(std::popcount(bb.bits[b * block_words + w]));
      bb.fen[b + 1] += c;
      const std::size_t parent = (b + 1) + ((b + 1) & (~(b + 1) + 1));
      if (parent <= nb) bb.fen[parent] += bb.fen[b + 1];
    }
  }
}

void tenant_index::fen_add(bucket_bits& bb, std::size_t block, std::int32_t delta) {
  for (std::size_t i = block + 1; i <= nblocks_; i += i & (~i + 1))
    bb.fen[i] = static_cast<std::uint32_t>(static_cast<std::int64_t>(bb.fen[i]) + delta);
}

void tenant_index::bucket_insert(std::uint8_t b, ordinal o) {
  auto& bb = buckets_[b];
  bb.bits[o / 64] |= std::uint64_t{1} << (o % 64);
  ++bb.count;
  fen_add(bb, o / (block_words * 64), 1);
}

void tenant_index::bucket_erase(std::uint8_t b, ordinal o) {
  auto& bb = buckets_[b];
  bb.bits[o / 64] &= ~(std::uint64_t{1} << (o % 64));
  --bb.count;
  fen_add(bb, o / (block_words * 64), -1);
}

// ---- writes ----

tenant_index::ordinal tenant_index::add(const uuid16& id, std::uint8_t bucket,
                                        std::string_view folded_name,
                                        const std::vector<std::string>& words) {
  const auto o = static_cast<ordinal>(ids_.size());
  ids_.push_back(id);
  bucket_.push_back(bucket);
  if ((ids_.size()) * 2 > id_slots_.size()) {
    id_rehash(id_slots_.size() * 2);
  } else {
    id_insert(o);
  }
  name_hash_.push_back(hash_name(folded_name));
  name_next_.push_back(npos);
  name_link(o);
  word_off_.push_back(0);
  word_cnt_.push_back(0);
  words_link(o, words);
  grow_buckets(ids_.size());
  bucket_insert(bucket, o);
  return o;
}

void tenant_index::set_bucket(ordinal o, std::uint8_t bucket) {
  if (bucket_[o] == bucket) return;
  bucket_erase(bucket_[o], o);
  bucket_[o] = bucket;
  bucket_insert(bucket, o);
}

void tenant_index::set_name(ordinal o, std::string_view folded_name) {
  const auto h = hash_name(folded_name);
  if (h == name_hash_[o]) return;
  name_unlink(o);
  name_hash_[o] = h;
  name_link(o);
}

void tenant_index::set_words(ordinal o, const std::vector<std::string>& words) {
  words_unlink(o);
  words_link(o, words);
  // Compact the arena once most of it is garbage (descriptions rewritten many times).
  if (arena_garbage_ > 1024 && arena_garbage_ * 2 > word_arena_.size()) {
    std::vector<std::uint32_t> arena;
    arena.reserve(word_arena_.size() - arena_garbage_);
    for (ordinal i = 0; i < ids_.size(); ++i) {
      const auto off = static_cast<std::uint32_t>(arena.size());
      arena.insert(arena.end(), word_arena_.begin() + word_off_[i],
                   word_arena_.begin() + word_off_[i] + word_cnt_[i]);
      word_off_[i] = off;
    }
    word_arena_.swap(arena);
    arena_garbage_ = 0;
  }
}

// ---- queries ----

tenant_index::page tenant_index::select_buckets(std::uint16_t mask, std::uint64_t offset,
                                                std::uint64_t limit) const {
  page out;
  if (mask == all_buckets) {
    // Every indexed tenant is in exactly one bucket: the union is all ordinals.
    out.total = ids_.size();
    for (std::uint64_t o = offset; o < out.total && o < offset + limit; ++o)
      out.ordinals.push_back(static_cast<ordinal>(o));
    return out;
  }
  int active[bucket_count];
  int na = 0;
  for (int b = 0; b < bucket_count; ++b) {
    if (mask & (1u << b)) {
      active[na++] = b;
      out.total += buckets_[b].count;
    }
  }
  if (offset >= out.total || limit == 0) return out;
  // Fenwick descent over the summed trees: the block holding the offset-th match.
  std::size_t pos = 0;
  std::uint64_t rem = offset;
  for (std::size_t step = std::bit_floor(nblocks_); step; step >>= 1) {
    if (pos + step > nblocks_) continue;
    std::uint64_t s = 0;
    for (int i = 0; i < na; ++i)
      s += buckets_[active[i]].fen[pos + step];
    if (s <= rem) {
      pos += step;
      rem -= s;
    }
  }
  const std::size_t nwords = nblocks_ * block_words;
  for (std::size_t w = pos * block_words; w < nwords && out.ordinals.size() < limit; ++w) {
    std::uint64_t bits = 0;
    for (int i = 0; i < na; ++i)
      bits |= buckets_[active[i]].bits[w];
    while (bits && out.ordinals.size() < limit) {
      const int t = std::countr_zero(bits);
      bits &= bits - 1;
      if (rem > 0) {
        --rem;
        continue;
      }
      out.ordinals.push_back(static_cast<ordinal>(w * 64 + static_cast<std::size_t>(t)));
    }
  }
  return out;
}

tenant_index::page tenant_index::query(const filter& f, std::uint64_t offset,
                                       std::uint64_t limit) const {
  if (f.buckets == 0) return {};
  if (!f.folded_name && f.words.empty() && !f.visible)
    return select_buckets(f.buckets, offset, limit);

  // The candidate list to start from: the cheapest of the filters given.
  enum class source { name, visible, word };
  source src = source::name;
  std::size_t src_word = 0;
  std::uint64_t best = UINT64_MAX;
  std::uint64_t name_h = 0;
  std::size_t name_s = npos;
  if (f.folded_name) {
    name_h = hash_name(*f.folded_name);
    name_s = name_slot(name_h);
    if (name_s == npos) return {};
    best = 0;  // chains are short; walk them
    for (ordinal o = name_slots_[name_s]; o != npos; o = name_next_[o])
      ++best;
  }
  if (f.visible && f.visible->size() < best) {
    best = f.visible->size();
    src = source::visible;
  }
  for (std::size_t i = 0; i < f.words.size(); ++i) {
    const auto c = prefix_cost(f.words[i]);
    if (c == 0) return {};
    if (c < best) {
      best = c;
      src = source::word;
      src_word = i;
    }
  }

  std::vector<ordinal> cand;
  // A word whose prefix is one word of the dictionary is read in its posting list, not a copy.
  const std::vector<ordinal>* single = nullptr;
  switch (src) {
    case source::name:
      for (ordinal o = name_slots_[name_s]; o != npos; o = name_next_[o])
        cand.push_back(o);
      std::reverse(cand.begin(), cand.end());
      break;
    case source::visible:
      cand = *f.visible;
      break;
    case source::word: {
      const auto lists = prefix_lists(f.words[src_word]);  // not empty: its cost is not 0
      if (lists.size() == 1)
        single = lists.front();
      else
        cand = merge_lists(lists);
      break;
    }
  }
  const std::vector<ordinal>& from = single ? *single : cand;

  page out;
  // The description alone (one word, one posting list, every status and plan): each ordinal of
  // the list matches, so the total is its size and the page a slice of it. A page costs its
  // length, whatever its depth and the number of matches (a list page over 100 000 matching
  // tenants scanned all of them before).
  if (single && f.words.size() == 1 && !f.folded_name && !f.visible && f.buckets == all_buckets) {
    out.total = single->size();
    for (std::uint64_t i = offset; i < out.total && i < offset + limit; ++i)
      out.ordinals.push_back((*single)[static_cast<std::size_t>(i)]);
    return out;
  }
  for (ordinal o : from) {
    if (o >= ids_.size()) continue;
    if (!(f.buckets & (1u << bucket_[o]))) continue;
    if (f.folded_name && name_hash_[o] != name_h) continue;
    if (f.visible && src != source::visible &&
        !std::binary_search(f.visible->begin(), f.visible->end(), o))
      continue;
    bool words_ok = true;
    for (std::size_t i = 0; i < f.words.size() && words_ok; ++i) {
      if (src == source::word && i == src_word) continue;
      words_ok = has_word_prefix(o, f.words[i]);
    }
    if (!words_ok) continue;
    if (out.total >= offset && out.ordinals.size() < limit) out.ordinals.push_back(o);
    ++out.total;
  }
  return out;
}

std::size_t tenant_index::memory_bytes() const {
  std::size_t n = ids_.capacity() * sizeof(uuid16) + bucket_.capacity() + id_slots_.capacity() * 4 +
                  name_hash_.capacity() * 8 + name_next_.capacity() * 4 +
                  name_slots_.capacity() * 4 + word_off_.capacity() * 4 + word_cnt_.capacity() * 2 +
                  word_arena_.capacity() * 4 + sorted_words_.capacity() * 4;
  for (const auto& w : words_)
    n += sizeof(std::string) + (w.capacity() > 15 ? w.capacity() : 0);
  n += word_ids_.size() * 48;
  for (const auto& p : postings_)
    n += sizeof(p) + p.capacity() * 4;
  for (const auto& bb : buckets_)
    n += bb.bits.capacity() * 8 + bb.fen.capacity() * 4;
  return n;
}

}  // namespace tenant::projections::detail
