#pragma once
/// What tenantd writes to and reads from Kafka (DESIGN.md "Kafka", a contract): topic names,
/// the record key and the CloudEvents binary-mode headers of `tenant.events`. Pure functions
/// and plain values, no librdkafka types: they are shared by the relay, the subscribers, the
/// tests and docs/asyncapi.yaml.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenant/eventstore/event_store.hpp"

namespace tenant::consumers {

/// librdkafka properties ("enable.idempotence" -> "true"), applied in order after the module's
/// own defaults, so a caller can override any of them.
using client_properties = std::vector<std::pair<std::string, std::string>>;

/// Default topic names.
inline constexpr std::string_view events_topic = "tenant.events";
inline constexpr std::string_view billing_topic = "billing.events";
inline constexpr std::string_view usage_topic = "tenant.usage";

/// Dead-letter topic of an inbound topic: `<topic>.dlq`.
std::string dlq_topic(std::string_view topic);

/// Header names of dead-lettered messages (besides the original headers, kept as they were).
inline constexpr std::string_view dlq_reason_header = "dlq_reason";  ///< short code, see inbound
inline constexpr std::string_view dlq_detail_header = "dlq_detail";  ///< human-readable detail
inline constexpr std::string_view dlq_topic_header = "dlq_source_topic";
inline constexpr std::string_view dlq_partition_header = "dlq_source_partition";
inline constexpr std::string_view dlq_offset_header = "dlq_source_offset";

struct message_header {
  std::string name;
  std::string value;
  friend bool operator==(const message_header&, const message_header&) = default;
};

/// The record key of an event: its tenant id (so one tenant's events share a partition and keep
/// their order); the stream id for an event without a tenant id.
std::string_view event_key(const eventstore::recorded_event& e);

/// The headers of an event's record, in this order: ce_specversion "1.0", ce_id (event_id),
/// ce_type, ce_source "/tenants", ce_subject (tenant id), ce_time (occurred_at, RFC 3339 UTC with
/// milliseconds), content-type "application/json", position and version (decimal).
std::vector<message_header> event_headers(const eventstore::recorded_event& e);

}  // namespace tenant::consumers
