#pragma once
// Upcasters: how an event's `data` written under an older schema version is read as the current
// one. The log is immutable, so old envelopes stay as they were written; the codec rewrites the
// data on read, one version step at a time, before decoding it strictly as the current version.
//
// To change the shape of an event's data: bump schema_version_of(type) in the domain, and
// register here an upcaster from the previous version that rewrites old data into the new shape
// (tests/codec/upcast_test.cpp reads every fixture under tests/fixtures/events/v<N>/).

#include <boost/json/object.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tenant/domain/events.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::codec::detail {

/// Rewrites `data` in place from version `from` to `from + 1`. Returns false when the old data is
/// malformed for its version (the codec then refuses the event, as for any malformed data).
using upcast_fn = bool (*)(boost::json::object& data);

struct upcaster {
  domain::event_type type;
  std::uint32_t from = 1;  ///< rewrites `from` -> `from + 1`
  upcast_fn apply = nullptr;
  std::string_view change;  ///< what changed in that version step, for humans
};

/// Every registered step.
std::span<const upcaster> upcasters();

/// The `data` JSON of `type` written under `from`, rewritten to schema_version_of(type).
/// errc::invalid_argument when the text is not a JSON object, a step is missing, or a step
/// refuses the data. REQUIRES: 1 <= from < schema_version_of(type).
result<std::string> upcast(domain::event_type type, std::uint32_t from, std::string_view data_json);

}  // namespace tenant::eventstore::codec::detail
