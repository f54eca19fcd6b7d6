#pragma once
/// Offline tooling behind `tenantctl replay`, `export`, `import` and `verify`.
///
/// Threading: every function blocks the calling thread until done (replay uses one extra
/// thread of its own to decode while it writes). None of them may run while tenantd holds the
/// projections database (errc::locked), except verify_against_replay, which reads a secondary
/// instance.

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"

namespace tenant::projections {

struct replay_progress {
  std::string projection;      ///< "tenants", "memberships" or "tenants+memberships"
  std::uint64_t position = 0;  ///< events folded so far (= position reached)
  std::uint64_t target = 0;    ///< the store's head when the replay started
  double seconds = 0;          ///< since this run started
  double events_per_second = 0;
};

struct replay_options {
  std::string path;  ///< <data-dir>/projections
  /// <data-dir>/eventstore. When set, the log is scanned straight from its `events` column
  /// family (DESIGN.md's on-disk layout; a read-only secondary instance) instead of through
  /// event_store::read_all: one JSON parse per event and no copies, several times faster. The
  /// replay then folds up to that scan's head.
  std::string eventstore_path;
  std::vector<std::string> projections = {"all"};  ///< names, or "all"
  std::size_t batch_events = 8'192;                ///< events decoded and folded per step
  std::size_t decode_threads = 2;                  ///< threads reading and decoding the log
  /// Bound of the tenant rows kept in memory between persist points (dirty ones are written
  /// out early when it is reached; clean ones are read back from the shadow copy when needed).
  /// Memory stays bounded by this and batch_events x decode_threads, not by the log.
  std::size_t row_cache_bytes = 256u << 20;
  /// The shadow copy is persisted (sorted SST files ingested atomically together with its
  /// checkpoint) at least every this many events: the most an interrupted replay redoes.
  std::size_t persist_every_events = 1'000'000;
  std::size_t block_cache_bytes = 64u << 20;
  std::function<void(const replay_progress&)> progress;  ///< called about every 100 ms
  /// Called after each batch is folded, with the position reached (tests simulate a crash
  /// there).
  std::function<void(std::uint64_t position)> after_batch;
};

struct replay_summary {
  std::uint64_t events = 0;        ///< folded by this run
  std::uint64_t resumed_from = 0;  ///< > 0 when an interrupted replay was resumed
  std::uint64_t position = 0;      ///< where the new copy stands (the store's head)
  double seconds = 0;
  double events_per_second = 0;
};

/// Rebuilds the projections from the log into a shadow copy (new column-family generation),
/// then swaps it in atomically (one write of the generation record) and drops the old copy.
/// Interrupted (killed, crashed, storage error), it resumes from the shadow copy's checkpoint
/// on the next call. `store` may be opened read-only. errc::locked when tenantd is running:
/// use the online rebuild (read_model::rebuild) then.
result<replay_summary> replay(eventstore::event_store& store, const replay_options& options);

/// Test hook of replay: stop (as if killed) once the shadow copy reached `position`,
/// returning errc::closed without swapping.
result<replay_summary> replay_until(eventstore::event_store& store, const replay_options& options,
                                    std::uint64_t position);

/// Writes every event, position 1..head, as one envelope JSON per line (NDJSON). Returns the
/// number of events written.
result<std::uint64_t> export_log(eventstore::event_store& store, std::ostream& out);

struct import_error {
  std::error_code code;
  std::uint64_t line = 0;  ///< 1-based line of the input, 0 when not about one line
  std::string message;     ///< "line 12: position 13 expected, got 15"
};
using import_outcome = boost::system::result<std::uint64_t, import_error>;

/// Appends the envelopes of an export to an EMPTY store, keeping positions, versions, event ids,
/// timestamps and metadata. Refuses (without writing anything) a non-empty store, a malformed
/// line, a position gap or a version gap, naming the line. Consecutive envelopes of one stream
/// with the same metadata are appended atomically, as they were most likely written. Returns
/// the number of events imported.
import_outcome import_log(eventstore::event_store& store, std::istream& in);

struct verify_report {
  std::uint64_t position = 0;         ///< position both sides were compared at
  std::uint64_t tenants = 0;          ///< tenant views compared
  std::uint64_t users = 0;            ///< memberships compared
  std::vector<std::string> problems;  ///< one line each; empty = the projections match
};

/// Folds the log in memory up to the projections' checkpoint and compares every tenant view,
/// index entry and membership with the projections database at `path` (opened as a secondary
/// instance, so tenantd may be running). For `tenantctl verify`.
result<verify_report> verify_against_replay(eventstore::event_store& store,
                                            const std::string& path);

}  // namespace tenant::projections
