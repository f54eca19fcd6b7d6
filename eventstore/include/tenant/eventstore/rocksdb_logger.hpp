#pragma once
// RocksDB's informational log, routed to the process's default spdlog logger.

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace tenant::eventstore {

// A rocksdb::Logger for DBOptions::info_log that forwards warnings and errors to
// spdlog::default_logger() as "rocksdb <name>: <message>" and drops the rest.
//
// Why not RocksDB's own LOG file: it lives in the data directory, so it fills with the disk;
// RocksDB then reports the write error through that same file and Debian's librocksdb (built
// with assertions) aborts in WritableFileWriter::AssertFalseAndGetStatusForPrevError. With this
// logger a full disk makes commands fail (503) instead of killing the process, and RocksDB's
// warnings appear in tenantd's structured log where operators look.
std::shared_ptr<rocksdb::Logger> make_rocksdb_logger(std::string name);

}  // namespace tenant::eventstore
