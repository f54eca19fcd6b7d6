// Offline tooling: replay into a shadow generation, export/import of the log as NDJSON, and the
// comparison of the projections with a fresh in-memory fold (verify).
#include "tenant/projections/tooling.hpp"

#include <pthread.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <initializer_list>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "db.hpp"
#include "fold.hpp"
#include "log_scan.hpp"
#include "row_codec.hpp"
#include "sets.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::projections {

namespace {

using namespace detail;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

result<std::vector<std::string>> resolve_names(const std::vector<std::string>& in) {
  std::set<std::string> out;
  for (const auto& n : in) {
    if (n == "all") {
      for (const auto& p : projection_names())
        out.insert(p);
    } else if (is_projection(n)) {
      out.insert(n);
    } else {
      return make_error_code(errc::unknown_projection);
    }
  }
  if (out.empty()) return make_error_code(errc::unknown_projection);
  return std::vector<std::string>(out.begin(), out.end());
}

// Decoded batches, read and decoded by several threads (batch b by thread b % n) and handed to
// the folding thread in log order. At most `capacity` batches are ahead of the consumer, so
// memory is bounded by batch size.
class decode_pipeline {
 public:
  decode_pipeline(eventstore::event_store& store, const log_scanner* scanner, std::uint64_t from,
                  std::uint64_t target, std::size_t batch, std::size_t threads, bool fold)
      : store_(store), scanner_(scanner), from_(from), target_(target), batch_(batch), fold_(fold) {
    batches_ = target > from ? (target - from + batch - 1) / batch : 0;
    capacity_ = std::max<std::size_t>(threads, 1) * 2;
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
      threads_.emplace_back([this] { run(); });
  }
  ~decode_pipeline() {
    {
      std::lock_guard lk(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

  /// The next batch in log order; nullopt at the end (or on an error: see error()).
  std::optional<std::vector<decoded_event>> pop() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return error_ || next_out_ >= batches_ || ready_.contains(next_out_); });
    if (error_ || next_out_ >= batches_) return std::nullopt;
    auto node = ready_.extract(next_out_++);
    cv_.notify_all();
    return std::move(node.mapped());
  }
  std::error_code error() {
    std::lock_guard lk(mu_);
    return error_;
  }
  /// Hands a consumed batch back: a decoding thread reuses its vector and frees its elements
  /// there (freeing thousands of small strings is work the folding thread should not do).
  void recycle(std::vector<decoded_event> b) {
    std::lock_guard lk(mu_);
    garbage_.push_back(std::move(b));
  }

 private:
  void run() {
    pthread_setname_np(pthread_self(), "replay-decode");
    while (true) {
      std::uint64_t b = 0;
      // A consumed batch's vector is reused (its elements freed here, its capacity kept): a
      // fresh multi-megabyte vector per batch cost page faults, and freeing one made glibc
      // consolidate its free lists. One spare is taken per batch and a new vector is made only
      // when there is none, so at most capacity + threads + 1 vectors ever exist.
      std::vector<decoded_event> out;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return closed_ || error_ || next_claim_ < next_out_ + capacity_; });
        if (closed_ || error_ || next_claim_ >= batches_) return;
        b = next_claim_++;
        if (!garbage_.empty()) {
          out = std::move(garbage_.back());
          garbage_.pop_back();
        }
      }
      out.clear();
      const std::uint64_t first = from_ + 1 + b * batch_;
      const std::uint64_t last = std::min<std::uint64_t>(target_, first + batch_ - 1);
      out.reserve(static_cast<std::size_t>(last - first + 1));
      std::error_code ec;
      if (scanner_) {
        // One pass per stored value (decode_stored: in place when the value is in the encoder's
        // form, else On-Demand); the codec's header scan and full decode only for what that pass
        // does not take (older schemas, foreign layouts).
        eventstore::recorded_event r;
        ec = scanner_->scan_values(
            first, last, [&](std::uint64_t position, std::string_view value) -> std::error_code {
              auto& d = out.emplace_back();
              if (decode_stored(value, fold_, d)) {
                return d.position == position ? std::error_code()
                                              : make_error_code(errc::corruption);
              }
              if (auto bad = to_recorded_event(position, value, r); bad) return bad;
              d = decoded_event();
              return decode_into(r, fold_, d);
            });
      }
      for (std::uint64_t next = first; !scanner_ && next <= last && !ec;) {
        auto events = store_.read_all(next, static_cast<std::size_t>(last - next + 1));
        if (!events) {
          ec = make_error_code(errc::storage_unavailable);
          break;
        }
        if (events->empty()) {
          ec = make_error_code(errc::corruption);
          break;
        }
        for (const auto& r : *events) {
          if (r.position != next || r.position > last) {
            ec = make_error_code(errc::corruption);
            break;
          }
          // The same decoder as the direct scan (so the property tests over memory stores
          // cover it), the codec for what it does not take.
          if ((ec = decode_recorded(r, fold_, out.emplace_back()))) break;
          ++next;
        }
      }
      std::lock_guard lk(mu_);
      if (ec) {
        if (!error_) error_ = ec;
      } else {
        ready_.emplace(b, std::move(out));
      }
      cv_.notify_all();
    }
  }

  eventstore::event_store& store_;
  const log_scanner* scanner_;
  std::uint64_t from_, target_;
  std::size_t batch_;
  bool fold_;
  std::uint64_t batches_ = 0;
  std::size_t capacity_ = 4;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, std::vector<decoded_event>> ready_;
  std::vector<std::vector<decoded_event>> garbage_;
  std::uint64_t next_claim_ = 0, next_out_ = 0;
  bool closed_ = false;
  std::error_code error_;
  std::vector<std::thread> threads_;
};

// Ids compared as two 64-bit words: std::array's operators call memcmp (5% of the folding
// thread in the profile, between the row lookups and the sort of the dirty rows).
bool same_id(const uuid16& a, const uuid16& b) {
  std::uint64_t x[2], y[2];
  std::memcpy(x, a.data(), 16);
  std::memcpy(y, b.data(), 16);
  return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}
// Software prefetch of the cache line at `p`. GCC 12 at -O2 deleted the __builtin_prefetch calls
// of this file (one of about fifteen was left in the binary, none in the folding loop): it finds
// the helpers without side effects and drops their calls. The instruction written out stays.
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}
// Software prefetch of the `n` bytes at `p`, one cache line at a time.
void prefetch_bytes(const void* p, std::size_t n) {
  for (std::size_t off = 0; off < n; off += 64)
    prefetch(static_cast<const char*>(p) + off);
}
// Byte order of ids (their key order), from big-endian words.
bool id_less(const uuid16& a, const uuid16& b) {
  std::uint64_t x[2], y[2];
  std::memcpy(x, a.data(), 16);
  std::memcpy(y, b.data(), 16);
  const auto x0 = __builtin_bswap64(x[0]), y0 = __builtin_bswap64(y[0]);
  if (x0 != y0) return x0 < y0;
  return __builtin_bswap64(x[1]) < __builtin_bswap64(y[1]);
}

// The replay's tenant rows by id: rows in one vector, an open-addressing table of (hash tag,
// slot) probed linearly. A lookup touches one 8-byte table entry and the row itself, where
// std::unordered_map chased a bucket, a predecessor node and the node (three cache misses per
// event over 100k+ rows: 8% of the replay's CPU). Rows move when the vector grows: pointers
// are valid until the next insert.
template <class Row>
class row_table {
 public:
  void reserve(std::size_t n) {
    rows_.reserve(n);
    rehash(n);
  }
  std::size_t size() const { return rows_.size(); }

  Row* find(const uuid16& id) {
    if (table_.empty()) return nullptr;
    const auto h = uuid16_hash()(id);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t e = table_[i];
      if (e == 0) return nullptr;
      if (static_cast<std::uint32_t>(e >> 32) == tag) {
        Row& r = rows_[static_cast<std::uint32_t>(e) - 1];
        if (same_id(r.id, id)) return &r;
      }
    }
  }
  Row& at(const uuid16& id) { return *find(id); }  // REQUIRES: present
  /// Where a row sits: stable until the next evict_if (inserts only append).
  std::uint32_t slot_of(const Row& r) const {
    return static_cast<std::uint32_t>(&r - rows_.data());
  }
  Row& at_slot(std::uint32_t slot) { return rows_[slot]; }

  // Software prefetch for a lookup a few events ahead: the table entry first, then (once that
  // entry is likely cached) the row it points to. The replay's rows do not fit any cache, and
  // the lookup's misses were the folding thread's largest cost after the decoding moved off it.
  void prefetch_entry(const uuid16& id) const {
    if (!table_.empty()) prefetch(&table_[uuid16_hash()(id) & mask_]);
  }
  void prefetch_row(const uuid16& id) const {
    if (table_.empty()) return;
    const auto h = uuid16_hash()(id);
    const std::uint64_t e = table_[h & mask_];
    if (e == 0 || static_cast<std::uint32_t>(e >> 32) != static_cast<std::uint32_t>(h >> 32))
      return;  // a miss or a collision: not worth a probe
    prefetch_bytes(&rows_[static_cast<std::uint32_t>(e) - 1],
                   std::min<std::size_t>(sizeof(Row), 256));
  }

  /// REQUIRES: `r.id` is not in the table.
  Row& insert(Row r) {
    if ((rows_.size() + 1) * 2 > table_.size()) rehash(std::max<std::size_t>(rows_.size() * 2, 64));
    rows_.push_back(std::move(r));
    place(rows_.back().id, rows_.size() - 1);
    return rows_.back();
  }

  /// Drops the rows `evict` returns true for (called in storage order), then rebuilds the table.
  template <class F>
  void evict_if(F evict) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (evict(rows_[i])) continue;
      if (out != i) rows_[out] = std::move(rows_[i]);
      ++out;
    }
    rows_.resize(out);
    rehash(rows_.capacity());
  }

  void swap(row_table& o) noexcept {
    rows_.swap(o.rows_);
    table_.swap(o.table_);
    std::swap(mask_, o.mask_);
  }

 private:
  void place(const uuid16& id, std::size_t slot) {
    const auto h = uuid16_hash()(id);
    std::size_t i = h & mask_;
    while (table_[i] != 0)
      i = (i + 1) & mask_;
    table_[i] = (h & 0xffffffff00000000ull) | static_cast<std::uint64_t>(slot + 1);
  }
  // At most half full: short probes.
  void rehash(std::size_t rows) {
    std::size_t n = 64;
    while (n < rows * 2)
      n *= 2;
    if (n < table_.size()) n = table_.size();
    table_.assign(n, 0);
    mask_ = n - 1;
    for (std::size_t i = 0; i < rows_.size(); ++i)
      place(rows_[i].id, i);
  }

  std::vector<Row> rows_;
  std::vector<std::uint64_t> table_;
  std::size_t mask_ = 0;
};

// The folding side of the offline replay: a write-back cache of tenant rows and pending
// membership writes. Nothing is written per event; at a persist point every dirty row, the
// index entries that changed, the memberships and the checkpoints are written as sorted SST
// files and ingested in one atomic step (no WAL, no memtable: the bulk of the speed-up).
class replay_writer {
 public:
  struct target {
    std::string name;
    generation_ptr old_active;
    generation_ptr shadow;
    std::uint64_t checkpoint = 0;
  };

  replay_writer(projections_db& db, std::vector<target>& targets, std::size_t budget)
      : db_(db), targets_(targets), budget_(budget) {
    for (auto& t : targets_)
      (t.name == "tenants" ? tenants_ : members_) = &t;
    // A shadow copy started from nothing has no rows on disk until a row is evicted: a miss
    // then needs no read.
    shadow_may_have_rows_ = tenants_ && tenants_->checkpoint > 0;
    ingest_dir_ = (std::filesystem::path(db.path()) / "replay-ingest").string();
  }

  bool folds_tenants() const { return tenants_ != nullptr; }

  /// Sizes the row table for about `events` events up front (a log has roughly one tenant per
  /// few events): growing a table of 100k+ rows rehashes it several times. Capped by what the
  /// row budget can hold.
  void reserve(std::uint64_t events) {
    if (!tenants_) return;
    const auto rows = std::min<std::uint64_t>(events / 4 + 1'024, budget_ / 512 + 1'024);
    rows_.reserve(static_cast<std::size_t>(rows));
  }

  std::error_code apply(decoded_event& e) {
    // Memberships first: apply_tenant takes the event's strings (created_by among them).
    if (members_ && e.position > members_->checkpoint) apply_member(e);
    if (tenants_ && e.position > tenants_->checkpoint && e.tenant) {
      if (auto ec = apply_tenant(e); ec) return ec;
    }
    return {};
  }

  /// Everything folded so far becomes durable together with checkpoint `position`. `last`: no
  /// more events follow (the replay's end), so the rows are not marked clean for reuse.
  std::error_code persist(std::uint64_t position, bool last = false) {
    std::error_code ec = write_out(position, last);
    if (ec) return ec;
    for (auto& t : targets_)
      t.checkpoint = std::max(t.checkpoint, position);
    if (bytes_ > budget_ && !last) {
      shadow_may_have_rows_ = true;
      // Every row is clean now (just written): drop a quarter of the budget's worth.
      rows_.evict_if([&](const row& r) {
        if (bytes_ <= budget_ / 4 * 3) return false;
        bytes_ -= r.bytes;
        return true;
      });
    }
    return {};
  }

  bool over_budget() const { return bytes_ + member_bytes_ > budget_; }

  /// Runs `f` (the swap at the end of a replay) while two other threads free the folded rows:
  /// freeing 200 000 rows and their strings took about 5% of a 1M-event replay, on one core
  /// after everything else had finished. The final persist (`last`) starts those threads as soon
  /// as its files are written, so the freeing also overlaps the ingestion. The writer holds no
  /// rows afterwards.
  template <class F>
  std::error_code while_freeing_rows(F f) {
    start_freeing_rows();
    const std::error_code ec = f();
    freeing_.join();
    freeing2_.join();
    return ec;
  }

  // Frees every string of `v`, leaving it empty. Not `v = tenant_view()`: a string assigned a
  // short one (an empty one included) keeps its heap buffer, so that freed nothing until the
  // rows themselves were destroyed, all on one thread.
  static void release(tenant_view& v) {
    std::destroy_at(&v);
    std::construct_at(&v);
  }

  // Two threads free what the rows still hold, each half of them; the last one done drops the
  // emptied table. At the end of a replay the rows threads have freed the strings of every row
  // they wrote (write_rows, which leaves them marked dirty): what is left are rows written at an
  // earlier persist point, and the table itself. (A dirty row that still held strings would be
  // freed with the table.)
  void start_freeing_rows() {
    if (freeing_.joinable()) return;
    auto dying = std::make_shared<row_table<row>>();
    dying->swap(rows_);
    bytes_ = 0;
    const std::size_t n = dying->size(), half = n / 2;
    auto empty = [](row_table<row>& t, std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        row& r = t.at_slot(static_cast<std::uint32_t>(i));
        if (!r.dirty) release(r.view);
      }
    };
    freeing2_ = std::jthread([dying, half, empty] { empty(*dying, 0, half); });
    freeing_ = std::jthread(
        [dying = std::move(dying), half, n, empty]() mutable { empty(*dying, half, n); });
  }

  void prefetch_entry(const decoded_event& e) const {
    if (tenants_ && e.tenant) rows_.prefetch_entry(*e.tenant);
  }
  void prefetch_row(const decoded_event& e) const {
    if (tenants_ && e.tenant) rows_.prefetch_row(*e.tenant);
  }

 private:
  struct row {
    uuid16 id{};
    tenant_view view;
    bool dirty = false;
    bool indexed = false;  // the index entries on disk describe this tenant
    domain::tenant_status disk_status = domain::tenant_status::none;
    domain::plan_tier disk_plan = domain::plan_tier::starter;
    bool text_dirty = false;  // the name or description changed since the last persist
    std::size_t bytes = 0;
  };

  result<row*> load(const uuid16& id) {
    if (row* found = rows_.find(id)) return found;
    row r;
    r.id = id;
    std::string value;
    rocksdb::Status s = rocksdb::Status::NotFound();
    if (shadow_may_have_rows_)
      s = db_.db()->Get(rocksdb::ReadOptions(), tenants_->shadow->cfs[0], as_view(id), &value);
    if (!s.ok() && !s.IsNotFound()) return to_error(s);
    if (s.ok()) {
      auto v = decode_view(value);
      if (!v) return make_error_code(errc::corruption);
      r.view = std::move(*v);
      r.indexed = r.view.state.exists() && r.view.created_position != 0;
      r.disk_status = r.view.state.status;
      r.disk_plan = r.view.state.subscription.plan;
    }
    r.bytes = view_bytes(r.view) + 96;
    bytes_ += r.bytes;
    return &rows_.insert(std::move(r));
  }

  std::error_code apply_tenant(decoded_event& e) {
    auto loaded = load(*e.tenant);
    if (!loaded) return loaded.error();
    row& r = **loaded;
    const bool existed = r.view.state.exists();
    // Only TenantCreated and TenantUpdated change the name or the description; compare before
    // evolving, against the event's profile (no copies).
    const domain::tenant_profile* incoming = nullptr;
    if (auto* c = std::get_if<domain::tenant_created>(&e.event.data)) incoming = &c->profile;
    if (auto* u = std::get_if<domain::tenant_updated>(&e.event.data)) incoming = &u->profile;
    const bool text_changed =
        incoming && (!existed || incoming->name != r.view.state.profile.name ||
                     incoming->description != r.view.state.profile.description);
    const bool created = std::holds_alternative<domain::tenant_created>(e.event.data);
    // The decoded event is ours and dropped after this call: apply it in place, taking its
    // strings (evolve() would move the 600-byte state in and out and copy the profile). The
    // batch-vs-one-event property test (tooling_test) compares the result with evolve's own.
    domain::apply_in_place(r.view.state, std::move(e.event));
    if (!r.view.state.seen_payment_ids.empty()) r.view.state.seen_payment_ids.clear();
    r.view.last_position = e.position;
    if (!existed && r.view.created_position == 0 && created) r.view.created_position = e.position;
    if (incoming) r.text_dirty = r.text_dirty || text_changed;
    if (!r.dirty) {
      r.dirty = true;
      dirty_.push_back({*e.tenant, rows_.slot_of(r)});
    }
    return {};
  }

  void apply_member(const decoded_event& e) {
    // One entry per event (a short key, usually without an allocation); sorted and folded into
    // "current" and membership keys at persist time (write_members).
    auto put = [&](const std::string& user, const uuid16& t) {
      member_puts_.push_back({member_prefix(user), t});
      member_bytes_ += sizeof(member_put) + user.size();
    };
    if (const auto* c = std::get_if<domain::tenant_created>(&e.event.data)) {
      const auto t = tenant_key(c->id);
      if (!c->created_by.empty() && t) put(c->created_by.str(), *t);
    } else if (const auto* s = std::get_if<domain::user_switched_tenant>(&e.event.data)) {
      const auto t = tenant_key(s->tenant);
      if (!s->user.empty() && t) put(s->user.str(), *t);
    }
  }

  // One SST file written in key order straight from the folded state (no intermediate
  // key/value strings); opened at the first entry, so an empty one costs nothing.
  class sst_out {
   public:
    sst_out(replay_writer& w, std::string name) : w_(w), name_(std::move(name)) {}
    void put(std::string_view k, std::string_view v) {
      if (!s_.ok()) return;
      if (!open_) {
        rocksdb::Options o(rocksdb::DBOptions(), w_.db_.column_options());
        // Uncompressed: compression would cost more than the whole fold; compactions compress
        // later.
        o.compression = rocksdb::kNoCompression;
        // 16 KiB blocks (a quarter of the blocks, index entries and block flushes of the
        // default 4 KiB), and no Bloom filter in the index's and the memberships' files: those
        // two are only ever read by iterating, never by key (rows and checkpoints are read by
        // key and keep theirs). Compactions rewrite the files with the family's own options.
        rocksdb::BlockBasedTableOptions t;
        t.format_version = 5;
        t.block_size = 16u << 10;
        if (name_ != "index" && name_ != "members")
          t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
        o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
        // The file is moved into the database and read soon after (the swap, the first
        // queries): keep its pages cached rather than fadvise(DONTNEED) them while writing.
        writer_.emplace(rocksdb::EnvOptions(), o, nullptr, /*invalidate_page_cache=*/false);
        // Files of one persist are written by two threads: the number is atomic.
        file_ = w_.ingest_dir_ + "/" + name_ + "-" + std::to_string(++w_.files_) + ".sst";
        s_ = writer_->Open(file_);
        open_ = true;
        if (!s_.ok()) return;
      }
      s_ = writer_->Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size()));
    }
    /// The finished file ("" when nothing was put). Finishing syncs the file: each writing
    /// thread finishes its own file, so the syncs run side by side and beside the other
    /// threads' work, not one after the other before the ingestion. Idempotent.
    result<std::string> finish() {
      if (open_ && s_.ok() && !finished_) s_ = writer_->Finish();
      finished_ = true;
      if (!s_.ok()) return to_error(s_);
      return open_ ? file_ : std::string();
    }

   private:
    replay_writer& w_;
    std::string name_;
    std::optional<rocksdb::SstFileWriter> writer_;
    std::string file_;
    rocksdb::Status s_;
    bool open_ = false;
    bool finished_ = false;
  };

  // Memberships in key order: per user (keys are length-prefixed, so no other user's key sorts
  // between a user's prefix and its membership keys) the current tenant (the last event's),
  // then each tenant once.
  void write_members(sst_out& out) {
    // Sorted through 24-byte items (the key's first 16 bytes as two big-endian words, then the
    // entry's index, which is its event order): sorting the entries themselves moved their
    // strings and compared them through memcmp, a fifth of the final persist's CPU. Keys equal
    // in their first 16 bytes (the same user, nearly always) are compared in full.
    struct item {
      std::uint64_t k0, k1;
      std::uint32_t i;
    };
    std::vector<item> order(member_puts_.size());
    for (std::size_t i = 0; i < member_puts_.size(); ++i) {
      unsigned char b[16] = {};
      const auto& key = member_puts_[i].key;
      std::memcpy(b, key.data(), std::min<std::size_t>(key.size(), 16));
      std::uint64_t w[2];
      std::memcpy(w, b, 16);
      order[i] = {__builtin_bswap64(w[0]), __builtin_bswap64(w[1]), static_cast<std::uint32_t>(i)};
    }
    std::sort(order.begin(), order.end(), [&](const item& a, const item& b) {
      if (a.k0 != b.k0) return a.k0 < b.k0;
      if (a.k1 != b.k1) return a.k1 < b.k1;
      const auto& x = member_puts_[a.i];
      const auto& y = member_puts_[b.i];
      if (int c = x.key.compare(y.key); c != 0) return c < 0;
      if (!same_id(x.tenant, y.tenant)) return id_less(x.tenant, y.tenant);
      return a.i < b.i;
    });
    std::string k;
    for (std::size_t i = 0; i < order.size();) {
      const member_put& first = member_puts_[order[i].i];
      std::size_t end = i + 1;
      while (end < order.size() && member_puts_[order[end].i].key == first.key)
        ++end;
      // The user's current tenant: the one of its last event.
      std::uint32_t current = order[i].i;
      for (std::size_t j = i + 1; j < end; ++j)
        current = std::max(current, order[j].i);
      out.put(first.key, as_view(member_puts_[current].tenant));
      for (std::size_t j = i; j < end; ++j) {
        const auto& t = member_puts_[order[j].i].tenant;
        if (j > i && same_id(t, member_puts_[order[j - 1].i].tenant)) continue;
        k.assign(first.key);
        k.append(as_view(t));
        out.put(k, {});
      }
      i = end;
    }
    out.finish();
  }

  // The index entries of one rows thread's rows (write_rows), their values in one buffer,
  // sorted by key (creation position, then tag) once the rows are written, then written by that
  // thread into its own index file (write_index).
  struct index_part {
    struct item {
      std::uint64_t key;  // created position * 2 + tag: the index key's order
      std::uint64_t off;
      std::size_t len;
    };
    std::vector<item> items;
    std::string bytes;
    void add(std::uint64_t created, char tag, std::string_view v) {
      items.push_back({created * 2 + static_cast<std::uint64_t>(tag), bytes.size(), v.size()});
      bytes.append(v);
    }
    // The text entry of `profile`, folded straight into the buffer.
    void add_text(std::uint64_t created, const domain::tenant_profile& profile) {
      const std::size_t at = bytes.size();
      append_index_text_value(bytes, profile);
      items.push_back(
          {created * 2 + static_cast<std::uint64_t>(index_tag_text), at, bytes.size() - at});
    }
    void sort() {
      std::sort(items.begin(), items.end(),
                [](const item& a, const item& b) { return a.key < b.key; });
    }
    std::string_view value(const item& i) const {
      return std::string_view(bytes).substr(i.off, i.len);
    }
    void clear() {
      items.clear();
      bytes.clear();
    }
  };

  // One rows thread's index entries, in key order, into its own file. The two threads' files
  // overlap in key range (each holds the entries of a random half of the tenants, no key in
  // both) and are ingested together: RocksDB places overlapping files of one ingestion in L0,
  // each with its own sequence number. No merge of the two parts, so neither thread waits for
  // the other's rows.
  static void write_index(const index_part& part, sst_out& out) {
    for (const auto& it : part.items)
      out.put(index_key(it.key / 2, static_cast<char>(it.key % 2)), part.value(it));
    out.finish();
  }

  // The heap bytes of a row's strings (those past the small-string buffer), for a prefetch
  // before encoding it: the rows are encoded in key order, i.e. at random places in memory.
  static void prefetch_strings(const tenant_view& v) {
    const auto& s = v.state;
    const auto& p = s.profile;
    auto one = [](const std::string& x) { prefetch(x.data()); };
    auto opt = [&](const std::optional<std::string>& x) {
      if (x) one(*x);
    };
    one(s.id.str());
    one(p.name);
    opt(p.admin_email);
    opt(p.domain);
    opt(p.address);
    opt(p.city);
    opt(p.description);
    one(p.group_id);
    one(p.group_name);
    one(s.country_name);
    one(s.created_by.str());
  }

  // The dirty rows [begin, end), sorted by id, into one SST file (a rows thread of write_out),
  // encoding each into `value` (the thread's own buffer), and their index entries into `index`
  // (sorted at the end): the bucket entry of a row whose status or plan changed, the text entry
  // (append_index_text_value) of one whose name or description did. The text is folded
  // here, once per tenant and persist point from its final profile, not per event, while the
  // row's strings are in this core's cache for the encoding; no folded text is kept on the rows.
  // `last`: the end of a replay; each row's strings are freed right after, here too (freeing
  // 200 000 rows afterwards, from cold memory, was the replay's last step).
  void write_rows(sst_out& rows, std::size_t begin, std::size_t end, std::string& value,
                  index_part& index, bool last) {
    for (std::size_t i = begin; i < end; ++i) {
      // The row 8 ahead, then (its string pointers being cached by now) the strings of the
      // row 4 ahead.
      if (i + 8 < end) prefetch_bytes(&rows_.at_slot(dirty_[i + 8].slot), sizeof(row));
      if (i + 4 < end) prefetch_strings(rows_.at_slot(dirty_[i + 4].slot).view);
      row& r = rows_.at_slot(dirty_[i].slot);
      value.clear();
      encode_view(r.view, value);
      rows.put(as_view(dirty_[i].id), value);
      const auto& st = r.view.state;
      if (st.exists() && r.view.created_position != 0) {
        const auto created = r.view.created_position;
        if (!r.indexed || r.disk_status != st.status || r.disk_plan != st.subscription.plan)
          index.add(created, index_tag_bucket,
                    index_bucket_value(dirty_[i].id, st.status, st.subscription.plan));
        if (!r.indexed || r.text_dirty) index.add_text(created, st.profile);
      }
      if (last) release(r.view);
    }
    index.sort();
    rows.finish();
  }

  // Splits dirty_ in place at a sampled median id: the rows before the returned index have
  // smaller ids than every row from it on (all of dirty_ when it holds fewer than 16 rows).
  std::size_t split_dirty() {
    const std::size_t n = dirty_.size();
    if (n < 16) return n;
    std::vector<uuid16> sample;
    const std::size_t step = std::max<std::size_t>(n / 255, 1);
    for (std::size_t i = 0; i < n; i += step)
      sample.push_back(dirty_[i].id);
    auto mid = sample.begin() + static_cast<std::ptrdiff_t>(sample.size() / 2);
    std::nth_element(sample.begin(), mid, sample.end(), id_less);
    const uuid16 pivot = *mid;
    const auto at = std::partition(dirty_.begin(), dirty_.end(),
                                   [&](const dirty_row& d) { return id_less(d.id, pivot); });
    return static_cast<std::size_t>(at - dirty_.begin());
  }

  std::error_code write_out(std::uint64_t position, bool last) {
    std::error_code fs_ec;
    std::filesystem::create_directories(ingest_dir_, fs_ec);
    if (fs_ec) return make_error_code(errc::storage_unavailable);
    std::vector<rocksdb::IngestExternalFileArg> args;
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;
    io.allow_blocking_flush = true;
    // One argument per column family (RocksDB takes a family once per call), with the files of
    // `outs` that are not empty; the files of one family do not overlap.
    auto add = [&](rocksdb::ColumnFamilyHandle* cf,
                   std::initializer_list<sst_out*> outs) -> std::error_code {
      rocksdb::IngestExternalFileArg a;
      for (sst_out* out : outs) {
        auto file = out->finish();
        if (!file) return file.error();
        if (!file->empty()) a.external_files.push_back(std::move(*file));
      }
      if (a.external_files.empty()) return {};
      a.column_family = cf;
      a.options = io;
      args.push_back(std::move(a));
      return {};
    };
    sst_out members_out(*this, "members");
    // Independent parts, each writing (and syncing) its own files: the memberships (sort + SST)
    // on one thread; the rows in two key ranges on two threads (sorting, encoding, the text
    // folding of the index entries + SST, then that range's index entries + SST), one of them
    // on this thread. A replay's final persist runs after all decoding has finished: a part
    // that waits for another one keeps a core idle. The memberships touch nothing else.
    std::jthread members_thread;
    if (members_) members_thread = std::jthread([&] { write_members(members_out); });
    if (tenants_) {
      // Two key ranges, two rows files, two threads: encoding and folding 200 000 rows on one
      // thread was the final persist's longest part (from 16 rows on, so that the
      // batch-vs-one-event property test, whose persists hold up to ~100, covers both). The
      // rows are split at a sampled median id, then each thread sorts its own part (row keys are
      // the 16 id bytes: no strings sorted), writes its rows and then its index entries.
      const std::size_t rows_half = split_dirty();
      auto part = [this, last](std::size_t begin, std::size_t end, sst_out& rows, sst_out& index,
                               std::string& value, index_part& entries) {
        std::sort(dirty_.begin() + static_cast<std::ptrdiff_t>(begin),
                  dirty_.begin() + static_cast<std::ptrdiff_t>(end));
        entries.clear();
        write_rows(rows, begin, end, value, entries, last);
        write_index(entries, index);
      };
      sst_out rows(*this, "rows"), rows2(*this, "rows");
      sst_out index(*this, "index"), index2(*this, "index");
      {
        std::jthread rows2_thread;
        if (rows_half < dirty_.size())
          rows2_thread = std::jthread(
              [&] { part(rows_half, dirty_.size(), rows2, index2, value2_, index2_); });
        part(0, rows_half, rows, index, value_, index1_);
      }
      if (auto ec = add(tenants_->shadow->cfs[0], {&rows, &rows2}); ec) return ec;
      if (auto ec = add(tenants_->shadow->cfs[1], {&index, &index2}); ec) return ec;
    }
    if (members_) {
      members_thread.join();
      if (auto ec = add(members_->shadow->cfs[0], {&members_out}); ec) return ec;
    }
    // The rows are not read after this point; the end of a replay drops them.
    if (last) start_freeing_rows();
    std::vector<std::pair<std::string, std::string>> cps;
    for (const auto& t : targets_)
      cps.emplace_back(t.shadow->checkpoint_key(), be64(position));
    std::sort(cps.begin(), cps.end());
    sst_out cp(*this, "checkpoints");
    for (const auto& [k, v] : cps)
      cp.put(k, v);
    if (auto ec = add(db_.checkpoints(), {&cp}); ec) return ec;
    auto s = db_.db()->IngestExternalFiles(args);
    if (!s.ok()) return to_error(s);
    // Durable now: mark everything clean. Not at the end of a replay: the rows are being freed,
    // and the loop would visit every row at a random place in memory, on the critical path.
    if (!last) {
      for (const auto& d : dirty_) {
        row& r = rows_.at_slot(d.slot);
        r.dirty = false;
        const auto& st = r.view.state;
        r.indexed = st.exists() && r.view.created_position != 0;
        r.disk_status = st.status;
        r.disk_plan = st.subscription.plan;
        r.text_dirty = false;
        const auto b = view_bytes(r.view) + 96;
        bytes_ = bytes_ - r.bytes + b;
        r.bytes = b;
      }
    }
    dirty_.clear();
    member_puts_.clear();
    member_bytes_ = 0;
    return {};
  }

  projections_db& db_;
  std::vector<target>& targets_;
  target* tenants_ = nullptr;
  target* members_ = nullptr;
  std::size_t budget_;
  std::size_t bytes_ = 0;
  row_table<row> rows_;
  // The rows written at the next persist point, by slot (no second lookup; slots are stable
  // between persist points), sorted by id there (the rows' key order).
  struct dirty_row {
    uuid16 id;
    std::uint32_t slot;
    bool operator<(const dirty_row& o) const { return id_less(id, o.id); }
  };
  std::vector<dirty_row> dirty_;
  struct member_put {
    std::string key;  // member_prefix(user)
    uuid16 tenant;    // in event order: the last one of a user is its current tenant
  };
  std::vector<member_put> member_puts_;
  std::size_t member_bytes_ = 0;
  std::string ingest_dir_;
  std::string value_, value2_;  // reused row encoding buffers (one per rows thread)
  index_part index1_, index2_;  // the index entries of each rows thread's rows
  std::atomic<std::uint64_t> files_ = 0;
  bool shadow_may_have_rows_ = true;
  std::jthread freeing_, freeing2_;  // free the rows at the end of a replay (start_freeing_rows)
};

result<replay_summary> run_replay(eventstore::event_store& store, const replay_options& options,
                                  std::uint64_t stop_at) {
  const auto started = clock_type::now();
  auto names = resolve_names(options.projections);
  if (!names) return names.error();
  const std::size_t batch = std::max<std::size_t>(options.batch_events, 1);
  std::unique_ptr<log_scanner> scanner;
  if (!options.eventstore_path.empty()) {
    auto sc = log_scanner::open(options.eventstore_path);
    if (!sc) return sc.error();
    scanner = std::move(*sc);
  }
  const std::uint64_t target = scanner ? scanner->head() : store.head();
  // The decoding starts from the log's beginning while the projections database opens and the
  // shadow copies are set up (tens of milliseconds of file creation and syncs, with both cores
  // otherwise idle): a replay into a fresh shadow copy starts there. One that resumes from a
  // checkpoint drops this pipeline below (at most its first few batches were decoded).
  // No text folding on the decoding threads: the writer folds each tenant's final profile once
  // per persist point.
  auto decode_from = [&](std::uint64_t from) {
    return std::make_unique<decode_pipeline>(store, scanner.get(), from, target, batch,
                                             options.decode_threads, false);
  };
  auto pipeline = decode_from(0);
  auto opened = projections_db::open({options.path, options.block_cache_bytes, false});
  if (!opened) return opened.error();
  auto& db = **opened;

  std::vector<replay_writer::target> targets;
  for (const auto& n : *names) {
    replay_writer::target t;
    t.name = n;
    auto a = db.active(n);
    if (!a) return a.error();
    t.old_active = *a;
    auto s = db.begin_shadow(n, false);
    if (!s) return s.error();
    t.shadow = *s;
    auto cp = db.load_checkpoint(t.shadow->checkpoint_key());
    if (!cp) return cp.error();
    t.checkpoint = *cp;
    targets.push_back(std::move(t));
  }
  std::uint64_t from = UINT64_MAX;
  for (const auto& t : targets)
    from = std::min(from, t.checkpoint);
  from = std::min(from, target);
  replay_summary summary;
  summary.resumed_from = from;
  if (from != 0) {
    pipeline.reset();  // its threads stop before the next pipeline's start
    pipeline = decode_from(from);
  }

  replay_writer writer(db, targets, options.row_cache_bytes);
  writer.reserve(target - from);
  std::string label;
  for (const auto& t : targets)
    label += (label.empty() ? "" : "+") + t.name;
  std::uint64_t position = from;
  std::uint64_t since_persist = 0;
  auto last_progress = clock_type::now();
  auto report = [&](bool force) {
    if (!options.progress) return;
    if (!force && clock_type::now() - last_progress < std::chrono::milliseconds(100)) return;
    last_progress = clock_type::now();
    replay_progress p;
    p.projection = label;
    p.position = position;
    p.target = target;
    p.seconds = seconds_since(started);
    p.events_per_second = p.seconds > 0 ? static_cast<double>(position - from) / p.seconds : 0;
    options.progress(p);
  };

  while (auto events = pipeline->pop()) {
    auto& evs = *events;
    const std::size_t n = evs.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + 16 < n) writer.prefetch_entry(evs[i + 16]);
      if (i + 8 < n) writer.prefetch_row(evs[i + 8]);
      if (auto ec = writer.apply(evs[i]); ec) return ec;
    }
    position = events->back().position;
    since_persist += events->size();
    // Not at the log's end: the final persist below writes it (and frees the rows).
    if ((since_persist >= options.persist_every_events || writer.over_budget()) &&
        position < target) {
      if (auto ec = writer.persist(position); ec) return ec;
      since_persist = 0;
    }
    report(false);
    pipeline->recycle(std::move(*events));
    if (options.after_batch) options.after_batch(position);
    if (position >= stop_at) {
      if (auto ec = writer.persist(position); ec) return ec;
      return make_error_code(errc::closed);
    }
  }
  if (auto ec = pipeline->error(); ec) return ec;
  pipeline.reset();
  if (position < target) return make_error_code(errc::corruption);
  if (auto ec = writer.persist(target, /*last=*/true); ec) return ec;
  if (auto ec = writer.while_freeing_rows([&]() -> std::error_code {
        for (auto& t : targets)
          if (auto bad = db.swap_in(t.old_active, t.shadow); bad) return bad;
        std::error_code ignore;
        std::filesystem::remove_all(std::filesystem::path(options.path) / "replay-ingest", ignore);
        return {};
      });
      ec)
    return ec;
  report(true);
  summary.position = target;
  summary.events = target - from;
  summary.seconds = seconds_since(started);
  summary.events_per_second =
      summary.seconds > 0 ? static_cast<double>(summary.events) / summary.seconds : 0;
  return summary;
}

}  // namespace

result<replay_summary> replay(eventstore::event_store& store, const replay_options& options) {
  return run_replay(store, options, UINT64_MAX);
}

result<replay_summary> replay_until(eventstore::event_store& store, const replay_options& options,
                                    std::uint64_t position) {
  return run_replay(store, options, position);
}

// ---- export / import ----

result<std::uint64_t> export_log(eventstore::event_store& store, std::ostream& out) {
  const std::uint64_t head = store.head();
  std::uint64_t next = 1;
  while (next <= head) {
    auto events = store.read_all(next, 4'096);
    if (!events) return make_error_code(errc::storage_unavailable);
    if (events->empty()) return make_error_code(errc::corruption);
    for (const auto& e : *events) {
      if (e.position != next) return make_error_code(errc::corruption);
      out << e.envelope_json << '\n';
      ++next;
      if (next > head) break;
    }
    if (!out) return make_error_code(errc::storage_unavailable);
  }
  out.flush();
  if (!out) return make_error_code(errc::storage_unavailable);
  return head;
}

namespace {

import_error line_error(std::uint64_t line, std::string message) {
  return import_error{make_error_code(errc::invalid_argument), line,
                      "line " + std::to_string(line) + ": " + std::move(message)};
}

bool same_metadata(const eventstore::event_metadata& a, const eventstore::event_metadata& b) {
  return a.correlation_id == b.correlation_id && a.causation_id == b.causation_id &&
         a.actor == b.actor && a.traceparent == b.traceparent;
}

}  // namespace

import_outcome import_log(eventstore::event_store& store, std::istream& in) {
  if (store.head() != 0)
    return import_error{make_error_code(errc::invalid_argument), 0,
                        "the event store is not empty (head " + std::to_string(store.head()) +
                            "): import only into an empty store"};
  const auto start = in.tellg();
  if (start == std::istream::pos_type(-1))
    return import_error{make_error_code(errc::invalid_argument), 0,
                        "the input must be seekable (validated fully before anything is written)"};

  // Pass 1: every line is a well-formed envelope, positions 1..n without gaps, versions
  // contiguous per stream, event ids unique. Nothing is written unless all of it holds.
  std::string line;
  std::uint64_t lineno = 0;
  std::uint64_t expected = 1;
  std::unordered_map<std::string, std::uint64_t> versions;
  std::unordered_set<std::string> ids;
  while (std::getline(in, line)) {
    ++lineno;
    auto env = eventstore::codec::decode_envelope(line);
    if (!env) return line_error(lineno, "not a valid event envelope");
    if (env->position != expected)
      return line_error(lineno, "position " + std::to_string(expected) + " expected, got " +
                                    std::to_string(env->position));
    auto& v = versions[env->stream_id];
    if (env->version != v + 1)
      return line_error(lineno, "version " + std::to_string(v + 1) + " of stream " +
                                    env->stream_id + " expected, got " +
                                    std::to_string(env->version));
    v = env->version;
    if (!ids.insert(env->event_id).second)
      return line_error(lineno, "duplicate event id " + env->event_id);
    ++expected;
  }
  if (in.bad())
    return import_error{make_error_code(errc::storage_unavailable), lineno, "read error"};
  ids.clear();
  versions.clear();
  in.clear();
  in.seekg(start);
  if (!in) return import_error{make_error_code(errc::storage_unavailable), 0, "cannot rewind"};

  // Pass 2: append, grouping consecutive events of one stream with the same metadata into one
  // atomic append (as they were most likely written). The single writer keeps submission order,
  // so positions come out as in the file; each result is checked anyway.
  struct state_t {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t in_flight = 0;
    std::optional<import_error> error;
  } st;
  auto submit = [&](eventstore::append_request r, std::uint64_t first_position,
                    std::uint64_t first_line) {
    {
      std::unique_lock lk(st.mu);
      st.cv.wait(lk, [&] { return st.in_flight < 256; });
      ++st.in_flight;
    }
    store.append(std::move(r), [&st, first_position, first_line](eventstore::append_outcome o) {
      std::lock_guard lk(st.mu);
      --st.in_flight;
      if (!st.error) {
        if (!o) {
          st.error = line_error(first_line, "append refused: " + o.error().detail);
        } else if (o->first_position != first_position || o->replayed) {
          st.error =
              line_error(first_line, "appended at position " + std::to_string(o->first_position) +
                                         " instead of " + std::to_string(first_position));
        }
      }
      st.cv.notify_all();
    });
  };
  std::optional<eventstore::append_request> pending;
  std::uint64_t pending_pos = 0, pending_line = 0, count = 0;
  lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto env = eventstore::codec::decode_envelope(line);
    if (!env) return line_error(lineno, "not a valid event envelope");  // changed under us
    {
      std::lock_guard lk(st.mu);
      if (st.error) break;
    }
    if (pending &&
        (pending->stream_id != env->stream_id || pending->tenant_id != env->tenant_id ||
         !same_metadata(pending->metadata, env->metadata) || pending->events.size() >= 1'000)) {
      submit(std::move(*pending), pending_pos, pending_line);
      pending.reset();
    }
    if (!pending) {
      pending.emplace();
      pending->stream_id = env->stream_id;
      pending->tenant_id = env->tenant_id;
      pending->metadata = env->metadata;
      pending->expected = env->version == 1 ? eventstore::expected_version::no_stream()
                                            : eventstore::expected_version::exact(env->version - 1);
      pending_pos = env->position;
      pending_line = lineno;
    }
    eventstore::proposed_event p;
    p.event_id = env->event_id;
    p.type = env->type;
    p.schema_version = env->schema_version;
    p.data_json = std::move(env->data_json);
    p.occurred_at = env->occurred_at;
    pending->events.push_back(std::move(p));
    ++count;
  }
  if (pending) submit(std::move(*pending), pending_pos, pending_line);
  std::unique_lock lk(st.mu);
  st.cv.wait(lk, [&] { return st.in_flight == 0; });
  if (st.error) return *st.error;
  return count;
}

// ---- verify ----

result<verify_report> verify_against_replay(eventstore::event_store& store,
                                            const std::string& path) {
  auto opened = projections_db::open({path, 16u << 20, true});
  if (!opened) return opened.error();
  auto& db = **opened;
  auto tg = db.active("tenants");
  if (!tg) return tg.error();
  auto mg = db.active("memberships");
  if (!mg) return mg.error();
  auto tcp = db.load_checkpoint((*tg)->checkpoint_key());
  if (!tcp) return tcp.error();
  auto mcp = db.load_checkpoint((*mg)->checkpoint_key());
  if (!mcp) return mcp.error();

  verify_report report;
  constexpr std::size_t max_problems = 100;
  std::size_t dropped = 0;
  auto problem = [&](std::string p) {
    if (report.problems.size() < max_problems) {
      report.problems.push_back(std::move(p));
    } else {
      ++dropped;
    }
  };
  const std::uint64_t upto = std::max(*tcp, *mcp);
  report.position = std::min(*tcp, *mcp);
  if (upto > store.head()) {
    problem("the projections (checkpoint " + std::to_string(upto) +
            ") are ahead of the log as read (head " + std::to_string(store.head()) +
            "): tenantd kept writing; run verify again");
    return report;
  }

  // The fresh fold, in memory.
  std::unordered_map<uuid16, tenant_view, uuid16_hash> views;
  std::map<std::string, membership_index::entry> members;
  {
    tenants_fold tf([&](const uuid16& id) -> result<tenant_view_ptr> {
      auto it = views.find(id);
      if (it == views.end()) return tenant_view_ptr();
      return std::make_shared<const tenant_view>(it->second);
    });
    std::uint64_t next = 1;
    while (next <= upto) {
      auto events = store.read_all(
          next, static_cast<std::size_t>(std::min<std::uint64_t>(4'096, upto - next + 1)));
      if (!events) return make_error_code(errc::storage_unavailable);
      if (events->empty()) return make_error_code(errc::corruption);
      for (const auto& r : *events) {
        auto d = decode(r, false);
        if (!d) {
          problem("event " + std::to_string(r.position) + " does not decode");
          return report;
        }
        if (r.position <= *tcp) {
          if (auto ec = tf.apply(*d); ec) return ec;
          rocksdb::WriteBatch scratch;  // tenants_fold writes rows; only the views matter here
          for (auto& c : tf.write(scratch, nullptr, nullptr))
            views[c.id] = *c.view;
        }
        if (r.position <= *mcp) {
          members_fold mf;
          mf.apply(*d);
          rocksdb::WriteBatch scratch;
          for (const auto& c : mf.write(scratch, nullptr)) {
            auto& e = members[c.user];
            auto pos = std::lower_bound(e.tenants.begin(), e.tenants.end(), c.tenant);
            if (pos == e.tenants.end() || *pos != c.tenant) e.tenants.insert(pos, c.tenant);
            e.current = c.tenant;
          }
        }
      }
      next = events->back().position + 1;
    }
  }

  // Tenant rows.
  std::unordered_set<uuid16, uuid16_hash> seen;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db.db()->NewIterator(rocksdb::ReadOptions(), (*tg)->cfs[0]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 16) {
        problem("tenants: malformed key");
        continue;
      }
      const auto id = to_uuid16(it->key().ToStringView());
      seen.insert(id);
      auto v = decode_view(it->value().ToStringView());
      auto expect = views.find(id);
      const auto name = tenant_of(id).str();
      if (!v) {
        problem(name + ": the stored view does not decode");
      } else if (expect == views.end()) {
        problem(name + ": stored but not in the log");
      } else if (!(*v == expect->second)) {
        problem(name + ": the stored view differs from the replay (stored version " +
                std::to_string(v->state.version.value) + ", replayed " +
                std::to_string(expect->second.state.version.value) + ")");
      }
    }
    if (!it->status().ok()) return to_error(it->status());
    for (const auto& [id, v] : views)
      if (!seen.contains(id)) problem(tenant_of(id).str() + ": in the log but not stored");
    report.tenants = views.size();
  }

  // Index entries: exactly one pair per existing tenant, at its creation position.
  {
    std::map<std::string, std::string> expect;
    for (const auto& [id, v] : views) {
      if (!v.state.exists() || v.created_position == 0) continue;
      expect[index_key(v.created_position, index_tag_bucket)] =
          index_bucket_value(id, v.state.status, v.state.subscription.plan);
      expect[index_key(v.created_position, index_tag_text)] =
          index_text_value(fold_text(v.state.profile));
    }
    std::unique_ptr<rocksdb::Iterator> it(
        db.db()->NewIterator(rocksdb::ReadOptions(), (*tg)->cfs[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string k = it->key().ToString();
      auto e = expect.find(k);
      const std::string where =
          k.size() == 9 ? "index entry at position " + std::to_string(get_u64(k)) : "index entry";
      if (e == expect.end()) {
        problem(where + ": not expected");
        continue;
      }
      if (e->second != it->value().ToStringView()) problem(where + ": differs from the replay");
      expect.erase(e);
    }
    if (!it->status().ok()) return to_error(it->status());
    for (const auto& [k, v] : expect)
      problem("index entry at position " + std::to_string(get_u64(k)) + ": missing");
  }

  // Memberships.
  {
    auto loaded = load_members(db, *mg);
    if (!loaded) return loaded.error();
    const auto& stored = (*loaded)->index.all();
    for (const auto& [user, e] : members) {
      auto it = stored.find(user);
      if (it == stored.end()) {
        problem("membership of " + user + ": missing");
      } else if (!(it->second == e)) {
        problem("membership of " + user + ": differs from the replay");
      }
    }
    for (const auto& [user, e] : stored)
      if (!members.contains(user)) problem("membership of " + user + ": not in the log");
    report.users = members.size();
  }
  if (dropped > 0) report.problems.push_back("... and " + std::to_string(dropped) + " more");
  return report;
}

}  // namespace tenant::projections
