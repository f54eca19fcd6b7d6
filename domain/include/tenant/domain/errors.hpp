#pragma once
/// Domain errors: values, never exceptions. Numbers are persisted (idempotency store) and must
/// never be renumbered or reused. The API maps each to HTTP in exactly one function.

#include <boost/assert/source_location.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tenant/domain/profile.hpp"

namespace tenant::domain {

enum class errc : std::uint16_t {
  tenant_not_found = 1,
  tenant_suspended = 2,
  tenant_deactivated = 3,
  plan_limit_exceeded = 4,
  duplicate_domain = 5,
  validation_failed = 6,
  tenant_already_exists = 7,  ///< create on an existing stream; wire code CONCURRENCY_CONFLICT
};

/// "TENANT_NOT_FOUND", ...: the wire code of DESIGN.md. tenant_already_exists has no code of its
/// own in DESIGN.md's list; it maps to "CONCURRENCY_CONFLICT" (409): two creates raced for one
/// id.
std::string_view to_code(errc e);

struct error {
  errc code = errc::validation_failed;
  std::string detail;   ///< human-readable, safe to show the caller
  field_errors fields;  ///< for validation_failed and plan_limit_exceeded (field -> messages)
  friend bool operator==(const error&, const error&) = default;
};

/// What `boost::system::result<T, error>::value()` throws on an error: calling value() on a
/// failed result is a programmer error (check the result first). Carries the error.
class error_exception : public std::runtime_error {
 public:
  explicit error_exception(error e);
  const error& value() const noexcept { return error_; }

 private:
  error error_;
};

/// Found by ADL from boost::system::result<T, error>::value(); throws error_exception.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

/// The domain error for a failed validation_outcome (REQUIRES: !o.value): plan_limit_exceeded
/// when that is the only problem (o.plan_limit_exceeded), else validation_failed; `fields`
/// carries every message.
error to_error(const validation_outcome& o);

}  // namespace tenant::domain
