#pragma once
// The projections database: <data-dir>/projections. Column families:
//   meta                "active/<projection>" -> generation (BE8);
//                       "shadow/<projection>" -> generation (BE8) + online flag (1 byte)
//   checkpoints         "<projection>.v<gen>" -> position (BE8); "pm/provisioning" -> position
//   usage               uuid16 -> seats (varint) + storage (varint) + observed_at ms (BE8)
//   api_calls           uuid16 -> day (varint) + today (varint) + month (varint) + count (varint)
//   locations           uuid16 -> location (binary)
//   tenants.v<gen>      uuid16 -> tenant view row (row_codec.hpp)
//   tindex.v<gen>       created position (BE8) + tag -> index entry (keys.hpp)
//   members.v<gen>      user key -> current tenant / membership (keys.hpp)
// A projection's data lives in column families of one generation; a rebuild fills the next
// generation and swaps by rewriting "active/<projection>" (one write), so a reader of the
// database sees either the whole old copy or the whole new one.
//
// atomic_flush is on: rows and checkpoints written without the WAL (offline replay) reach disk
// together, so a crash leaves a copy consistent with its checkpoint.

#include <rocksdb/db.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"

namespace tenant::projections::detail {

std::error_code to_error(const rocksdb::Status& s);

/// The column families of one generation of a projection; owns the handles (destroyed with
/// the last reference, so readers of a swapped-out copy finish safely even after the drop).
struct generation {
  std::string projection;
  std::uint64_t number = 0;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;  // in the order of projection_cfs()
  std::shared_ptr<rocksdb::DB> db;                // kept open while any generation lives
  ~generation();
  std::string checkpoint_key() const { return projection + ".v" + std::to_string(number); }
};
using generation_ptr = std::shared_ptr<generation>;

/// Column family base names of a projection: tenants -> {tenants, tindex}, memberships ->
/// {members}.
const std::vector<std::string>& projection_cfs(std::string_view projection);
bool is_projection(std::string_view name);

struct shadow_info {
  std::uint64_t number = 0;
  bool online = true;
};

struct db_options {
  std::string path;
  std::size_t block_cache_bytes = 128u << 20;
  bool read_only = false;                               // secondary instance
  std::shared_ptr<eventstore::write_fault> fault = {};  // test hook, normally empty
};

class projections_db {
 public:
  static result<std::unique_ptr<projections_db>> open(const db_options& o);
  ~projections_db();

  rocksdb::DB* db() const { return db_.get(); }
  const std::shared_ptr<rocksdb::DB>& shared_db() const { return db_; }
  rocksdb::ColumnFamilyHandle* meta() const { return fixed_[0]; }
  rocksdb::ColumnFamilyHandle* checkpoints() const { return fixed_[1]; }
  rocksdb::ColumnFamilyHandle* usage() const { return fixed_[2]; }
  rocksdb::ColumnFamilyHandle* api_calls() const { return fixed_[3]; }
  rocksdb::ColumnFamilyHandle* locations() const { return fixed_[4]; }
  bool read_only() const { return read_only_; }
  /// The options every column family is opened with (SST files written for ingestion use them).
  rocksdb::ColumnFamilyOptions column_options() const;
  const std::string& path() const { return path_; }

  /// The active generation (created empty, number 1, on first use).
  result<generation_ptr> active(std::string_view projection);
  std::optional<shadow_info> shadow(std::string_view projection) const;
  /// Creates the column families of a new shadow generation (or reopens the recorded one) and
  /// records it in meta.
  result<generation_ptr> begin_shadow(std::string_view projection, bool online);
  /// Makes `shadow` active in one write and drops the old generation's column families.
  std::error_code swap_in(const generation_ptr& old_active, const generation_ptr& shadow);

  result<std::uint64_t> load_checkpoint(const std::string& key) const;
  /// Adds a checkpoint write to `wb` (no I/O).
  void put_checkpoint(rocksdb::WriteBatch& wb, const std::string& key, std::uint64_t pos) const;

  /// Reads meta "active"/"shadow" again (a secondary instance after catching up).
  std::error_code refresh();

  /// After a failed write RocksDB refuses every write until Resume(). This probes the
  /// directory first (while the disk is still full nothing else is tried: a failed Resume can
  /// make the error one it no longer clears), then resumes and flushes every column family, so
  /// that what the memtables hold is durable and the WAL with the failed record is obsolete.
  /// Returns "" when the database takes writes again, else why not (RocksDB's status text).
  std::string try_resume();

 private:
  projections_db() = default;
  std::error_code load_meta_locked();
  result<generation_ptr> open_generation_locked(std::string_view projection, std::uint64_t number,
                                                bool create);
  void drop_orphans();

  std::shared_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> fixed_;
  mutable std::mutex mu_;
  // Handles opened at start and not yet claimed by a generation object.
  std::map<std::string, rocksdb::ColumnFamilyHandle*> unclaimed_;
  std::map<std::string, std::weak_ptr<generation>> live_;  // "tenants.v3" -> generation
  std::map<std::string, std::uint64_t, std::less<>> active_;
  std::map<std::string, shadow_info, std::less<>> shadow_;
  std::string secondary_dir_;
  std::string path_;
  bool read_only_ = false;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::FileSystem> fs_;  // the fault-injection file system, else null
};

}  // namespace tenant::projections::detail
