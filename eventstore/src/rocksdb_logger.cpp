#include "tenant/eventstore/rocksdb_logger.hpp"

#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

namespace tenant::eventstore {
namespace {

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
