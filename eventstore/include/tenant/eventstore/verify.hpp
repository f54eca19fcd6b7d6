#pragma once
/// Consistency check of a RocksDB event store (`tenantctl verify`): positions 1..head
/// contiguous, each envelope well-formed and agreeing with its key, each stream's versions
/// contiguous from 1, and every index (stream index, stream heads, event ids, unique claims,
/// checkpoints) agreeing with the events, with no entry that no event explains.
///
/// Opens the store read-only (a RocksDB secondary instance), so it works while tenantd runs; it
/// checks what was committed when it opened. Blocking; memory O(streams).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore {

struct verify_report {
  std::uint64_t head = 0;    ///< last position
  std::uint64_t events = 0;  ///< events checked
  std::uint64_t streams = 0;
  std::uint64_t problem_count = 0;
  std::vector<std::string> problems;  ///< the first 100, human-readable
  bool ok() const { return problem_count == 0; }
};

/// `progress(checked, head)` is called every 64Ki events. Errors: not_found (no store at
/// `path`), storage_unavailable; inconsistencies are problems in the report, not errors.
result<verify_report> verify_rocksdb_store(
    const std::string& path,
    const std::function<void(std::uint64_t checked, std::uint64_t head)>& progress = {});

}  // namespace tenant::eventstore
