#pragma once
// The one simdjson parser of each thread, shared by every decoder of this module (a parser
// keeps its buffers between documents, so reuse is what makes decoding cheap), and the one
// string escaper of its encoders.
#include <simdjson.h>

#include <string>
#include <string_view>

namespace tenant::eventstore::detail {

/// REQUIRES: the previous document parsed on this thread is no longer referenced.
simdjson::dom::parser& thread_parser();

/// Appends `v` as a JSON string (quotes included), escaped exactly as Boost.JSON's serializer
/// escapes it: the control characters, '"' and '\\'; every other byte as it is.
void append_json_string(std::string& out, std::string_view v);

}  // namespace tenant::eventstore::detail
