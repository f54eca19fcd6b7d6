#pragma once
/// The outbox relay: publishes the event log to `tenant.events`, at least once, in order per
/// tenant (DESIGN.md "Kafka").
///
/// It follows the log from its durable checkpoint (`event_store::load_checkpoint(name)`) with
/// `event_store::subscribe`, produces each event (key = tenant id, value = the envelope as
/// stored, CloudEvents binary-mode headers, see kafka.hpp) with an idempotent producer
/// (`enable.idempotence=true`, `acks=all`, records never expire), and advances the checkpoint
/// only through delivery reports: the checkpoint is the end of the contiguous prefix of
/// acknowledged positions, so a crash re-sends at most what was in flight (duplicates, never
/// gaps). Subscribers dedupe by `event_id` (or `position`).
///
/// Broker outage: appends keep succeeding (the relay is decoupled from commands), the relay
/// keeps up to `max_in_flight` records queued in librdkafka, then stops reading the log
/// (backpressure); the lag (head - checkpoint) grows and is reported; when a broker returns the
/// backlog drains without loss. A record refused for good (a non-retriable error, a fatal
/// idempotence error) makes the relay purge what is in flight, recreate its producer and resume
/// from the checkpoint, after `retry_backoff`.
///
/// Ownership: borrows the event store (must outlive the relay); owns one thread and one
/// librdkafka producer.
/// Threading: status() is thread-safe and non-blocking (for /readyz, /metrics, /admin/status);
/// stop() may be called from any thread.
/// Lifecycle: start_relay() -> running -> stop() (flushes what is in flight for at most
/// `stop_timeout`, stores the checkpoint, joins the thread). The destructor calls stop().

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tenant/consumers/errors.hpp"
#include "tenant/consumers/kafka.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::consumers {

struct relay_config {
  std::string bootstrap_servers;  ///< required
  std::string topic = std::string(events_topic);
  std::string checkpoint_name = "kafka.relay";
  /// Records produced and not yet acknowledged; beyond it the relay stops reading the log.
  std::size_t max_in_flight = 100'000;
  /// Most events read from the log at once. Small enough that a batch's copies of the events
  /// and librdkafka's messages stay in cache between reading and producing: 2048 cost the relay
  /// thread about 15% more CPU per record than 256 in the kafka_bench profiles.
  std::size_t read_batch = 256;
  /// The acknowledged prefix is stored at most this often (and when the relay goes idle or
  /// stops): a crash re-sends at most this much more than was in flight.
  std::chrono::milliseconds checkpoint_interval{200};
  /// Without a delivery for this long, the relay asks the cluster for metadata to find out
  /// whether Kafka is reachable (for status().kafka_reachable).
  std::chrono::milliseconds probe_interval{2'000};
  std::chrono::milliseconds retry_backoff{1'000};  ///< after a record was refused for good
  std::chrono::milliseconds stop_timeout{5'000};   ///< flush bound on stop()
  /// Overrides of the producer's librdkafka properties (the relay's own: enable.idempotence,
  /// acks=all, message.timeout.ms=0, linger.ms=5, message.max.bytes=4194304, ...).
  client_properties producer_properties;
};

/// A snapshot of the relay for /readyz (warn when !kafka_reachable), /metrics (lag) and
/// /admin/status (bootstrap servers, topic).
struct relay_status {
  std::string bootstrap_servers;
  std::string topic;
  bool running = false;
  /// Last known reachability: a delivery report or a metadata answer proves it; "all brokers
  /// down" or a failed probe disproves it. False until the first proof.
  bool kafka_reachable = false;
  std::uint64_t head = 0;             ///< the event store's head when sampled
  std::uint64_t acknowledged = 0;     ///< contiguous acknowledged prefix (in memory)
  std::uint64_t checkpoint = 0;       ///< acknowledged prefix durably stored
  std::uint64_t lag = 0;              ///< head - acknowledged: events not yet published
  std::uint64_t in_flight = 0;        ///< produced, awaiting their delivery report
  std::uint64_t published = 0;        ///< records acknowledged since start
  std::uint64_t delivery_errors = 0;  ///< records refused for good since start (then re-sent)
  std::uint64_t restarts = 0;         ///< producer recreations after such refusals
  std::string last_error;             ///< empty when none since the last successful delivery
};

class relay {
 public:
  virtual ~relay() = default;
  virtual relay_status status() const = 0;
  /// Flushes in-flight records (bounded), stores the checkpoint, joins. Idempotent.
  virtual void stop() = 0;
};

/// Loads the checkpoint, creates the producer and starts the thread. Errors: errc::invalid_config
/// (a refused property), errc::invalid_argument (empty bootstrap servers or topic), and the
/// store's error when the checkpoint cannot be read. Does not wait for Kafka.
result<std::unique_ptr<relay>> start_relay(eventstore::event_store& store, relay_config config);

}  // namespace tenant::consumers
