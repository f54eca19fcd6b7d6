#pragma once
/// The read-replica projector (`tenantd --role replica`): mirrors `tenant.events` into the
/// replica's own event log at the writer's positions, so that the replica's projections follow
/// that log exactly as on the writer (queries, `GET .../events`, time travel and X-Min-Position
/// work unchanged).
///
/// Records arrive per partition in position order, but partitions interleave: the replica keeps
/// out-of-order envelopes in a bounded buffer and appends the contiguous prefix of global
/// positions (head + 1, head + 2, ...), dropping anything at or below its head (the relay's
/// at-least-once duplicates). Each append carries the consumed offsets (per partition: the
/// first offset not yet applied) as event-store checkpoints in the same atomic batch, so after a
/// crash the replica resumes from exactly what it had applied: exactly once.
///
/// It assigns itself every partition of the topic (it needs every event; a consumer group that
/// split the partitions between replicas would be wrong) and commits the same offsets to its
/// consumer group for monitoring only. A position that never arrives (the topic's retention
/// dropped it, or the replica was started after it expired) stalls the replica at that
/// position: status() reports it, nothing is skipped. Bootstrap such a replica from an export
/// (`tenantctl export` on the writer, `tenantctl import` on the replica) and it continues after
/// the imported head.
///
/// Ownership: borrows the event store (must outlive the replica); owns one thread and one
/// librdkafka consumer.
/// Threading: status() and stop() from any thread.
/// Lifecycle: start_replica() -> running -> stop() (joins; what was applied is durable).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tenant/consumers/errors.hpp"
#include "tenant/consumers/kafka.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::consumers {

struct replica_config {
  std::string bootstrap_servers;  ///< required
  std::string topic = std::string(events_topic);
  /// The replica's consumer group (offset commits for monitoring). Give each replica its own.
  std::string group_id = "tenantd-replica";
  /// Checkpoint names: `<prefix>/<topic>/<partition>` -> next offset to read.
  std::string checkpoint_prefix = "kafka.replica";
  std::size_t max_buffered = 100'000;            ///< out-of-order envelopes held; beyond it, pause
  std::size_t max_batch = 2'048;                 ///< most events appended per group of appends
  std::chrono::milliseconds retry_backoff{500};  ///< after a failed append or metadata query
  client_properties consumer_properties;         ///< overrides of librdkafka properties
};

struct replica_status {
  std::string bootstrap_servers;
  std::string topic;
  bool running = false;
  bool kafka_reachable = false;  ///< last known: a record or metadata answer proves it
  std::int32_t partitions = 0;   ///< assigned (0 until the topic's metadata arrived)
  std::uint64_t position = 0;    ///< the local log's head: every position up to it is applied
  std::uint64_t applied = 0;     ///< events appended since start
  std::uint64_t duplicates = 0;  ///< records dropped (position already applied)
  std::uint64_t buffered = 0;    ///< records waiting for an earlier position
  /// The position the replica waits for while records are buffered (0 when none are).
  std::uint64_t waiting_for = 0;
  std::uint64_t invalid = 0;  ///< records that are not envelopes (skipped, logged)
  std::string last_error;
};

class replica {
 public:
  virtual ~replica() = default;
  virtual replica_status status() const = 0;
  virtual void stop() = 0;
};

/// Creates the consumer and starts the thread (partitions are assigned once the topic's
/// metadata is known). errc::invalid_argument, errc::invalid_config, or the store's error when
/// the checkpoints cannot be read.
result<std::unique_ptr<replica>> start_replica(eventstore::event_store& local,
                                               replica_config config);

/// The checkpoint name of a partition's consumed offset.
std::string replica_checkpoint_name(const replica_config& c, std::int32_t partition);

}  // namespace tenant::consumers
