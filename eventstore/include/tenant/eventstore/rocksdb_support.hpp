#pragma once
// Pieces every RocksDB database of tenantd uses (the event store and the projections): manual
// recovery from write errors, and the fault-injection file system of the tests.

#include <memory>
#include <string>
#include <string_view>

#include "tenant/eventstore/event_store.hpp"

namespace rocksdb {
class EventListener;
class FileSystem;
class MemTableRepFactory;
class Status;
}  // namespace rocksdb

namespace tenant::eventstore {

/// A listener for DBOptions::listeners that switches RocksDB's automatic recovery from
/// background errors off. The owner of the database recovers itself (a probe, then Resume());
/// RocksDB's own attempts race with it, and a failed automatic attempt on a disk that is still
/// full escalates the error to one Resume() can no longer clear.
std::shared_ptr<rocksdb::EventListener> make_manual_recovery_listener();

/// The memtable of every column family of tenantd's databases (memtable_rep.cpp): a skip list
/// ordered by bytewise user key with one writer and lock-free readers. Debian's RocksDB 7.8 is
/// built with its asserts on, which triple the key comparisons of RocksDB's own skip list.
/// Requires DBOptions::allow_concurrent_memtable_write = false and the bytewise comparator.
/// `paranoid` (tests) checks every comparison against RocksDB's comparator and aborts on a
/// difference. With another RocksDB version than 7.8 this is RocksDB's skip list. Without
/// `paranoid`, every call returns the same factory.
std::shared_ptr<rocksdb::MemTableRepFactory> make_memtable_factory(bool paranoid = false);

/// Whether make_memtable_factory gives tenantd's skip list (RocksDB 7.8) or RocksDB's own.
bool own_memtable();

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

/// Whether an open failed because another process (or another open in this one) holds the
/// database's LOCK file: the text of such a status ("While lock file: <dir>/LOCK: Resource
/// temporarily unavailable", "lock hold by current process"). The opening code reports it as
/// its own `locked` error, so the rocksdb logger does not forward RocksDB's warning about it.
bool is_lock_failure(const rocksdb::Status& s);
bool is_lock_failure_text(std::string_view status_text);

}  // namespace tenant::eventstore
