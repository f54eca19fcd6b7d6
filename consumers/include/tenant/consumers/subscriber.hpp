#pragma once
/// The reference subscriber of `tenant.events` (behind `tenantctl subscribe`): a Kafka consumer
/// that hands out each event once. Delivery on the topic is at least once (the relay re-sends
/// what was in flight when it crashed), so the subscriber drops an event whose `event_id`
/// (header `ce_id`) it has already handed out. The set of seen ids is bounded (oldest
/// forgotten first): duplicates arrive close to their original (at most the relay's in-flight
/// window plus one checkpoint interval later), so a window of a million ids is ample. A
/// subscriber that must dedupe across restarts keeps, per tenant (the record key), the last
/// `version` header it processed, durably with its own writes, and skips anything not newer:
/// per-tenant order is guaranteed, so that check is exact.
///
/// Ownership: owns one librdkafka consumer.
/// Threading: not thread-safe; one thread drives it. next() returns within its timeout.
/// Lifecycle: open() -> next()... -> close() (commits the offsets of the events handed out when
/// a group id was given; leaves the group). The destructor calls close().

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenant/consumers/errors.hpp"
#include "tenant/consumers/kafka.hpp"

namespace tenant::consumers {

struct subscriber_config {
  std::string bootstrap_servers;  ///< required
  std::string topic = std::string(events_topic);
  /// A consumer group whose committed offsets survive restarts. Empty: a throwaway group of
  /// this process that commits nothing (start position from `from_beginning`).
  std::string group_id;
  /// Without committed offsets: start at the oldest record (true) or only new ones (false).
  bool from_beginning = false;
  std::vector<std::string> types;         ///< only these `ce_type`s; empty = every type
  std::size_t dedupe_window = 1'000'000;  ///< event ids remembered
  client_properties consumer_properties;  ///< overrides of librdkafka properties
};

struct received_event {
  std::string key;             ///< tenant id
  std::string envelope;        ///< the record value: the envelope JSON, as published
  std::string event_id;        ///< header ce_id
  std::string type;            ///< header ce_type
  std::uint64_t position = 0;  ///< header position (0 when absent or malformed)
  std::uint64_t version = 0;   ///< header version
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::vector<message_header> headers;  ///< every header, in record order
};

class event_subscriber {
 public:
  /// Creates the consumer and subscribes. errc::invalid_config, errc::invalid_argument.
  static result<std::unique_ptr<event_subscriber>> open(const subscriber_config& config);

  ~event_subscriber();
  event_subscriber(const event_subscriber&) = delete;
  event_subscriber& operator=(const event_subscriber&) = delete;

  /// The next event not seen before and of a wanted type, waiting at most `timeout`; nullopt
  /// when none came. A record without a `ce_id` header is handed out as is (never deduped).
  result<std::optional<received_event>> next(std::chrono::milliseconds timeout);

  std::uint64_t duplicates() const;  ///< records dropped as already seen
  std::uint64_t filtered() const;    ///< records dropped by the type filter

  void close();

  struct impl;

 private:
  explicit event_subscriber(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace tenant::consumers
