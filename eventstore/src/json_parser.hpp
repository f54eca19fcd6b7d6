#pragma once
// The one simdjson parser of each thread, shared by every decoder of this module (a parser
// keeps its buffers between documents, so reuse is what makes decoding cheap).
#include <simdjson.h>

namespace tenant::eventstore::detail {

/// REQUIRES: the previous document parsed on this thread is no longer referenced.
simdjson::dom::parser& thread_parser();

}  // namespace tenant::eventstore::detail
