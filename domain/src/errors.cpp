#include "tenant/domain/errors.hpp"

#include <boost/throw_exception.hpp>

namespace tenant::domain {

std::string_view to_code(errc e) {
  switch (e) {
    case errc::tenant_not_found:
      return "TENANT_NOT_FOUND";
    case errc::tenant_suspended:
      return "TENANT_SUSPENDED";
    case errc::tenant_deactivated:
      return "TENANT_DEACTIVATED";
    case errc::plan_limit_exceeded:
      return "PLAN_LIMIT_EXCEEDED";
    case errc::duplicate_domain:
      return "DUPLICATE_DOMAIN";
    case errc::validation_failed:
      return "VALIDATION_FAILED";
    case errc::tenant_already_exists:
      // DESIGN.md has no code of its own for it: a create racing another for the same id.
      return "CONCURRENCY_CONFLICT";
  }
  return "INTERNAL";
}

error_exception::error_exception(error e)
    : std::runtime_error(std::string(to_code(e.code)) + ": " + e.detail), error_(std::move(e)) {}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
  boost::throw_exception(error_exception(e), loc);
}

}  // namespace tenant::domain
