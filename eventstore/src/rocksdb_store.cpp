// The RocksDB event store: the append pipeline (pipeline.hpp) writing one WriteBatch per group
// commit, reads served from the tail cache or RocksDB, and the small key-value stores beside the
// log (checkpoints, idempotency records, snapshots). Layout: keys.hpp and eventstore/README.md.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "keys.hpp"
#include "log_reader.hpp"
#include "pipeline.hpp"
#include "rocksdb_layout.hpp"
#include "tenant/eventstore/rocksdb_support.hpp"

namespace tenant::eventstore {

namespace detail {

namespace {

std::error_code unavailable() {
  return make_error_code(errc::storage_unavailable);
}

std::error_code to_error(const rocksdb::Status& s) {
  if (s.IsCorruption()) return make_error_code(errc::corruption);
  if (s.IsInvalidArgument()) return make_error_code(errc::invalid_argument);
  return unavailable();
}

domain::clock_time system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// ---- the sync stage's WAL sync (durability fsync, pipelined_sync) ----
//
// The sync stage makes the WAL durable by syncing RocksDB's WAL files itself, not with
// DB::SyncWAL. SyncWAL ignores RocksDB's background error and goes straight to the WAL
// writer: once any write to the WAL has failed (a full or read-only disk; through a batch, a
// checkpoint or a snapshot), RocksDB's WritableFileWriter asserts there, and Debian's
// librocksdb keeps its assertions, so tenantd aborted where it should answer 503. Syncing the
// files is enough because RocksDB hands every WAL record to the OS before Write returns
// (manual_wal_flush is off): one fdatasync per WAL file written since the last sync covers
// every batch written so far, plus the directory when a WAL file was created since.
//
// A WAL file RocksDB closes needs nothing more from us: RocksDB closes a WAL once its
// memtables are flushed (the data is in synced SST files), after syncing it itself, or when
// the database closes (after the pipeline stopped: every acknowledged batch was synced).

struct wal_handle {
  std::mutex mu;                            // held while the file is synced, nulled or closed
  rocksdb::FSWritableFile* file = nullptr;  // null once RocksDB closed it
  std::atomic<bool> dirty{false};           // appended to since the last sync
};

class wal_set {
 public:
  explicit wal_set(std::shared_ptr<rocksdb::FileSystem> fs) : fs_(std::move(fs)) {}

  void add(std::shared_ptr<wal_handle> h, std::string dir) {
    std::lock_guard lk(mu_);
    files_.push_back(std::move(h));
    if (std::find(dirty_dirs_.begin(), dirty_dirs_.end(), dir) == dirty_dirs_.end())
      dirty_dirs_.push_back(std::move(dir));
  }

  void remove(const wal_handle* h) {
    std::lock_guard lk(mu_);
    std::erase_if(files_, [h](const auto& f) { return f.get() == h; });
  }

  // Everything appended to a WAL file before the call is durable when it returns OK. Safe to
  // call from several threads (the sync stage, and writes beside the pipeline that must be
  // durable: the relay's checkpoint, idempotency records), and concurrent calls share syncs:
  // one run syncs at a time, and every caller arriving while it runs waits for the next run,
  // which covers all of them. A write beside the pipeline thus neither syncs inside RocksDB's
  // write group (where the pipeline's writer would wait behind its fdatasync) nor costs a
  // flush of its own when the sync stage is syncing anyway.
  rocksdb::IOStatus sync() {
    std::unique_lock lk(run_mu_);
    // The run that starts after this call: it covers every write that preceded the call.
    const std::shared_ptr<sync_run> mine = next_run_;
    while (!mine->done) {
      if (running_) {
        run_cv_.wait(lk);
        continue;
      }
      running_ = true;
      next_run_ = std::make_shared<sync_run>();  // later callers wait for the following run
      lk.unlock();
      auto s = sync_files();
      // A failed fdatasync may have dropped the dirty pages: a later one can succeed without
      // those writes on disk. So every later run fails too, until recovery made the memtables
      // durable (clear_lost), whoever called the run that failed.
      if (!s.ok()) failed_.store(true);
      lk.lock();
      mine->status = std::move(s);
      mine->done = true;
      running_ = false;
      run_cv_.notify_all();
    }
    return mine->status;
  }

 private:
  struct sync_run {
    bool done = false;
    rocksdb::IOStatus status;
  };

  // One run (callers are serialised by sync()).
  rocksdb::IOStatus sync_files() {
    if (lost_.load())
      return rocksdb::IOStatus::IOError("a WAL file was closed without its last writes synced");
    if (failed_.load())
      return rocksdb::IOStatus::IOError("an earlier WAL sync failed; waiting for recovery");
    std::vector<std::shared_ptr<wal_handle>> files;
    std::vector<std::string> dirs;
    {
      std::lock_guard lk(mu_);
      files = files_;
      dirs.swap(dirty_dirs_);
    }
    rocksdb::IOStatus s;
    for (const auto& h : files) {
      // Cleared before the sync: an append that marks the file after this sync started is
      // synced by the next one (appends mark the file after their data reached the OS).
      if (!h->dirty.exchange(false)) continue;
      std::lock_guard lk(h->mu);
      if (!h->file) continue;  // closed meanwhile (see above)
      s = h->file->Sync(rocksdb::IOOptions(), nullptr);
      if (!s.ok()) {
        h->dirty.store(true);
        break;
      }
    }
    for (std::size_t i = 0; s.ok() && i < dirs.size(); ++i) {
      std::unique_ptr<rocksdb::FSDirectory> d;
      s = fs_->NewDirectory(dirs[i], rocksdb::IOOptions(), &d, nullptr);
      if (s.ok()) s = d->Fsync(rocksdb::IOOptions(), nullptr);
    }
    if (!s.ok()) {
      std::lock_guard lk(mu_);
      for (auto& d : dirs)
        if (std::find(dirty_dirs_.begin(), dirty_dirs_.end(), d) == dirty_dirs_.end())
          dirty_dirs_.push_back(std::move(d));
    }
    return s;
  }

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool running_ = false;
  std::shared_ptr<sync_run> next_run_ = std::make_shared<sync_run>();

 private:
  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::mutex mu_;
  std::vector<std::shared_ptr<wal_handle>> files_;
  std::vector<std::string> dirty_dirs_;

 public:
  // A WAL file closed while holding writes that could not be synced: every later sync fails
  // (until a recovery made the memtables durable, or the store is reopened), since
  // acknowledgements may wait on those writes.
  void mark_lost() { lost_.store(true); }
  void clear_lost() {
    lost_.store(false);
    failed_.store(false);
  }

 private:
  std::atomic<bool> lost_{false};
  std::atomic<bool> failed_{false};  // a run failed (see sync)
};

class wal_file final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  wal_file(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<wal_set> set)
      : FSWritableFileOwnerWrapper(std::move(f)),
        set_(std::move(set)),
        handle_(std::make_shared<wal_handle>()) {
    handle_->file = target();
  }
  ~wal_file() override { forget(); }

  const std::shared_ptr<wal_handle>& handle() const { return handle_; }

  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* g) override {
    auto s = FSWritableFileOwnerWrapper::Append(d, o, g);
    handle_->dirty.store(true);
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* g) override {
    auto s = FSWritableFileOwnerWrapper::Append(d, o, v, g);
    handle_->dirty.store(true);
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* g) override {
    auto s = FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, g);
    handle_->dirty.store(true);
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo& v,
                                     rocksdb::IODebugContext* g) override {
    auto s = FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, v, g);
    handle_->dirty.store(true);
    return s;
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
    // Closing does not sync a buffered file, and once closed the sync stage no longer sees it:
    // a WAL RocksDB closes (a switch to a new WAL, whatever the version's closing policy) may
    // hold batches written but not yet synced, so they are synced here first.
    rocksdb::IOStatus synced;
    {
      std::lock_guard lk(handle_->mu);
      if (handle_->file && handle_->dirty.exchange(false)) {
        synced = handle_->file->Sync(o, g);
        if (!synced.ok()) set_->mark_lost();
      }
    }
    forget();
    auto closed = FSWritableFileOwnerWrapper::Close(o, g);
    return synced.ok() ? closed : synced;
  }

 private:
  // Waits for a sync of this file in progress; later syncs skip it.
  void forget() {
    {
      std::lock_guard lk(handle_->mu);
      if (!handle_->file) return;
      handle_->file = nullptr;
    }
    set_->remove(handle_.get());
  }

  std::shared_ptr<wal_set> set_;
  std::shared_ptr<wal_handle> handle_;
};

// Hands RocksDB's WAL files (*.log) to the wal_set as RocksDB creates them.
class wal_tracking_fs final : public rocksdb::FileSystemWrapper {
 public:
  wal_tracking_fs(const std::shared_ptr<rocksdb::FileSystem>& target, std::shared_ptr<wal_set> set)
      : FileSystemWrapper(target), set_(std::move(set)) {}
  const char* Name() const override { return "tenant_wal_tracking_fs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* g) override {
    return track(f, target()->NewWritableFile(f, o, r, g), r);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* g) override {
    return track(f, target()->ReopenWritableFile(f, o, r, g), r);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* g) override {
    return track(f, target()->ReuseWritableFile(f, old, o, r, g), r);
  }

 private:
  rocksdb::IOStatus track(const std::string& f, rocksdb::IOStatus s,
                          std::unique_ptr<rocksdb::FSWritableFile>* r) {
    if (!s.ok() || !f.ends_with(".log")) return s;
    auto file = std::make_unique<wal_file>(std::move(*r), set_);
    set_->add(file->handle(), std::filesystem::path(f).parent_path().string());
    *r = std::move(file);
    return s;
  }
  std::shared_ptr<wal_set> set_;
};

// ---- idempotency record value ----

std::string encode_idempotency(const idempotency_record& r) {
  std::string v;
  v.reserve(12 + r.request_fingerprint.size() + r.response.size());
  put_u64(v, static_cast<std::uint64_t>(r.stored_at.time_since_epoch().count()));
  const auto n = static_cast<std::uint32_t>(r.request_fingerprint.size());
  for (int i = 3; i >= 0; --i)
    v.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  v += r.request_fingerprint;
  v += r.response;
  return v;
}

std::optional<idempotency_record> decode_idempotency(std::string_view v) {
  if (v.size() < 12) return std::nullopt;
  idempotency_record r;
  r.stored_at = domain::clock_time(
      std::chrono::milliseconds(static_cast<std::int64_t>(get_u64(v.substr(0, 8)))));
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n = (n << 8) | static_cast<unsigned char>(v[8 + i]);
  if (v.size() < 12 + static_cast<std::size_t>(n)) return std::nullopt;
  r.request_fingerprint.assign(v.substr(12, n));
  r.response.assign(v.substr(12 + n));
  return r;
}

std::int64_t millis(domain::clock_time t) {
  return t.time_since_epoch().count();
}

}  // namespace

// ---- the store ----

class rocksdb_store final : public event_store, private pipeline_backend {
 public:
  explicit rocksdb_store(const rocksdb_options& o)
      : options_(o), tail_(o.read_only ? 0 : o.tail_cache_events) {
    if (!options_.clock) options_.clock = system_now;
    signal_ = std::make_shared<commit_signal>();
  }

  ~rocksdb_store() override {
    stop();
    {
      std::unique_lock lk(signal_->reader_mu);
      signal_->reader = nullptr;
    }
    {
      std::unique_lock lk(db_mu_);
      db_.reset();
    }
    if (!secondary_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(secondary_dir_, ec);
    }
  }

  std::error_code open() {
    if (options_.fault) fs_ = make_faulty_file_system(options_.fault);
    if (!options_.read_only && needs_sync()) {
      auto base = fs_ ? fs_ : rocksdb::FileSystem::Default();
      wal_ = std::make_shared<wal_set>(base);
      fs_ = std::make_shared<wal_tracking_fs>(base, wal_);
    }
    if (fs_) env_ = rocksdb::NewCompositeEnv(fs_);
    if (options_.read_only) {
      char tmpl[] = "/tmp/tenant-eventstore-ro-XXXXXX";
      if (!mkdtemp(tmpl)) return unavailable();
      secondary_dir_ = tmpl;
    }
    auto db = open_layout(layout_options());
    if (!db) return db.error();
    db_ = std::move(*db);

    pipeline_state st;
    if (auto ec = load(st, &idem_count_); ec) return ec;
    signal_->publish(st.head);
    {
      std::unique_lock lk(signal_->reader_mu);
      signal_->reader = this;
    }
    if (!options_.read_only) {
      pipeline_options po;
      po.max_batch_events = std::max<std::size_t>(1, options_.max_batch_events);
      po.recent_id_capacity = std::max<std::size_t>(1, options_.event_id_cache_entries);
      po.clock = options_.clock;
      pipeline_ = std::make_unique<append_pipeline>(static_cast<pipeline_backend&>(*this),
                                                    std::move(po), std::move(st));
    }
    return {};
  }

  // ---- writes ----

  void append(append_request request, append_handler handler) override {
    if (!handler) handler = [](append_outcome) {};
    if (!pipeline_) {
      handler(append_error{errc::closed, 0, "event store opened read-only"});
      return;
    }
    pipeline_->submit(std::move(request), std::move(handler));
  }

  // ---- reads ----

  result<std::vector<recorded_event>> read_stream(std::string_view stream_id,
                                                  std::uint64_t from_version, std::size_t limit,
                                                  direction dir) override {
    std::vector<recorded_event> out;
    auto db = acquire();
    if (!db) return unavailable();
    const auto found = stream_of(*db, stream_id);
    if (!found) return found.error();
    const auto head = *found;
    if (limit == 0 || head.version == 0) return out;
    std::uint64_t first, last;  // inclusive version range, in reading order below
    if (dir == direction::forward) {
      first = std::max<std::uint64_t>(from_version, 1);
      if (first > head.version) return out;
      last = first + std::min<std::uint64_t>(limit - 1, head.version - first);
    } else {
      if (from_version == 0) return out;
      last = std::min(from_version, head.version);
      first = last - std::min<std::uint64_t>(limit - 1, last - 1);
    }
    // Positions from the stream index, then the events (tail cache first, then one MultiGet).
    std::vector<std::string> keys;
    keys.reserve(last - first + 1);
    for (std::uint64_t v = first; v <= last; ++v)
      keys.push_back(stream_index_key(stream_id, v));
    std::vector<std::string> values;
    auto st = multi_get(*db, db->cf(cf_stream_index), keys, values);
    if (st) return st;
    std::vector<std::uint64_t> positions;
    positions.reserve(values.size());
    for (const auto& v : values) {
      if (v.size() != 8) return make_error_code(errc::corruption);
      positions.push_back(get_u64(v));
    }
    auto events = read_positions(*db, positions);
    if (!events) return events.error();
    out = std::move(*events);
    if (dir == direction::backward) std::reverse(out.begin(), out.end());
    return out;
  }

  result<std::vector<recorded_event>> read_all(std::uint64_t from_position,
                                               std::size_t limit) override {
    std::vector<recorded_event> out;
    const std::uint64_t head = signal_->head();
    const std::uint64_t from = std::max<std::uint64_t>(from_position, 1);
    if (limit == 0 || from > head) return out;
    const std::uint64_t to = from + std::min<std::uint64_t>(limit - 1, head - from);
    if (tail_.read(from, limit, to, out)) return out;
    auto db = acquire();
    if (!db) return unavailable();

    rocksdb::ReadOptions ro;
    const std::string upper = position_key(to + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    if (to - from > 256) ro.readahead_size = 2u << 20;
    std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(ro, db->cf(cf_events)));
    out.reserve(static_cast<std::size_t>(to - from + 1));
    std::uint64_t expected = from;
    for (it->Seek(position_key(from)); it->Valid(); it->Next()) {
      const auto key = it->key();
      if (key.size() != 8 || get_u64(std::string_view(key.data(), 8)) != expected)
        return make_error_code(errc::corruption);
      auto rec = to_recorded_event(it->value().ToString());
      if (!rec || rec->position != expected) return make_error_code(errc::corruption);
      out.push_back(std::move(*rec));
      ++expected;
    }
    if (!it->status().ok()) return to_error(it->status());
    if (expected != to + 1) return make_error_code(errc::corruption);  // a gap below head
    return out;
  }

  result<std::uint64_t> stream_version(std::string_view stream_id) override {
    auto s = stream_of(stream_id);
    if (!s) return s.error();
    return s->version;
  }

  result<stream_head> read_stream_head(std::string_view stream_id) override {
    const auto s = stream_of(stream_id);
    if (!s) return s.error();
    return stream_head{s->version, s->last_position};
  }

  result<std::optional<std::string>> unique_owner(std::string_view value) override {
    if (pipeline_) return pipeline_->claim_owner(value);
    auto db = acquire();
    if (!db) return unavailable();
    std::string owner;
    const auto s = db->db->Get(rocksdb::ReadOptions(), db->cf(cf_unique), value, &owner);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return to_error(s);
    return std::optional<std::string>(std::move(owner));
  }

  result<std::optional<recorded_event>> read_event(std::string_view event_id) override {
    const auto id = domain::uuid::parse(event_id);
    if (!id) return std::optional<recorded_event>();
    auto db = acquire();
    if (!db) return unavailable();
    auto loc = find_event_id_in(*db, id->bytes);
    if (!loc) return loc.error();
    if (!*loc || (*loc)->position > signal_->head()) return std::optional<recorded_event>();
    auto events = read_positions(*db, {(*loc)->position});
    if (!events) return events.error();
    return std::optional<recorded_event>(std::move(events->front()));
  }

  std::uint64_t head() const override { return signal_->head(); }

  std::unique_ptr<subscription> subscribe(std::uint64_t after_position) override {
    return std::make_unique<log_subscription>(signal_, after_position);
  }

  // ---- checkpoints ----

  result<std::optional<std::uint64_t>> load_checkpoint(std::string_view name) override {
    auto db = acquire();
    if (!db) return unavailable();
    std::string v;
    const auto s = db->db->Get(rocksdb::ReadOptions(), db->cf(cf_checkpoints), name, &v);
    if (s.IsNotFound()) return std::optional<std::uint64_t>();
    if (!s.ok()) return to_error(s);
    if (v.size() != 8) return make_error_code(errc::corruption);
    return std::optional<std::uint64_t>(get_u64(v));
  }

  std::error_code store_checkpoint(std::string_view name, std::uint64_t position) override {
    if (name.empty()) return make_error_code(errc::invalid_argument);
    if (options_.read_only) return make_error_code(errc::closed);
    auto db = acquire();
    if (!db) return unavailable();
    rocksdb::WriteBatch wb;
    wb.Put(db->cf(cf_checkpoints), name, position_key(position));
    const auto s = write_durable(*db, wb);
    if (s.ok()) return {};
    side_write_failed(s);
    return to_error(s);
  }

  // ---- idempotency ----

  result<std::optional<idempotency_record>> load_idempotency(std::string_view key) override {
    auto db = acquire();
    if (!db) return unavailable();
    std::string v;
    const auto s = db->db->Get(rocksdb::ReadOptions(), db->cf(cf_idempotency), key, &v);
    if (s.IsNotFound()) return std::optional<idempotency_record>();
    if (!s.ok()) return to_error(s);
    auto rec = decode_idempotency(v);
    if (!rec) return make_error_code(errc::corruption);
    if (rec->stored_at + options_.idempotency_ttl < options_.clock())
      return std::optional<idempotency_record>();  // expired; removed by a later store
    return rec;
  }

  std::error_code store_idempotency(std::string_view key, idempotency_record record) override {
    if (key.empty()) return make_error_code(errc::invalid_argument);
    if (options_.read_only) return make_error_code(errc::closed);
    std::lock_guard lk(idem_mu_);
    auto db = acquire();
    if (!db) return unavailable();
    const auto now = options_.clock();
    if (record.stored_at == domain::clock_time{}) record.stored_at = now;
    rocksdb::WriteBatch wb;
    std::uint64_t count = idem_count_;
    std::string old;
    const auto gs = db->db->Get(rocksdb::ReadOptions(), db->cf(cf_idempotency), key, &old);
    if (!gs.ok() && !gs.IsNotFound()) return to_error(gs);
    if (gs.ok()) {
      if (const auto prev = decode_idempotency(old))
        wb.Delete(db->cf(cf_idempotency_expiry), expiry_key(millis(prev->stored_at), key));
    } else {
      ++count;
    }
    const std::string new_expiry = expiry_key(millis(record.stored_at), key);
    wb.Put(db->cf(cf_idempotency), key, encode_idempotency(record));
    wb.Put(db->cf(cf_idempotency_expiry), new_expiry, rocksdb::Slice());

    // Evict expired records and, over the bound, the oldest ones. The scan starts at the last
    // evicted key (idem_lower_, "" = the start) so earlier evictions' tombstones are not walked
    // again; a record stored with an older time moves that bound back.
    std::string last_deleted;
    {
      rocksdb::ReadOptions ro;
      rocksdb::Slice lower_slice(idem_lower_);
      ro.iterate_lower_bound = &lower_slice;
      std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(ro, db->cf(cf_idempotency_expiry)));
      const std::int64_t cutoff = millis(now - options_.idempotency_ttl);
      for (it->Seek(idem_lower_); it->Valid(); it->Next()) {
        const auto k = it->key();
        if (k.size() < 8) continue;
        const auto at = static_cast<std::int64_t>(get_u64(std::string_view(k.data(), 8)));
        const std::string_view rkey(k.data() + 8, k.size() - 8);
        if (count <= options_.idempotency_max_entries && at >= cutoff) break;
        if (rkey == key) continue;  // replaced by the record being stored
        wb.Delete(db->cf(cf_idempotency_expiry), k);
        wb.Delete(db->cf(cf_idempotency), rocksdb::Slice(rkey.data(), rkey.size()));
        --count;
        last_deleted = k.ToString();
      }
      if (!it->status().ok()) return to_error(it->status());
    }
    wb.Put(db->cf(cf_meta), meta_idempotency_count, position_key(count));
    const auto s = write_durable(*db, wb);
    if (!s.ok()) {
      side_write_failed(s);
      return to_error(s);
    }
    idem_count_ = count;
    if (!last_deleted.empty()) idem_lower_ = std::move(last_deleted);
    if (new_expiry < idem_lower_) idem_lower_ = new_expiry;
    return {};
  }

  // ---- snapshots ----

  std::error_code store_snapshot(std::string_view stream_id, std::uint64_t version,
                                 std::string state) override {
    if (stream_id.empty()) return make_error_code(errc::invalid_argument);
    if (options_.read_only) return make_error_code(errc::closed);
    std::string v;
    v.reserve(8 + state.size());
    put_u64(v, version);
    v += state;
    auto db = acquire();
    if (!db) return unavailable();
    // Not synced: a snapshot is a cache of the fold; losing one costs a longer load.
    const auto s = db->db->Put(rocksdb::WriteOptions(), db->cf(cf_snapshots), stream_id, v);
    if (s.ok()) return {};
    side_write_failed(s);
    return to_error(s);
  }

  result<std::optional<std::pair<std::uint64_t, std::string>>> load_snapshot(
      std::string_view stream_id) override {
    using snap = std::pair<std::uint64_t, std::string>;
    auto db = acquire();
    if (!db) return unavailable();
    std::string v;
    const auto s = db->db->Get(rocksdb::ReadOptions(), db->cf(cf_snapshots), stream_id, &v);
    if (s.IsNotFound()) return std::optional<snap>();
    if (!s.ok()) return to_error(s);
    if (v.size() < 8) return make_error_code(errc::corruption);
    return std::optional<snap>(snap{get_u64(v), v.substr(8)});
  }

  store_stats stats() const override { return pipeline_ ? pipeline_->stats() : store_stats{}; }

  std::string write_failure() const override {
    std::lock_guard lk(failure_mu_);
    return failure_;
  }

  void set_commit_observer(commit_observer observer) override {
    if (pipeline_) pipeline_->set_commit_observer(std::move(observer));
  }

  void stop() override {
    if (pipeline_) pipeline_->stop();
    signal_->close();
  }

 private:
  rocksdb::WriteOptions sync_options() const {
    rocksdb::WriteOptions wo;
    wo.sync = options_.mode == durability::fsync;
    return wo;
  }

  // A write beside the pipeline that must be durable when it returns (durability fsync): the
  // relay's checkpoint, an idempotency record. With the sync stage it is written unsynced and
  // made durable by wal_set::sync, shared with the sync stage's runs. A synced RocksDB write
  // would fdatasync inside RocksDB's write group instead, holding the pipeline's writer (and its
  // next batch) behind that flush, and add one device flush per call (the relay stores its
  // checkpoint after each delivered batch: about one per group commit under load).
  rocksdb::Status write_durable(open_db& db, rocksdb::WriteBatch& wb) {
    if (!wal_) return db.db->Write(sync_options(), &wb);
    auto s = db.db->Write(rocksdb::WriteOptions(), &wb);
    if (!s.ok()) return s;
    return wal_->sync();
  }

  // Read-only, the head is read from `streams` when asked (a secondary instance sees the store
  // as of its open either way): loading every head at open took 0.6 s at 200 000 streams,
  // before `tenantctl replay`, `events` or `export` could start, none of which needs them.
  result<stream_state> stream_of(std::string_view stream_id) {
    if (pipeline_) return pipeline_->stream(stream_id);
    auto db = acquire();
    if (!db) return unavailable();
    return stream_of(*db, stream_id);
  }
  result<stream_state> stream_of(open_db& db, std::string_view stream_id) {
    if (pipeline_) return pipeline_->stream(stream_id);
    std::string v;
    const auto s = db.db->Get(rocksdb::ReadOptions(), db.cf(cf_streams),
                              rocksdb::Slice(stream_id.data(), stream_id.size()), &v);
    if (s.IsNotFound()) return stream_state{};
    if (!s.ok()) return to_error(s);
    if (v.size() != 16) return make_error_code(errc::corruption);
    return stream_state{get_u64(v), get_u64(std::string_view(v).substr(8))};
  }

  // A shared hold on the database: readers keep it while they use it, the writer swaps the
  // database under the exclusive lock when recovery reopens it.
  struct db_ref {
    std::shared_lock<std::shared_mutex> lock;
    open_db* db = nullptr;
    explicit operator bool() const { return db != nullptr; }
    open_db* operator->() const { return db; }
    open_db& operator*() const { return *db; }
  };
  db_ref acquire() const {
    std::shared_lock lk(db_mu_);
    open_db* p = db_.get();
    return db_ref{std::move(lk), p};
  }

  std::error_code multi_get(open_db& db, rocksdb::ColumnFamilyHandle* cf,
                            const std::vector<std::string>& keys,
                            std::vector<std::string>& values) {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), cf);
    const auto statuses = db.db->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);
    for (const auto& s : statuses) {
      if (s.IsNotFound()) return make_error_code(errc::corruption);  // index says it exists
      if (!s.ok()) return to_error(s);
    }
    return {};
  }

  // Events at the given positions, in that order: tail cache first, the rest in one MultiGet.
  result<std::vector<recorded_event>> read_positions(open_db& db,
                                                     const std::vector<std::uint64_t>& positions) {
    std::vector<recorded_event> out(positions.size());
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < positions.size(); ++i)
      if (!tail_.get(positions[i], out[i])) missing.push_back(i);
    if (missing.empty()) return out;
    std::vector<std::string> keys;
    keys.reserve(missing.size());
    for (auto i : missing)
      keys.push_back(position_key(positions[i]));
    std::vector<std::string> values;
    if (auto ec = multi_get(db, db.cf(cf_events), keys, values); ec) return ec;
    for (std::size_t j = 0; j < missing.size(); ++j) {
      auto rec = to_recorded_event(std::move(values[j]));
      if (!rec || rec->position != positions[missing[j]]) return make_error_code(errc::corruption);
      out[missing[j]] = std::move(*rec);
    }
    return out;
  }

  // Loads what the writer keeps in memory: head, stream heads, claims, the id filter, the
  // idempotency count.
  std::error_code load(pipeline_state& st, std::uint64_t* idempotency_count = nullptr) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro, db_->cf(cf_events)));
      it->SeekToLast();
      if (it->Valid()) {
        if (it->key().size() != 8) return make_error_code(errc::corruption);
        st.head = get_u64(std::string_view(it->key().data(), 8));
      }
      if (!it->status().ok()) return to_error(it->status());
    }
    if (options_.read_only) return {};  // stream heads are read when asked (stream_of)
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro, db_->cf(cf_streams)));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (it->value().size() != 16) return make_error_code(errc::corruption);
        const std::string_view v(it->value().data(), 16);
        st.streams.emplace(it->key().ToString(), stream_state{get_u64(v), get_u64(v.substr(8))});
      }
      if (!it->status().ok()) return to_error(it->status());
    }
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro, db_->cf(cf_unique)));
      for (it->SeekToFirst(); it->Valid(); it->Next())
        st.claims.emplace(it->key().ToString(), it->value().ToString());
      if (!it->status().ok()) return to_error(it->status());
    }
    {
      std::size_t n = 0;
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro, db_->cf(cf_event_ids)));
      for (it->SeekToFirst(); it->Valid(); it->Next())
        ++n;
      if (!it->status().ok()) return to_error(it->status());
      st.filter = id_filter(std::max<std::size_t>(n + n / 2, 1u << 16));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (it->key().size() != 16) return make_error_code(errc::corruption);
        uuid_bytes id;
        std::copy_n(reinterpret_cast<const std::uint8_t*>(it->key().data()), 16, id.begin());
        st.filter.insert(id);
      }
      if (!it->status().ok()) return to_error(it->status());
    }
    {
      std::string v;
      const auto s =
          db_->db->Get(rocksdb::ReadOptions(), db_->cf(cf_meta), meta_idempotency_count, &v);
      if (s.ok() && v.size() == 8 && idempotency_count) *idempotency_count = get_u64(v);
      if (!s.ok() && !s.IsNotFound()) return to_error(s);
    }
    return {};
  }

  // ---- pipeline_backend ----

  result<std::optional<id_location>> find_event_id(const uuid_bytes& id) override {
    auto db = acquire();
    if (!db) return unavailable();
    return find_event_id_in(*db, id);
  }

  result<std::optional<id_location>> find_event_id_in(open_db& db, const uuid_bytes& id) {
    std::string v;
    const auto s = db.db->Get(rocksdb::ReadOptions(), db.cf(cf_event_ids),
                              rocksdb::Slice(reinterpret_cast<const char*>(id.data()), 16), &v);
    if (s.IsNotFound()) return std::optional<id_location>();
    if (!s.ok()) return to_error(s);
    if (v.size() < 16) return make_error_code(errc::corruption);
    return std::optional<id_location>(
        id_location{v.substr(16), get_u64(v), get_u64(std::string_view(v).substr(8))});
  }

  // With a sync stage (durability fsync, pipelined_sync) the batch is written without a sync
  // and sync() follows on the sync thread; otherwise WriteOptions::sync follows the durability.
  //
  // Keys and values are assembled in two reused buffers (WriteBatch::Put copies them): no
  // allocation per event beyond the batch's own growth, which is reserved up front.
  std::error_code write(const commit_batch& b) override {
    std::size_t bytes = 64;
    for (const auto& e : b.events)
      bytes += e.envelope_json.size() + 2 * e.stream_id.size() + 96;
    rocksdb::WriteBatch wb(bytes);
    std::string key, id_value;
    char pos[8];
    for (std::size_t i = 0; i < b.events.size(); ++i) {
      const auto& e = b.events[i];
      store_u64(pos, e.position);
      const rocksdb::Slice pos_slice(pos, 8);
      wb.Put(db_->cf(cf_events), pos_slice, e.envelope_json);
      key.clear();
      key.push_back(static_cast<char>(e.stream_id.size()));
      key.append(e.stream_id);
      put_u64(key, e.version);
      wb.Put(db_->cf(cf_stream_index), key, pos_slice);
      id_value.clear();
      put_u64(id_value, e.position);
      put_u64(id_value, e.version);
      id_value.append(e.stream_id);
      wb.Put(db_->cf(cf_event_ids),
             rocksdb::Slice(reinterpret_cast<const char*>(b.event_uuids[i].data()), 16), id_value);
    }
    for (const auto& [id, s] : b.streams)
      wb.Put(db_->cf(cf_streams), id, stream_head_value(s.version, s.last_position));
    for (const auto& [name, position] : b.checkpoints)
      wb.Put(db_->cf(cf_checkpoints), name, position_key(position));
    for (const auto& [value, owner] : b.claims) {
      if (owner) {
        wb.Put(db_->cf(cf_unique), value, *owner);
      } else {
        wb.Delete(db_->cf(cf_unique), value);
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = options_.mode == durability::fsync && !needs_sync();
    const auto s = db_->db->Write(wo, &wb);
    if (s.ok()) return {};
    note_failure(s.ToString());
    return unavailable();
  }

  bool needs_sync() const override {
    return options_.mode == durability::fsync && options_.pipelined_sync;
  }

  // One WAL sync for everything written so far, beside a concurrent Write (see wal_set).
  std::error_code sync() override {
    const auto s = wal_->sync();
    if (s.ok()) return {};
    note_failure(s.ToString());
    return unavailable();
  }

  // After a failed write or sync RocksDB refuses writes until Resume(), and the log may hold
  // batches that were written but never acknowledged (a failed sync), or a failed record whose
  // positions are about to be reused. Recovery therefore makes storage the truth again:
  // 1. a probe file is written and synced first: while the disk is still full nothing else is
  //    tried (a failed Resume can turn a recoverable error into a fatal one);
  // 2. Resume(), then flush every column family: what the memtables hold becomes durable and
  //    the old WAL, with any failed record, obsolete;
  // 3. if RocksDB still refuses (fatal errors cannot be resumed), close and reopen the
  //    database: WAL replay keeps every complete record. Readers wait on db_mu_ during the
  //    swap and get storage_unavailable if the reopen fails;
  // 4. the in-memory state is reloaded from the database and readers see exactly that log. A
  //    batch reported failed may thus turn out stored: a retry with its event ids is answered
  //    as a replay.
  result<pipeline_state> recover() override {
    if (auto s = probe_disk(); !s.ok()) {
      note_failure(s.ToString(), true);
      return unavailable();
    }
    bool resumed = false;
    if (db_) {
      auto s = db_->db->Resume();
      if (s.ok()) {
        rocksdb::FlushOptions fo;
        fo.wait = true;
        s = db_->db->Flush(fo, db_->handles);
      }
      resumed = s.ok();
    }
    if (!resumed) {
      std::unique_lock lk(db_mu_);
      db_.reset();
      auto db = open_layout(layout_options());
      if (!db) {
        note_failure("reopening the event store after a failed write: " + db.error().message());
        return unavailable();
      }
      db_ = std::move(*db);
    }
    pipeline_state st;
    if (auto ec = load(st); ec) {
      note_failure("reloading the event store after a failed write: " + ec.message());
      return unavailable();
    }
    // Resume + flush or the reopen made what the memtables held durable in synced SST files,
    // writes of a WAL closed without its sync (wal_set::mark_lost) included.
    if (wal_) wal_->clear_lost();
    tail_.clear();
    signal_->publish(st.head);
    note_recovered();
    return st;
  }

  // Writes and syncs a small file beside the database through the store's file system.
  rocksdb::Status probe_disk() { return probe_directory(fs_, options_.path); }

  // A write beside the pipeline failed: RocksDB refuses every write now (background error),
  // so the pipeline recovers before its next batch instead of failing one more, and retries
  // while idle (a full disk that frees up is noticed without waiting for a command).
  void side_write_failed(const rocksdb::Status& s) {
    note_failure(s.ToString());
    if (pipeline_) pipeline_->mark_broken();
  }

  // Why writes fail, for write_failure() and the log. Two error lines per outage at most, not
  // one per refused batch or failed checkpoint: the failure that started it, and the first
  // failed recovery probe (what the data directory answers now, e.g. "Read-only file system"
  // after an fdatasync failed with EIO); one line when writes work again.
  void note_failure(std::string why, bool probe = false) {
    bool started = false, probe_first = false;
    {
      std::lock_guard lk(failure_mu_);
      started = failure_.empty();
      probe_first = probe && !probe_logged_ && !started;
      if (probe) probe_logged_ = true;
      failure_ = why;
    }
    if (started)
      spdlog::error("event store: writes fail, commands are refused until storage recovers: {}",
                    why);
    if (probe_first)
      spdlog::error("event store: cannot recover yet, the data directory refuses writes: {}", why);
  }

  void note_recovered() {
    {
      std::lock_guard lk(failure_mu_);
      if (failure_.empty()) return;
      failure_.clear();
      probe_logged_ = false;
    }
    spdlog::warn("event store: storage recovered, writes succeed again");
  }

  rocksdb_open_options layout_options() const {
    rocksdb_open_options oo;
    oo.path = options_.path;
    oo.block_cache_bytes = options_.block_cache_bytes;
    oo.read_only = options_.read_only;
    oo.env = env_.get();
    oo.secondary_path = secondary_dir_;
    return oo;
  }

  void publish(commit_batch& b) override {
    const std::uint64_t head = b.events.back().position;
    tail_.append(b.events);
    signal_->publish(head);
  }

  rocksdb_options options_;
  std::shared_ptr<rocksdb::FileSystem> fs_;  // null: RocksDB's default file system
  std::shared_ptr<wal_set> wal_;             // the sync stage's WAL files (needs_sync())
  std::unique_ptr<rocksdb::Env> env_;
  mutable std::shared_mutex db_mu_;  // guards db_ itself; see db_ref
  std::unique_ptr<open_db> db_;
  std::string secondary_dir_;
  std::shared_ptr<commit_signal> signal_;
  tail_cache tail_;
  std::unique_ptr<append_pipeline> pipeline_;

  std::mutex idem_mu_;
  std::uint64_t idem_count_ = 0;
  std::string idem_lower_;

  mutable std::mutex failure_mu_;
  std::string failure_;        // see note_failure
  bool probe_logged_ = false;  // this outage's failed probe is logged
};

}  // namespace detail

result<std::unique_ptr<event_store>> open_rocksdb_store(const rocksdb_options& options) {
  if (options.path.empty()) return make_error_code(errc::invalid_argument);
  auto store = std::make_unique<detail::rocksdb_store>(options);
  if (auto ec = store->open(); ec) return ec;
  return std::unique_ptr<event_store>(std::move(store));
}

}  // namespace tenant::eventstore
