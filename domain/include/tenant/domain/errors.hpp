#pragma once
/// Domain errors: values, never exceptions. Numbers are persisted (idempotency store) and must
/// never be renumbered or reused. The API maps each to HTTP in exactly one function.

#include <cstdint>
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
  tenant_already_exists = 7,
};

/// "TENANT_NOT_FOUND", ...: the wire code of DESIGN.md.
std::string_view to_code(errc e);

struct error {
  errc code = errc::validation_failed;
  std::string detail;   ///< human-readable, safe to show the caller
  field_errors fields;  ///< for validation_failed and plan_limit_exceeded (field -> messages)
  friend bool operator==(const error&, const error&) = default;
};

}  // namespace tenant::domain
