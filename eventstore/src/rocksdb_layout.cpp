#include "rocksdb_layout.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <filesystem>

#include "tenant/eventstore/rocksdb_logger.hpp"
#include "tenant/eventstore/rocksdb_support.hpp"

namespace tenant::eventstore::detail {

open_db::~open_db() {
  if (!db) return;
  for (auto* h : handles)
    if (h) db->DestroyColumnFamilyHandle(h);
  db->Close();
}

namespace {

rocksdb::CompressionType best_compression() {
  const auto supported = rocksdb::GetSupportedCompressions();
  for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression})
    if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
  return rocksdb::kNoCompression;
}

rocksdb::ColumnFamilyOptions cf_options(column c, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = 16 * 1024;
  t.format_version = 5;
  // Point-lookup families get whole-key Bloom filters, held in memory with the table readers
  // (not in the block cache), so a miss never reads a data block.
  const bool point_lookups = c != cf_events && c != cf_idempotency_expiry;
  if (point_lookups) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.cache_index_and_filter_blocks = false;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.compression = best_compression();
  o.bottommost_compression = o.compression;
  // Keys that arrive in order (positions, UUIDv7 event ids, a new tenant's stream entries) are
  // linked after the last insert without a search: the memtable keeps that place itself.
  o.memtable_factory = make_memtable_factory();
  if (c == cf_events) {
    o.write_buffer_size = 64u << 20;
    o.target_file_size_base = 64u << 20;
  } else {
    o.write_buffer_size = 32u << 20;
  }
  return o;
}

}  // namespace

result<std::unique_ptr<open_db>> open_layout(const rocksdb_open_options& oo) {
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = !oo.read_only;
  dbo.create_missing_column_families = !oo.read_only;
  dbo.max_background_jobs = 2;
  // One writer at a time inserts into the memtables (make_memtable_factory); the pipeline's
  // writer is the only frequent one anyway.
  dbo.allow_concurrent_memtable_write = false;
  dbo.max_total_wal_size = 256u << 20;
  // Crash recovery keeps every complete WAL record and drops a torn tail: a batch is all or
  // nothing.
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  if (oo.env) dbo.env = oo.env;
  if (oo.read_only) dbo.max_open_files = -1;  // required by secondary instances
  // The store recovers from write errors itself (rocksdb_store.cpp: probe, Resume, flush,
  // reopen) from its writer thread.
  dbo.listeners.push_back(make_manual_recovery_listener());
  // No LOG file in the data directory: on a full disk it would abort the process (see
  // rocksdb_logger.hpp).
  dbo.info_log = make_rocksdb_logger("events");

  auto cache = rocksdb::NewLRUCache(std::max<std::size_t>(oo.block_cache_bytes, 1u << 20));
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (std::size_t c = 0; c < cf_count; ++c)
    cfs.emplace_back(column_names[c], cf_options(static_cast<column>(c), cache));

  // Column families this build does not know (added by a newer build, or by another module)
  // are opened too, with default options: RocksDB refuses to open a database otherwise.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(dbo, oo.path, &existing).ok()) {
    for (const auto& name : existing) {
      const bool known =
          std::any_of(cfs.begin(), cfs.end(), [&](const auto& d) { return d.name == name; });
      if (!known) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }

  auto out = std::make_unique<open_db>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (oo.read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::path(oo.path) / "CURRENT", ec))
      return make_error_code(errc::not_found);
    s = rocksdb::DB::OpenAsSecondary(dbo, oo.path, oo.secondary_path, cfs, &out->handles, &raw);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(oo.path, ec);
    s = rocksdb::DB::Open(dbo, oo.path, cfs, &out->handles, &raw);
  }
  if (!s.ok()) {
    if (s.IsCorruption()) return make_error_code(errc::corruption);
    if (is_lock_failure(s)) return make_error_code(errc::locked);
    return make_error_code(errc::storage_unavailable);
  }
  out->db.reset(raw);
  if (oo.read_only) {
    s = out->db->TryCatchUpWithPrimary();
    if (!s.ok()) return make_error_code(errc::storage_unavailable);
    return out;
  }
  std::string format;
  s = out->db->Get(rocksdb::ReadOptions(), out->cf(cf_meta), meta_format, &format);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = out->db->Put(wo, out->cf(cf_meta), meta_format, "1");
    if (!s.ok()) return make_error_code(errc::storage_unavailable);
  } else if (!s.ok()) {
    return make_error_code(errc::storage_unavailable);
  } else if (format != "1") {
    return make_error_code(errc::corruption);  // a layout this build does not know
  }
  return out;
}

}  // namespace tenant::eventstore::detail
