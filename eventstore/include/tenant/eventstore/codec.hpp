#pragma once
/// The one JSON codec of events: encodes with Boost.JSON, decodes with simdjson (one reused
/// parser per thread behind this adapter). Old schema versions are upcast on decode.
/// Thread-safe: free functions, no shared state.

#include <cstdint>
#include <string>
#include <string_view>

#include "tenant/domain/events.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::codec {

/// The `data` object of an event, as JSON.
std::string encode_data(const domain::event_data& e);

/// Builds the proposed event for an append: type, schema version, data JSON, time, id.
proposed_event to_proposed(const domain::event& e, std::string event_id);

/// The full envelope JSON of DESIGN.md, keys in this order: event_id, type, schema_version,
/// stream_id, tenant_id, version, position, occurred_at, data, metadata. `data_json` is spliced
/// in as produced by encode_data.
std::string encode_envelope(const proposed_event& e, std::string_view stream_id,
                            std::string_view tenant_id, std::uint64_t version,
                            std::uint64_t position, const event_metadata& metadata);

/// Every field of an envelope, parsed (import, replicas, fuzzing).
struct envelope {
  std::string event_id;
  std::string type;
  std::uint32_t schema_version = 1;
  std::string stream_id;
  std::string tenant_id;
  std::uint64_t version = 0;
  std::uint64_t position = 0;
  domain::clock_time occurred_at{};
  std::string data_json;  ///< the raw `data` object
  event_metadata metadata;
};

/// Parses and checks an envelope; errc::invalid_argument (with no exception) when malformed.
result<envelope> decode_envelope(std::string_view json);

/// recorded_event (header fields) from an envelope JSON: used by readers of foreign logs.
result<recorded_event> to_recorded(std::string_view envelope_json);

/// The domain event carried by a stored envelope, upcast to the current schema version.
result<domain::event> decode_event(std::string_view type, std::uint32_t schema_version,
                                   std::string_view data_json, domain::clock_time occurred_at);
result<domain::event> decode_event(const recorded_event& e);

/// Aggregate snapshots (opaque to the store).
std::string encode_state(const domain::tenant_state& s);
result<domain::tenant_state> decode_state(std::string_view json);

}  // namespace tenant::eventstore::codec
