// Fuzz target: the replay's parser-free envelope header scan (projections'
// detail::scan_envelope_header, used by `tenantctl replay` on every stored event) against the
// codec's full parse. The scan reads only the header, so it may accept a document whose tail
// (data, metadata) the codec refuses; the replay then fails on decoding the event data. What it
// accepts must pass the codec's header checks, and when both accept they must agree on every
// header field; otherwise the replay would fold an event at the wrong position or into the
// wrong stream.
//
// And the replay's two readers of a stored envelope (detail::decode_exact, in place, and
// detail::decode_on_demand, simdjson On-Demand): whatever the exact reader accepts, On-Demand
// accepts with the same event.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fold.hpp"
#include "log_scan.hpp"
#include "tenant/eventstore/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace es = tenant::eventstore;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  {
    namespace d = tenant::projections::detail;
    d::decoded_event exact, on_demand;
    if (d::decode_exact(json, exact) &&
        (!d::decode_on_demand(json, on_demand) || exact.position != on_demand.position ||
         exact.tenant != on_demand.tenant || !(exact.event == on_demand.event)))
      __builtin_trap();
  }
  es::recorded_event fast;
  if (!tenant::projections::detail::scan_envelope_header(json, fast)) return 0;
  if (!tenant::domain::uuid::parse(fast.event_id) || fast.type.empty() || fast.stream_id.empty() ||
      fast.version == 0 || fast.position == 0 || fast.schema_version == 0 ||
      fast.schema_version > 0xffff)
    __builtin_trap();
  const auto full = es::codec::to_recorded(json);
  if (!full) return 0;  // refused for its tail
  if (fast.event_id != full->event_id || fast.type != full->type ||
      fast.schema_version != full->schema_version || fast.stream_id != full->stream_id ||
      fast.tenant_id != full->tenant_id || fast.version != full->version ||
      fast.position != full->position || fast.occurred_at != full->occurred_at)
    __builtin_trap();
  return 0;
}
