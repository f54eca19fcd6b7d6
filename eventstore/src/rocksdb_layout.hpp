#pragma once
// The column families of <data-dir>/eventstore and how they are opened: shared by the store
// and by verify. Key/value encodings: keys.hpp.

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::detail {

enum column : std::size_t {
  cf_default = 0,
  cf_events,              // position (BE8) -> envelope JSON (the DESIGN.md contract)
  cf_stream_index,        // len + stream id + version (BE8) -> position (BE8)
  cf_streams,             // stream id -> version (BE8) + last position (BE8)
  cf_event_ids,           // uuid (16 bytes) -> position + version + stream id
  cf_unique,              // claimed value -> owner stream id
  cf_checkpoints,         // name -> position (BE8)
  cf_idempotency,         // key -> stored_at + fingerprint + response
  cf_idempotency_expiry,  // stored_at (BE8) + key -> ""
  cf_snapshots,           // stream id -> version (BE8) + state
  cf_meta,                // "format" -> "1", "idempotency_count" -> BE8
  cf_count
};

inline constexpr const char* column_names[cf_count] = {
    "default",     "events",      "stream_index",       "streams",   "event_ids", "unique",
    "checkpoints", "idempotency", "idempotency_expiry", "snapshots", "meta"};

inline constexpr const char* meta_format = "format";
inline constexpr const char* meta_idempotency_count = "idempotency_count";

struct open_db {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  ///< indexed by `column`
  rocksdb::ColumnFamilyHandle* cf(column c) const { return handles[c]; }
  ~open_db();
};

struct rocksdb_open_options {
  std::string path;
  std::size_t block_cache_bytes = 64u << 20;
  bool read_only = false;
  std::string secondary_path;  ///< read-only: the secondary instance's own directory
  rocksdb::Env* env = nullptr;
};

/// Opens (read-write: creating if needed) the store's database with every column family.
/// Read-only opens a secondary instance and catches up with the primary once.
result<std::unique_ptr<open_db>> open_layout(const rocksdb_open_options& o);

}  // namespace tenant::eventstore::detail
