// Fuzz target: a stored event envelope as every reader of the log decodes it (import, replicas,
// projections): codec::decode_envelope, codec::to_recorded, then the event data through
// codec::decode_event with upcasting, and aggregate snapshots (codec::decode_state).
// Property beyond "no crash": whatever decodes re-encodes to data that decodes to the same
// event (the codec never produces what it cannot read back).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tenant/eventstore/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace codec = tenant::eventstore::codec;
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  (void)codec::decode_state(json);
  (void)codec::to_recorded(json);
  const auto env = codec::decode_envelope(json);
  if (!env) return 0;
  const auto ev =
      codec::decode_event(env->type, env->schema_version, env->data_json, env->occurred_at);
  if (!ev) return 0;
  const auto encoded = codec::encode_data(ev->data);
  const auto p = codec::to_proposed(*ev, env->event_id);
  const auto back = codec::decode_event(p.type, p.schema_version, encoded, ev->occurred_at);
  if (!back || !(*back == *ev)) __builtin_trap();
  // And the whole envelope the store would write for it.
  const auto whole = codec::encode_envelope(p, env->stream_id, env->tenant_id, env->version,
                                            env->position, env->metadata);
  if (!codec::decode_envelope(whole)) __builtin_trap();
  return 0;
}
