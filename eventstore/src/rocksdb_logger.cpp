#include "tenant/eventstore/rocksdb_logger.hpp"

#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string_view>

#include "tenant/eventstore/rocksdb_support.hpp"

namespace tenant::eventstore {
namespace {

// Warnings RocksDB raises about tenantd's normal operation, so informational here, by their
// text as formatted:
// - RocksDB 7.8 records no unique id in the MANIFEST for files added by IngestExternalFiles
//   (every projection replay ingests its rows that way), and warns each time it opens one that
//   it cannot verify it: after every `tenantctl replay`, with nothing for the operator to do.
// - "DB::Open() failed: IO error: While lock file: ...": the opener reports it as `locked`,
//   naming the data directory and what to do, so RocksDB's own line would only repeat it.
bool informational_warning(std::string_view message) {
  return message.find("At least one SST file opened without unique ID to verify") !=
             std::string_view::npos ||
         is_lock_failure_text(message);
}

class spdlog_rocksdb_logger final : public rocksdb::Logger {
 public:
  explicit spdlog_rocksdb_logger(std::string name)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), name_(std::move(name)) {}

  // Messages without a level are informational.
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    // HEADER_LEVEL ranks above FATAL but is the options dump written at open: not an error.
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char buf[2048];
    const int n = std::vsnprintf(buf, sizeof buf, format, ap);
    if (n < 0) return;
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL && informational_warning(buf)) return;
    const auto lvl =
        level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? spdlog::level::err : spdlog::level::warn;
    if (auto* logger = spdlog::default_logger_raw()) logger->log(lvl, "rocksdb {}: {}", name_, buf);
  }

 private:
  std::string name_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> make_rocksdb_logger(std::string name) {
  return std::make_shared<spdlog_rocksdb_logger>(std::move(name));
}

}  // namespace tenant::eventstore
