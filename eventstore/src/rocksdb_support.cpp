#include "tenant/eventstore/rocksdb_support.hpp"

#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>
#include <rocksdb/status.h>

#include <string>
#include <utility>

namespace tenant::eventstore {

namespace {

class manual_recovery final : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "tenant_manual_recovery"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

class faulty_file final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  faulty_file(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<write_fault> fault,
              const std::string& name)
      : FSWritableFileOwnerWrapper(std::move(f)),
        fault_(std::move(fault)),
        wal_(name.ends_with(".log")) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* g) override {
    if (failing()) return rocksdb::IOStatus::NoSpace("injected");
    return FSWritableFileOwnerWrapper::Append(d, o, g);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* g) override {
    if (failing()) return rocksdb::IOStatus::NoSpace("injected");
    return FSWritableFileOwnerWrapper::Append(d, o, v, g);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
    if (failing()) return rocksdb::IOStatus::NoSpace("injected");
    return FSWritableFileOwnerWrapper::Flush(o, g);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
    hold();
    if (failing() || fault_->fail_syncs.load()) return rocksdb::IOStatus::IOError("injected");
    return FSWritableFileOwnerWrapper::Sync(o, g);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
    hold();
    if (failing() || fault_->fail_syncs.load()) return rocksdb::IOStatus::IOError("injected");
    return FSWritableFileOwnerWrapper::Fsync(o, g);
  }

 private:
  bool failing() const { return fault_->fail_writes.load(); }
  void hold() {
    if (!wal_ || !fault_->hold_wal_syncs.load()) return;
    fault_->held_wal_syncs.fetch_add(1);
    fault_->held_wal_syncs.notify_all();
    fault_->hold_wal_syncs.wait(true);
    fault_->held_wal_syncs.fetch_sub(1);
    fault_->held_wal_syncs.notify_all();
  }
  std::shared_ptr<write_fault> fault_;
  const bool wal_;
};

class faulty_fs final : public rocksdb::FileSystemWrapper {
 public:
  faulty_fs(std::shared_ptr<write_fault> fault)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), fault_(std::move(fault)) {}
  const char* Name() const override { return "tenant_faulty_fs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* g) override {
    if (fault_->fail_writes.load()) return rocksdb::IOStatus::NoSpace("injected");
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->NewWritableFile(f, o, &file, g);
    if (s.ok()) *r = std::make_unique<faulty_file>(std::move(file), fault_, f);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* g) override {
    if (fault_->fail_writes.load()) return rocksdb::IOStatus::NoSpace("injected");
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReopenWritableFile(f, o, &file, g);
    if (s.ok()) *r = std::make_unique<faulty_file>(std::move(file), fault_, f);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* g) override {
    if (fault_->fail_writes.load()) return rocksdb::IOStatus::NoSpace("injected");
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReuseWritableFile(f, old, o, &file, g);
    if (s.ok()) *r = std::make_unique<faulty_file>(std::move(file), fault_, f);
    return s;
  }

 private:
  std::shared_ptr<write_fault> fault_;
};

}  // namespace

std::shared_ptr<rocksdb::EventListener> make_manual_recovery_listener() {
  return std::make_shared<manual_recovery>();
}

std::shared_ptr<rocksdb::FileSystem> make_faulty_file_system(std::shared_ptr<write_fault> fault) {
  return std::make_shared<faulty_fs>(std::move(fault));
}

rocksdb::Status probe_directory(const std::shared_ptr<rocksdb::FileSystem>& fs_in,
                                const std::string& dir) {
  auto fs = fs_in ? fs_in : rocksdb::FileSystem::Default();
  const std::string name = dir + "/RECOVERY_PROBE";
  rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  auto s = fs->NewWritableFile(name, rocksdb::FileOptions(), &file, nullptr);
  if (!s.ok()) return s;
  const std::string block(4096, '\0');
  s = file->Append(block, io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  file->Close(io, nullptr).PermitUncheckedError();
  fs->DeleteFile(name, io, nullptr).PermitUncheckedError();
  return s;
}

bool is_lock_failure_text(std::string_view t) {
  return t.find("IO error: While lock file: ") != std::string_view::npos ||
         t.find("IO error: lock hold by current process") != std::string_view::npos;
}

bool is_lock_failure(const rocksdb::Status& s) {
  return s.IsIOError() && is_lock_failure_text(s.ToString());
}

}  // namespace tenant::eventstore
