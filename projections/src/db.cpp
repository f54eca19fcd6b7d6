#include "db.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <tenant/eventstore/rocksdb_logger.hpp>
#include <tenant/eventstore/rocksdb_support.hpp>

#include "keys.hpp"

namespace tenant::projections::detail {

namespace {

const std::vector<std::string> fixed_names = {"meta", "checkpoints", "usage", "api_calls",
                                              "locations"};

std::string cf_name(std::string_view base, std::uint64_t gen) {
  return std::string(base) + ".v" + std::to_string(gen);
}

// "tindex.v12" -> {"tenants", 12}; nullopt for other names.
std::optional<std::pair<std::string, std::uint64_t>> parse_cf_name(std::string_view name) {
  const auto dot = name.rfind(".v");
  if (dot == std::string_view::npos || dot + 2 >= name.size()) return std::nullopt;
  const auto base = name.substr(0, dot);
  std::uint64_t n = 0;
  for (char c : name.substr(dot + 2)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  for (const char* p : {"tenants", "memberships"})
    for (const auto& b : projection_cfs(p))
      if (b == base) return std::pair<std::string, std::uint64_t>{p, n};
  return std::nullopt;
}

rocksdb::ColumnFamilyOptions cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.format_version = 5;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.write_buffer_size = 32u << 20;
  // Rows (UUIDv7 tenant ids) and index entries (creation positions) of new tenants arrive
  // nearly in key order: the memtable links them after its last insert without a search.
  o.memtable_factory = tenant::eventstore::make_memtable_factory();
  return o;
}

}  // namespace

std::error_code to_error(const rocksdb::Status& s) {
  if (s.IsCorruption()) return make_error_code(errc::corruption);
  if (s.IsInvalidArgument() || s.IsNotSupported()) return make_error_code(errc::invalid_argument);
  return make_error_code(errc::storage_unavailable);
}

generation::~generation() {
  if (!db) return;
  for (auto* h : cfs)
    if (h) db->DestroyColumnFamilyHandle(h);
}

const std::vector<std::string>& projection_cfs(std::string_view projection) {
  static const std::vector<std::string> tenants = {"tenants", "tindex"};
  static const std::vector<std::string> members = {"members"};
  static const std::vector<std::string> none;
  if (projection == "tenants") return tenants;
  if (projection == "memberships") return members;
  return none;
}

bool is_projection(std::string_view name) {
  return !projection_cfs(name).empty();
}

result<std::unique_ptr<projections_db>> projections_db::open(const db_options& o) {
  std::unique_ptr<projections_db> self(new projections_db());
  self->read_only_ = o.read_only;
  self->path_ = o.path;
  self->cache_ = rocksdb::NewLRUCache(o.block_cache_bytes);

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = !o.read_only;
  dbo.create_missing_column_families = !o.read_only;
  dbo.atomic_flush = true;
  dbo.db_write_buffer_size = 128u << 20;  // memtables of every column family together
  dbo.max_background_jobs = 2;
  dbo.allow_concurrent_memtable_write = false;  // see make_memtable_factory
  // No LOG file in the data directory: on a full disk it would abort the process (see
  // tenant/eventstore/rocksdb_logger.hpp).
  dbo.info_log = tenant::eventstore::make_rocksdb_logger("projections");
  // The projector recovers from write errors itself (try_resume), RocksDB's attempts would race
  // with it.
  dbo.listeners.push_back(tenant::eventstore::make_manual_recovery_listener());
  std::shared_ptr<rocksdb::Env> env;
  if (o.fault) {
    self->fs_ = tenant::eventstore::make_faulty_file_system(o.fault);
    env = rocksdb::NewCompositeEnv(self->fs_);
    dbo.env = env.get();
  }
  if (o.read_only) dbo.max_open_files = -1;  // required by secondary instances

  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(dbo, o.path, &names);
  if (!s.ok()) {
    if (o.read_only) return make_error_code(errc::invalid_argument);  // nothing to read
    names = {rocksdb::kDefaultColumnFamilyName};
  }
  for (const auto& f : fixed_names)
    if (std::find(names.begin(), names.end(), f) == names.end()) names.push_back(f);

  const auto cfo = cf_options(self->cache_);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names)
    descs.emplace_back(n, cfo);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (o.read_only) {
    char tmpl[] = "/tmp/tenant-projections-ro-XXXXXX";
    if (!mkdtemp(tmpl)) return make_error_code(errc::storage_unavailable);
    self->secondary_dir_ = tmpl;
    // Column families the primary has not created are absent here: open what exists.
    s = rocksdb::DB::OpenAsSecondary(dbo, o.path, self->secondary_dir_, descs, &handles, &raw);
  } else {
    std::filesystem::create_directories(o.path);
    s = rocksdb::DB::Open(dbo, o.path, descs, &handles, &raw);
  }
  if (!s.ok()) {
    if (eventstore::is_lock_failure(s)) return make_error_code(errc::locked);
    return to_error(s);
  }
  // Generations share the DB and may outlive this object; the env goes with the DB.
  self->db_.reset(raw, [env](rocksdb::DB* d) { delete d; });
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == rocksdb::kDefaultColumnFamilyName) {
      raw->DestroyColumnFamilyHandle(handles[i]);  // the default one is unused
      continue;
    }
    self->unclaimed_[names[i]] = handles[i];
  }
  for (const auto& f : fixed_names) {
    self->fixed_.push_back(self->unclaimed_.at(f));
    self->unclaimed_.erase(f);
  }
  std::lock_guard lk(self->mu_);
  if (auto ec = self->load_meta_locked(); ec) return ec;
  if (!o.read_only) self->drop_orphans();
  return self;
}

rocksdb::ColumnFamilyOptions projections_db::column_options() const {
  return cf_options(cache_);
}

projections_db::~projections_db() {
  {
    std::lock_guard lk(mu_);
    for (auto& [name, h] : unclaimed_)
      db_->DestroyColumnFamilyHandle(h);
    unclaimed_.clear();
  }
  for (auto* h : fixed_)
    db_->DestroyColumnFamilyHandle(h);
  fixed_.clear();
  db_.reset();  // closes unless a generation still holds it
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

std::error_code projections_db::load_meta_locked() {
  active_.clear();
  shadow_.clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto k = it->key().ToStringView();
    const auto v = it->value().ToStringView();
    if (k.starts_with("active/")) {
      if (v.size() != 8) return make_error_code(errc::corruption);
      active_[std::string(k.substr(7))] = get_u64(v);
    } else if (k.starts_with("shadow/")) {
      if (v.size() != 9) return make_error_code(errc::corruption);
      shadow_[std::string(k.substr(7))] = shadow_info{get_u64(v), v[8] != 0};
    }
  }
  return it->status().ok() ? std::error_code() : to_error(it->status());
}

std::error_code projections_db::refresh() {
  if (read_only_) {
    auto s = db_->TryCatchUpWithPrimary();
    if (!s.ok()) return to_error(s);
  }
  std::lock_guard lk(mu_);
  return load_meta_locked();
}

void projections_db::drop_orphans() {
  for (auto it = unclaimed_.begin(); it != unclaimed_.end();) {
    const auto parsed = parse_cf_name(it->first);
    bool keep = true;
    if (parsed) {
      const auto& [proj, n] = *parsed;
      const auto a = active_.find(proj);
      const auto sh = shadow_.find(proj);
      keep =
          (a != active_.end() && a->second == n) || (sh != shadow_.end() && sh->second.number == n);
      if (!keep)
        db_->Delete(rocksdb::WriteOptions(), checkpoints(), proj + ".v" + std::to_string(n));
    }
    if (keep) {
      ++it;
      continue;
    }
    // An earlier swap or abandoned shadow: its data is unreachable. Ignore failures (retried
    // at the next start).
    db_->DropColumnFamily(it->second);
    db_->DestroyColumnFamilyHandle(it->second);
    it = unclaimed_.erase(it);
  }
}

result<generation_ptr> projections_db::open_generation_locked(std::string_view projection,
                                                              std::uint64_t number, bool create) {
  const std::string key = std::string(projection) + ".v" + std::to_string(number);
  if (auto it = live_.find(key); it != live_.end()) {
    if (auto g = it->second.lock()) return g;
  }
  auto g = std::make_shared<generation>();
  g->projection = std::string(projection);
  g->number = number;
  g->db = db_;
  // The missing column families are created in one call: RocksDB rewrites and re-parses its
  // OPTIONS file once per call, which was a tenth of a short replay's CPU one family at a time.
  std::vector<std::string> missing;
  for (const auto& base : projection_cfs(projection)) {
    const auto name = cf_name(base, number);
    if (!unclaimed_.contains(name)) missing.push_back(name);
  }
  if (!missing.empty() && (!create || read_only_))
    return make_error_code(read_only_ ? errc::invalid_argument : errc::corruption);
  std::vector<rocksdb::ColumnFamilyHandle*> created;
  if (!missing.empty()) {
    auto s = db_->CreateColumnFamilies(cf_options(cache_), missing, &created);
    if (!s.ok()) {
      for (auto* h : created)
        db_->DestroyColumnFamilyHandle(h);
      return to_error(s);
    }
  }
  std::size_t next_created = 0;
  for (const auto& base : projection_cfs(projection)) {
    const auto name = cf_name(base, number);
    if (auto u = unclaimed_.find(name); u != unclaimed_.end()) {
      g->cfs.push_back(u->second);
      unclaimed_.erase(u);
    } else {
      g->cfs.push_back(created[next_created++]);
    }
  }
  live_[key] = g;
  return g;
}

result<generation_ptr> projections_db::active(std::string_view projection) {
  if (!is_projection(projection)) return make_error_code(errc::unknown_projection);
  std::lock_guard lk(mu_);
  if (auto it = active_.find(projection); it != active_.end())
    return open_generation_locked(projection, it->second, false);
  if (read_only_) return make_error_code(errc::invalid_argument);
  auto g = open_generation_locked(projection, 1, true);
  if (!g) return g;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Put(wo, meta(), "active/" + std::string(projection), be64(1));
  if (!s.ok()) return to_error(s);
  active_[std::string(projection)] = 1;
  return g;
}

std::optional<shadow_info> projections_db::shadow(std::string_view projection) const {
  std::lock_guard lk(mu_);
  auto it = shadow_.find(projection);
  if (it == shadow_.end()) return std::nullopt;
  return it->second;
}

result<generation_ptr> projections_db::begin_shadow(std::string_view projection, bool online) {
  if (!is_projection(projection)) return make_error_code(errc::unknown_projection);
  if (read_only_) return make_error_code(errc::read_only);
  std::lock_guard lk(mu_);
  std::uint64_t number = 0;
  if (auto it = shadow_.find(projection); it != shadow_.end()) {
    number = it->second.number;  // resume the interrupted one
  } else {
    number = 1;
    if (auto a = active_.find(projection); a != active_.end()) number = a->second + 1;
  }
  auto g = open_generation_locked(projection, number, true);
  if (!g) return g;
  std::string v = be64(number);
  v.push_back(online ? 1 : 0);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Put(wo, meta(), "shadow/" + std::string(projection), v);
  if (!s.ok()) return to_error(s);
  shadow_[std::string(projection)] = shadow_info{number, online};
  return g;
}

std::error_code projections_db::swap_in(const generation_ptr& old_active,
                                        const generation_ptr& shadow) {
  if (read_only_) return make_error_code(errc::read_only);
  rocksdb::WriteBatch wb;
  wb.Put(meta(), "active/" + shadow->projection, be64(shadow->number));
  wb.Delete(meta(), "shadow/" + shadow->projection);
  if (old_active) wb.Delete(checkpoints(), old_active->checkpoint_key());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Write(wo, &wb);
  if (!s.ok()) return to_error(s);
  {
    std::lock_guard lk(mu_);
    active_[shadow->projection] = shadow->number;
    shadow_.erase(shadow->projection);
  }
  // The old copy is unreachable now; its handles stay valid for readers still holding it.
  if (old_active) db_->DropColumnFamilies(old_active->cfs);  // one OPTIONS rewrite
  return {};
}

result<std::uint64_t> projections_db::load_checkpoint(const std::string& key) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), checkpoints(), key, &v);
  if (s.IsNotFound()) return std::uint64_t{0};
  if (!s.ok()) return to_error(s);
  if (v.size() != 8) return make_error_code(errc::corruption);
  return get_u64(v);
}

void projections_db::put_checkpoint(rocksdb::WriteBatch& wb, const std::string& key,
                                    std::uint64_t pos) const {
  wb.Put(checkpoints(), key, be64(pos));
}

std::string projections_db::try_resume() {
  if (read_only_) return "opened read-only";
  if (auto s = tenant::eventstore::probe_directory(fs_, path_); !s.ok()) return s.ToString();
  auto s = db_->Resume();
  if (s.ok()) {
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    std::vector<generation_ptr> keep;  // the handles stay valid during the flush
    {
      std::lock_guard lk(mu_);
      cfs = fixed_;
      for (const auto& [name, h] : unclaimed_)
        cfs.push_back(h);
      for (const auto& [name, weak] : live_) {
        auto g = weak.lock();
        if (!g || g->db != db_) continue;
        keep.push_back(g);
        cfs.insert(cfs.end(), g->cfs.begin(), g->cfs.end());
      }
    }
    std::erase(cfs, nullptr);
    std::sort(cfs.begin(), cfs.end());
    cfs.erase(std::unique(cfs.begin(), cfs.end()), cfs.end());
    rocksdb::FlushOptions fo;
    fo.wait = true;
    fo.allow_write_stall = true;
    s = db_->Flush(fo, cfs);
  }
  return s.ok() ? std::string() : s.ToString();
}

}  // namespace tenant::projections::detail
