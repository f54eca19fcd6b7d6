#pragma once
// A direct reader of an event store's `events` column family (DESIGN.md "Event store": key =
// position as 8-byte big-endian, value = the envelope JSON), for the offline replay: it skips
// the store's read path (copies, index lookups) and leaves one JSON parse per event, in
// codec::decode_event. Opens a RocksDB secondary instance, so tenantd may be running.
// Thread-safe: scan() may run on several threads at once.

#include <rocksdb/db.h>

#include <functional>
#include <memory>
#include <string>

#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"

namespace tenant::projections::detail {

class log_scanner {
 public:
  static result<std::unique_ptr<log_scanner>> open(const std::string& eventstore_path);
  ~log_scanner();

  /// Last position stored when opened (0 = empty log).
  std::uint64_t head() const { return head_; }

  /// Calls `f` for positions first..last in order; errc::corruption on a gap or a malformed
  /// envelope, or `f`'s own error.
  std::error_code scan(std::uint64_t first, std::uint64_t last,
                       const std::function<std::error_code(eventstore::recorded_event&)>& f) const;

  /// The stored values of positions first..last in order, as RocksDB holds them (valid during
  /// the call only): `f(position, value)`. errc::corruption on a gap, or `f`'s own error. The
  /// replay decodes these in one pass (decode_stored) and falls back to the codec.
  std::error_code scan_values(
      std::uint64_t first, std::uint64_t last,
      const std::function<std::error_code(std::uint64_t, std::string_view)>& f) const;

 private:
  log_scanner() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  std::string secondary_dir_;
  std::uint64_t head_ = 0;
};

/// The header fields of an envelope written by the codec (fixed key order, no escapes in these
/// fields), found without a JSON parser; false for anything else (the caller falls back to
/// codec::to_recorded).
bool scan_envelope_header(std::string_view json, eventstore::recorded_event& out);

/// A stored value of `position` as a recorded_event (header fields by scan_envelope_header,
/// the codec for any other layout, the whole value as envelope_json); errc::corruption when it
/// does not decode or names another position. `out` is reused (its buffers kept).
std::error_code to_recorded_event(std::uint64_t position, std::string_view value,
                                  eventstore::recorded_event& out);

}  // namespace tenant::projections::detail
