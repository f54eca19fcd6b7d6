#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tenant.eventstore"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::wrong_expected_version:
        return "wrong expected version";
      case errc::duplicate_event_id:
        return "event id already stored in another stream";
      case errc::duplicate_domain:
        return "unique value already claimed by another stream";
      case errc::storage_unavailable:
        return "storage unavailable";
      case errc::closed:
        return "event store closed";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::corruption:
        return "corruption";
      case errc::not_found:
        return "not found";
      case errc::wrong_expected_position:
        return "wrong expected position";
      case errc::locked:
        return "in use by another process (is tenantd running on this data directory?)";
    }
    return "unknown event store error";
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), error_category()};
}

}  // namespace tenant::eventstore
