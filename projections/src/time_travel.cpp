// Time travel folds a stream prefix with the same evolve as the projections, so a view "as of
// the last version" equals the live view field by field.
#include "tenant/projections/time_travel.hpp"

#include "fold.hpp"
#include "tenant/domain/tenant.hpp"

namespace tenant::projections {

namespace {

constexpr std::size_t chunk = 1'000;

// Folds the stream's events while `keep(event)` holds; stops at the first one that does not.
template <class Keep>
result<std::optional<tenant_view>> fold_prefix(eventstore::event_store& store,
                                               const domain::tenant_id& id, Keep&& keep) {
  if (id.empty()) return std::optional<tenant_view>();
  tenant_view v;
  bool any = false;
  std::uint64_t from = 1;
  while (true) {
    auto events = store.read_stream(id.str(), from, chunk);
    if (!events) return make_error_code(errc::storage_unavailable);
    for (const auto& r : *events) {
      auto d = detail::decode(r, false);
      if (!d) return d.error();
      if (!keep(r, *d)) return any ? std::optional<tenant_view>(std::move(v)) : std::nullopt;
      const bool existed = v.state.exists();
      v.state = domain::evolve(std::move(v.state), d->event);
      v.state.seen_payment_ids.clear();
      v.last_position = r.position;
      if (!existed && v.created_position == 0 &&
          std::holds_alternative<domain::tenant_created>(d->event.data))
        v.created_position = r.position;
      any = true;
    }
    if (events->size() < chunk) break;
    from = events->back().version + 1;
  }
  if (!any) return std::optional<tenant_view>();
  return std::optional<tenant_view>(std::move(v));
}

}  // namespace

result<std::optional<tenant_view>> view_at_version(eventstore::event_store& store,
                                                   const domain::tenant_id& id,
                                                   std::uint64_t version) {
  if (version == 0) return std::optional<tenant_view>();
  return fold_prefix(store, id,
                     [version](const eventstore::recorded_event& r, const detail::decoded_event&) {
                       return r.version <= version;
                     });
}

result<std::optional<tenant_view>> view_at_time(eventstore::event_store& store,
                                                const domain::tenant_id& id,
                                                domain::clock_time at) {
  return fold_prefix(store, id,
                     [at](const eventstore::recorded_event&, const detail::decoded_event& d) {
                       return d.event.occurred_at <= at;
                     });
}

}  // namespace tenant::projections
