// The envelope half of the codec: DESIGN.md "Event envelope". Encoded as Boost.JSON's serializer
// writes it (every string escaped by it), decoded with simdjson. The `data` object is produced
// by encode_data and spliced in unchanged.
#include <simdjson.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cstring>

#include "json_parser.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/json_scan.hpp"

namespace tenant::eventstore {

simdjson::dom::parser& detail::thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

namespace {

// Boost.JSON's serializer escapes exactly the control characters, '"' and '\\' (UTF-8 passes
// through). A string without any of them is therefore written as is, byte for byte what
// serialize() produces, without the temporary string serialize() allocates per field (this runs
// for ~12 fields of every appended event, on the append pipeline's single writer thread).
bool needs_escape(std::string_view s) {
  return codec::find_json_special(s.data(), s.data() + s.size()) != s.data() + s.size();
}

}  // namespace

void detail::append_json_string(std::string& out, std::string_view v) {
  if (needs_escape(v)) {
    out += boost::json::serialize(boost::json::string_view(v.data(), v.size()));
    return;
  }
  out += '"';
  out += v;
  out += '"';
}

namespace codec {

namespace {

using ::tenant::eventstore::detail::append_json_string;

using ::tenant::eventstore::detail::thread_parser;

std::error_code invalid() {
  return make_error_code(errc::invalid_argument);
}

// Reads a required string member.
bool get_string(simdjson::dom::object obj, std::string_view key, std::string& out) {
  std::string_view v;
  if (obj[key].get_string().get(v)) return false;
  out.assign(v);
  return true;
}

// Reads an optional string member; absent or null leaves `out` empty, other types fail.
bool get_optional_string(simdjson::dom::object obj, std::string_view key, std::string& out) {
  simdjson::dom::element e;
  if (obj[key].get(e)) return true;  // absent
  if (e.is_null()) return true;
  std::string_view v;
  if (e.get_string().get(v)) return false;
  out.assign(v);
  return true;
}

bool get_u64(simdjson::dom::object obj, std::string_view key, std::uint64_t& out) {
  return !obj[key].get_uint64().get(out);
}

}  // namespace

std::string encode_envelope(const proposed_event& e, std::string_view stream_id,
                            std::string_view tenant_id, std::uint64_t version,
                            std::uint64_t position, const event_metadata& metadata) {
  // One table of the envelope's fields, each its literal prefix (the separator, the key and its
  // colon) and its value: a string, a number or raw JSON.
  enum class kind : std::uint8_t { string, number, raw };
  struct field {
    std::string_view prefix;
    kind k;
    std::string_view text;
    std::uint64_t number = 0;
  };
  const std::string occurred_at = domain::format_time(e.occurred_at);
  const field fields[] = {
      {"{\"event_id\":", kind::string, e.event_id},
      {",\"type\":", kind::string, e.type},
      {",\"schema_version\":", kind::number, {}, e.schema_version},
      {",\"stream_id\":", kind::string, stream_id},
      {",\"tenant_id\":", kind::string, tenant_id},
      {",\"version\":", kind::number, {}, version},
      {",\"position\":", kind::number, {}, position},
      {",\"occurred_at\":", kind::string, occurred_at},
      {",\"data\":", kind::raw, e.data_json.empty() ? std::string_view("{}") : e.data_json},
      {",\"metadata\":{\"correlation_id\":", kind::string, metadata.correlation_id},
      {",\"causation_id\":", kind::string, metadata.causation_id},
      {",\"actor\":", kind::string, metadata.actor},
      {",\"traceparent\":", kind::string, metadata.traceparent},
      {"}}", kind::raw, {}},
  };
  std::size_t size = 0;
  bool escapes = false;
  for (const auto& f : fields) {
    escapes = escapes || (f.k == kind::string && needs_escape(f.text));
    size += f.prefix.size() + f.text.size() + (f.k == kind::string ? 2 : 0) +
            (f.k == kind::number ? 20 : 0);
  }
  if (escapes) {
    // Field by field, strings through append_json_string (Boost.JSON's escapes).
    std::string out;
    out.reserve(size + 64);
    char digits[24];
    for (const auto& f : fields) {
      out += f.prefix;
      switch (f.k) {
        case kind::string:
          append_json_string(out, f.text);
          break;
        case kind::number:
          out.append(digits, std::to_chars(digits, digits + sizeof digits, f.number).ptr);
          break;
        case kind::raw:
          out += f.text;
          break;
      }
    }
    return out;
  }
  // Nothing to escape (the usual case): copied into one buffer sized up front.
  std::string out(size, '\0');
  char* p = out.data();
  char* const end = p + size;
  const auto put = [&p](std::string_view v) {
    if (v.empty()) return;  // an empty view may hold a null pointer, which memcpy must not get
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  };
  for (const auto& f : fields) {
    put(f.prefix);
    switch (f.k) {
      case kind::string:
        *p++ = '"';
        put(f.text);
        *p++ = '"';
        break;
      case kind::number:
        p = std::to_chars(p, end, f.number).ptr;
        break;
      case kind::raw:
        put(f.text);
        break;
    }
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out;
}

result<envelope> decode_envelope(std::string_view json) {
  simdjson::dom::element root;
  if (thread_parser().parse(json.data(), json.size()).get(root)) return invalid();
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return invalid();

  envelope env;
  std::uint64_t schema = 0;
  std::string occurred;
  if (!get_string(obj, "event_id", env.event_id) || !get_string(obj, "type", env.type) ||
      !get_u64(obj, "schema_version", schema) || !get_string(obj, "stream_id", env.stream_id) ||
      !get_string(obj, "tenant_id", env.tenant_id) || !get_u64(obj, "version", env.version) ||
      !get_u64(obj, "position", env.position) || !get_string(obj, "occurred_at", occurred))
    return invalid();
  if (schema == 0 || schema > 0xffff || env.version == 0 || env.position == 0) return invalid();
  if (!domain::uuid::parse(env.event_id) || env.type.empty() || env.stream_id.empty())
    return invalid();
  env.schema_version = static_cast<std::uint32_t>(schema);
  const auto t = domain::parse_time(occurred);
  if (!t) return invalid();
  env.occurred_at = *t;

  simdjson::dom::object data;
  if (obj["data"].get_object().get(data)) return invalid();
  env.data_json = simdjson::minify(data);

  simdjson::dom::element meta_el;
  if (!obj["metadata"].get(meta_el) && !meta_el.is_null()) {
    simdjson::dom::object meta;
    if (meta_el.get_object().get(meta)) return invalid();
    if (!get_optional_string(meta, "correlation_id", env.metadata.correlation_id) ||
        !get_optional_string(meta, "causation_id", env.metadata.causation_id) ||
        !get_optional_string(meta, "actor", env.metadata.actor) ||
        !get_optional_string(meta, "traceparent", env.metadata.traceparent))
      return invalid();
  }
  return env;
}

result<recorded_event> to_recorded(std::string_view envelope_json) {
  auto env = decode_envelope(envelope_json);
  if (!env) return env.error();
  recorded_event r;
  r.position = env->position;
  r.version = env->version;
  r.stream_id = std::move(env->stream_id);
  r.tenant_id = std::move(env->tenant_id);
  r.event_id = std::move(env->event_id);
  r.type = std::move(env->type);
  r.schema_version = env->schema_version;
  r.occurred_at = env->occurred_at;
  r.envelope_json.assign(envelope_json);
  return r;
}

}  // namespace codec
}  // namespace tenant::eventstore
