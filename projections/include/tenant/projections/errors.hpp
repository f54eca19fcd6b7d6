#pragma once
/// Errors of the projections module: values on std::error_code, never exceptions.

#include <boost/system/result.hpp>
#include <string_view>
#include <system_error>

namespace tenant::projections {

/// Numbers are stable (logged, reported); never renumber or reuse.
enum class errc {
  storage_unavailable = 1,  ///< I/O error, disk full: retry later (503)
  corruption = 2,           ///< a row or the log does not decode
  invalid_argument = 3,
  busy = 4,                ///< a rebuild of that projection is already running
  closed = 5,              ///< the read model is stopping
  unknown_projection = 6,  ///< not "tenants", "memberships" or "all"
  locked = 7,              ///< another process (tenantd) holds the projections database
  would_block = 8,         ///< a non-blocking call needs I/O: retry on a blocking thread
  read_only = 9,           ///< opened read-only (tenantctl verify)
};
const std::error_category& error_category();
std::error_code make_error_code(errc e);

template <class T>
using result = boost::system::result<T, std::error_code>;

}  // namespace tenant::projections

template <>
struct std::is_error_code_enum<tenant::projections::errc> : std::true_type {};
