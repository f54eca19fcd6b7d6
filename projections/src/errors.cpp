#include "tenant/projections/errors.hpp"

#include <string>

namespace tenant::projections {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "projections"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::storage_unavailable:
        return "projections storage unavailable";
      case errc::corruption:
        return "projections data or event log corrupt";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::busy:
        return "a rebuild of this projection is already running";
      case errc::closed:
        return "projections stopped";
      case errc::unknown_projection:
        return "unknown projection";
      case errc::locked:
        return "the projections database is in use by another process (is tenantd running?)";
      case errc::would_block:
        return "operation would block";
      case errc::read_only:
        return "projections opened read-only";
    }
    return "unknown projections error";
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category c;
  return c;
}

std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), error_category()};
}

}  // namespace tenant::projections
