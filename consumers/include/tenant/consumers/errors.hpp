#pragma once
/// Errors of the Kafka module: values on std::error_code, never exceptions.

#include <boost/system/result.hpp>
#include <system_error>

namespace tenant::consumers {

/// Numbers are stable (logged, reported); never renumber or reuse.
enum class errc {
  invalid_config = 1,    ///< a librdkafka property was refused (the detail is logged)
  broker_failed = 2,     ///< the embedded broker (mock cluster) could not start
  unavailable = 3,       ///< no broker answered within the timeout
  closed = 4,            ///< the component is stopping
  invalid_argument = 5,  ///< e.g. an unknown broker id or an empty topic name
  kafka_error = 6,       ///< any other librdkafka error (the detail is logged)
  timed_out = 7,
};
const std::error_category& error_category();
std::error_code make_error_code(errc e);

template <class T>
using result = boost::system::result<T, std::error_code>;

}  // namespace tenant::consumers

template <>
struct std::is_error_code_enum<tenant::consumers::errc> : std::true_type {};
