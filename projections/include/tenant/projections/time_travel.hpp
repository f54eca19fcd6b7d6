#pragma once
/// A tenant's state at an earlier point of its stream, folded from its events
/// (GET /tenants/{id}?as_of_version=N and ?as_of=<RFC 3339>).
///
/// Threading: blocking (reads the event store); thread-safe; run it off io_context threads.

#include <cstdint>
#include <optional>

#include "tenant/domain/tenant.hpp"
#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::projections {

/// The view after the events with version <= `version` (a version past the end gives the
/// current state). nullopt when the stream does not exist or `version` is 0.
result<std::optional<tenant_view>> view_at_version(eventstore::event_store& store,
                                                   const domain::tenant_id& id,
                                                   std::uint64_t version);

/// The view after the events that occurred at or before `at`. nullopt when the stream does not
/// exist or its first event is later than `at`.
result<std::optional<tenant_view>> view_at_time(eventstore::event_store& store,
                                                const domain::tenant_id& id, domain::clock_time at);

}  // namespace tenant::projections
