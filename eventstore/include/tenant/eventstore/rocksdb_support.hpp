#pragma once
// Pieces every RocksDB database of tenantd uses (the event store and the projections): manual
// recovery from write errors, and the fault-injection file system of the tests.

#include <memory>
#include <string>

#include "tenant/eventstore/event_store.hpp"

namespace rocksdb {
class EventListener;
class FileSystem;
class Status;
}  // namespace rocksdb

namespace tenant::eventstore {

/// A listener for DBOptions::listeners that switches RocksDB's automatic recovery from
/// background errors off. The owner of the database recovers itself (a probe, then Resume());
/// RocksDB's own attempts race with it, and a failed automatic attempt on a disk that is still
/// full escalates the error to one Resume() can no longer clear.
std::shared_ptr<rocksdb::EventListener> make_manual_recovery_listener();

/// The test hook of write_fault as a file system (over the default one): while
/// `fault->fail_writes` is true every file creation, append and sync fails with NoSpace, while
/// `fault->fail_syncs` is true syncs fail with an I/O error, and WAL syncs wait while
/// `fault->hold_wal_syncs` is true (see write_fault).
std::shared_ptr<rocksdb::FileSystem> make_faulty_file_system(std::shared_ptr<write_fault> fault);

/// Writes and syncs a 4 KiB file `<dir>/RECOVERY_PROBE` through `fs` (the default file system
/// when null) and removes it: whether the directory takes writes again, before Resume() is
/// tried (a failed Resume can turn a recoverable error into a fatal one).
rocksdb::Status probe_directory(const std::shared_ptr<rocksdb::FileSystem>& fs,
                                const std::string& dir);

}  // namespace tenant::eventstore
