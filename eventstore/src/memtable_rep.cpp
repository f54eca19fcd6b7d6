// The memtable of every column family of tenantd's RocksDB databases: a skip list with one
// writer and lock-free readers (LevelDB's design), ordered by bytewise user key, then by
// decreasing sequence number.
//
// Why not RocksDB's own skip list: Debian's librocksdb (7.8.3) is built without NDEBUG, so the
// asserts of its InlineSkipList run on every insert and seek. Each one compares keys again,
// through the virtual comparator chain: a random 16-byte key inserted into a memtable of 20 000
// entries costs 94 key comparisons there (counted through a counting comparator), about three
// times what the search itself needs. This list compares internal keys inline (memcmp of the
// user keys, then the sequence numbers), remembers where the last insert went so that keys
// arriving in order are linked without a search, and has no asserts on the hot path.
//
// It relies on two layouts of RocksDB 7.8 that its public headers do not show, checked by the
// version test below and by the tests in tests/eventstore/memtable_rep_test.cpp:
// - memory/allocator.h: `Allocator`'s virtual functions (the arena an iterator is placed in);
// - db/dbformat.h: `LookupKey` starts with a pointer to the memtable key (varint32 length +
//   internal key).
// Another RocksDB version gets RocksDB's own skip list (make_memtable_factory).

#include <rocksdb/memtablerep.h>
#include <rocksdb/slice.h>
#include <rocksdb/version.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "tenant/eventstore/rocksdb_support.hpp"

#if ROCKSDB_MAJOR == 7 && ROCKSDB_MINOR == 8
#define TENANT_OWN_MEMTABLE 1

namespace rocksdb {
// RocksDB 7.8, memory/allocator.h (not installed). Arena and ConcurrentArena derive from it
// first, so an Arena* is this class's pointer too.
class Allocator {
 public:
  virtual ~Allocator() {}
  virtual char* Allocate(size_t bytes) = 0;
  virtual char* AllocateAligned(size_t bytes, size_t huge_page_size = 0,
                                Logger* logger = nullptr) = 0;
  virtual size_t BlockSize() const = 0;
};
}  // namespace rocksdb
#endif

namespace tenant::eventstore {

#ifdef TENANT_OWN_MEMTABLE
namespace {

using rocksdb::MemTableRep;
using rocksdb::Slice;

constexpr int max_levels = 16;  // 4^16 entries

/// An entry as the memtable stores it: varint32 length, then the internal key (user key + 8
/// bytes of sequence number << 8 | type, little-endian) and the value.
inline Slice decode_entry(const char* p) {
  std::uint32_t len = 0;
  int shift = 0;
  for (;;) {
    const auto b = static_cast<std::uint8_t>(*p++);
    len |= static_cast<std::uint32_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return Slice(p, len);
}

/// InternalKeyComparator::CompareKeySeq over a bytewise user comparator: increasing user key,
/// then decreasing sequence number (the type byte does not take part).
inline int compare_keys(const Slice& a, const Slice& b) {
  const std::size_t au = a.size() - 8;
  const std::size_t bu = b.size() - 8;
  const int r = std::memcmp(a.data(), b.data(), au < bu ? au : bu);
  if (r != 0) return r;
  if (au != bu) return au < bu ? -1 : 1;
  std::uint64_t an = 0;
  std::uint64_t bn = 0;
  std::memcpy(&an, a.data() + au, 8);
  std::memcpy(&bn, b.data() + bu, 8);
  an >>= 8;
  bn >>= 8;
  if (an == bn) return 0;
  return an > bn ? -1 : 1;
}

/// A node, laid out as RocksDB's InlineSkipList does: its links, level i at link(i) (the higher
/// levels lie below level 0 in memory), then the entry right after link 0. Until the node is
/// linked in, link 0 holds its height.
struct node {
  std::atomic<node*> level0;

  std::atomic<node*>& link(int i) { return (&level0)[-i]; }
  node* next(int i) { return link(i).load(std::memory_order_acquire); }
  const char* entry() { return reinterpret_cast<const char*>(this + 1); }
  Slice key() { return decode_entry(entry()); }
  void stash_height(int h) {
    level0.store(reinterpret_cast<node*>(static_cast<std::uintptr_t>(h)),
                 std::memory_order_relaxed);
  }
  int stashed_height() {
    return static_cast<int>(
        reinterpret_cast<std::uintptr_t>(level0.load(std::memory_order_relaxed)));
  }
};

class skip_list_rep final : public MemTableRep {
 public:
  skip_list_rep(const KeyComparator& cmp, rocksdb::Allocator* allocator, bool paranoid)
      : MemTableRep(allocator), cmp_(cmp), paranoid_(paranoid) {
    head_ = make_node(max_levels, 0);
    head_->level0.store(nullptr, std::memory_order_relaxed);
    for (auto& p : splice_)
      p = head_;
  }

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override {
    node* n = make_node(random_height(), len);
    *buf = const_cast<char*>(n->entry());
    return n;
  }

  void Insert(rocksdb::KeyHandle handle) override { insert(static_cast<node*>(handle)); }
  bool InsertKey(rocksdb::KeyHandle handle) override { return insert(static_cast<node*>(handle)); }
  // The list keeps its own place of the last insert: the hints of the column family options
  // are not needed.
  void InsertWithHint(rocksdb::KeyHandle handle, void**) override {
    insert(static_cast<node*>(handle));
  }
  bool InsertKeyWithHint(rocksdb::KeyHandle handle, void**) override {
    return insert(static_cast<node*>(handle));
  }

  bool Contains(const char* key) const override {
    const Slice k = decode_entry(key);
    node* x = greater_or_equal(k);
    return x != nullptr && compare(x->key(), k) == 0;
  }

  void Get(const rocksdb::LookupKey& k, void* callback_args,
           bool (*callback_func)(void* arg, const char* entry)) override {
    // RocksDB 7.8's LookupKey begins with `const char* start_`, the memtable key.
    const char* memtable_key = *reinterpret_cast<const char* const*>(&k);
    for (node* x = greater_or_equal(decode_entry(memtable_key));
         x != nullptr && callback_func(callback_args, x->entry()); x = x->next(0)) {
    }
  }

  size_t ApproximateMemoryUsage() override { return 0; }  // all of it is in the arena

  class iterator final : public MemTableRep::Iterator {
   public:
    explicit iterator(const skip_list_rep* list) : list_(list) {}
    bool Valid() const override { return node_ != nullptr; }
    const char* key() const override { return node_->entry(); }
    void Next() override { node_ = node_->next(0); }
    void Prev() override {
      node_ = list_->less_than(node_->key());
      if (node_ == list_->head_) node_ = nullptr;
    }
    void Seek(const Slice& internal_key, const char* memtable_key) override {
      node_ = list_->greater_or_equal(memtable_key ? decode_entry(memtable_key) : internal_key);
    }
    void SeekForPrev(const Slice& internal_key, const char* memtable_key) override {
      const Slice target = memtable_key ? decode_entry(memtable_key) : internal_key;
      node_ = list_->greater_or_equal(target);
      if (node_ == nullptr) SeekToLast();
      while (node_ != nullptr && list_->compare(target, node_->key()) < 0)
        Prev();
    }
    void SeekToFirst() override { node_ = list_->head_->next(0); }
    void SeekToLast() override {
      node_ = list_->last();
      if (node_ == list_->head_) node_ = nullptr;
    }

   private:
    const skip_list_rep* list_;
    node* node_ = nullptr;
  };

  MemTableRep::Iterator* GetIterator(rocksdb::Arena* arena) override {
    if (arena == nullptr) return new iterator(this);
    // RocksDB destroys an iterator placed in its arena without freeing it.
    void* mem = reinterpret_cast<rocksdb::Allocator*>(arena)->AllocateAligned(sizeof(iterator));
    return new (mem) iterator(this);
  }

 private:
  node* make_node(int height, std::size_t entry_len) {
    const std::size_t links = sizeof(std::atomic<node*>) * static_cast<std::size_t>(height);
    char* mem = allocator_->AllocateAligned(links + entry_len);
    auto* n = new (mem + links - sizeof(std::atomic<node*>)) node{};
    for (int i = 1; i < height; ++i)
      new (&n->link(i)) std::atomic<node*>(nullptr);
    n->stash_height(height);
    return n;
  }

  int random_height() {
    // xorshift64; only the writer allocates (no concurrent memtable writes).
    rnd_ ^= rnd_ << 13;
    rnd_ ^= rnd_ >> 7;
    rnd_ ^= rnd_ << 17;
    int h = 1;
    std::uint64_t bits = rnd_;
    while (h < max_levels && (bits & 3) == 0) {  // branching factor 4
      ++h;
      bits >>= 2;
    }
    return h;
  }

  int compare(const Slice& a, const Slice& b) const {
    const int r = compare_keys(a, b);
    if (paranoid_) check(r, a, b);
    return r;
  }

  void check(int r, const Slice& a, const Slice& b) const;

  int height() const { return max_height_.load(std::memory_order_relaxed); }

  /// The last node whose key is < k (head_ when there is none) and the first whose key is >= k
  /// (null when there is none). With `prev`, also the last node before k at every level; with
  /// `equal`, whether that first node's key is k.
  std::pair<node*, node*> bracket(const Slice& k, node** prev = nullptr,
                                  bool* equal = nullptr) const {
    node* x = head_;
    node* known_bigger = nullptr;  // compared at a higher level already
    bool same = false;             // known_bigger's key is k
    for (int level = height() - 1;; --level) {
      for (;;) {
        node* n = x->next(level);
        if (n == nullptr || n == known_bigger) {
          known_bigger = n;
          same = same && n != nullptr;
          break;
        }
        const int c = compare(n->key(), k);
        if (c >= 0) {
          known_bigger = n;
          same = c == 0;
          break;
        }
        x = n;
      }
      if (prev) prev[level] = x;
      if (level == 0) {
        if (equal) *equal = same;
        return {x, known_bigger};
      }
    }
  }
  node* greater_or_equal(const Slice& k) const { return bracket(k).second; }
  node* less_than(const Slice& k) const { return bracket(k).first; }

  node* last() const {
    node* x = head_;
    for (int level = height() - 1; level >= 0; --level)
      for (node* n = x->next(level); n != nullptr; n = x->next(level))
        x = n;
    return x;
  }

  /// Links x in. False (and x unlinked) when an entry with the same key and sequence number is
  /// in the list already.
  bool insert(node* x) {
    const Slice k = x->key();
    const int levels = height();
    node* prev[max_levels];
    bool placed = false;
    if (last_ != nullptr) {
      // The place after the last insert: keys that arrive in order need no search. splice_[i]
      // is the last node before that place at level i.
      const int c = compare(last_->key(), k);
      if (c == 0) return false;
      if (c < 0) {
        node* after = last_->link(0).load(std::memory_order_relaxed);
        const int d = after == nullptr ? -1 : compare(k, after->key());
        if (d == 0) return false;
        if (d < 0) {
          for (int i = 0; i < levels; ++i)
            prev[i] = splice_[i];
          placed = true;
        }
      }
    }
    if (!placed) {
      bool duplicate = false;
      bracket(k, prev, &duplicate);
      if (duplicate) return false;
    }
    const int h = x->stashed_height();
    if (h > levels) {
      for (int i = levels; i < h; ++i)
        prev[i] = head_;
      // Readers that see the new height before the links find null there and go down.
      max_height_.store(h, std::memory_order_relaxed);
    }
    for (int i = 0; i < h; ++i) {
      x->link(i).store(prev[i]->link(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
      prev[i]->link(i).store(x, std::memory_order_release);  // publishes the entry too
    }
    const int now = h > levels ? h : levels;
    for (int i = 0; i < now; ++i)
      splice_[i] = i < h ? x : prev[i];
    last_ = x;
    return true;
  }

  const KeyComparator& cmp_;  // RocksDB's comparator: the paranoid check's reference
  const bool paranoid_;
  node* head_ = nullptr;
  std::atomic<int> max_height_{1};
  // Writer only:
  node* last_ = nullptr;
  node* splice_[max_levels];
  std::uint64_t rnd_ = 0x9e3779b97f4a7c15ull;
};

void skip_list_rep::check(int r, const Slice& a, const Slice& b) const {
  // RocksDB's comparator takes the memtable form (length-prefixed); build it for both.
  auto prefixed = [](const Slice& s, std::string& out) {
    out.clear();
    std::uint32_t v = static_cast<std::uint32_t>(s.size());
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    out.append(s.data(), s.size());
  };
  std::string pa;
  std::string pb;
  prefixed(a, pa);
  prefixed(b, pb);
  const int ref = cmp_(pa.data(), pb.data());
  if ((r < 0) != (ref < 0) || (r > 0) != (ref > 0)) std::abort();
}

class skip_list_factory final : public rocksdb::MemTableRepFactory {
 public:
  explicit skip_list_factory(bool paranoid) : paranoid_(paranoid) {}
  MemTableRep* CreateMemTableRep(const MemTableRep::KeyComparator& cmp,
                                 rocksdb::Allocator* allocator, const rocksdb::SliceTransform*,
                                 rocksdb::Logger*) override {
    return new skip_list_rep(cmp, allocator, paranoid_);
  }
  const char* Name() const override { return "TenantSkipListFactory"; }
  bool IsInsertConcurrentlySupported() const override { return false; }
  bool CanHandleDuplicatedKey() const override { return true; }

 private:
  bool paranoid_;
};

}  // namespace
#endif

std::shared_ptr<rocksdb::MemTableRepFactory> make_memtable_factory(bool paranoid) {
#ifdef TENANT_OWN_MEMTABLE
  // One factory serves every column family of every database (it holds no state of its own).
  static const auto shared = std::make_shared<skip_list_factory>(false);
  return paranoid ? std::make_shared<skip_list_factory>(true) : shared;
#else
  (void)paranoid;
  static const auto shared = std::make_shared<rocksdb::SkipListFactory>();
  return shared;
#endif
}

bool own_memtable() {
#ifdef TENANT_OWN_MEMTABLE
  return true;
#else
  return false;
#endif
}

}  // namespace tenant::eventstore
