#include "tenant/consumers/errors.hpp"

#include <string>

namespace tenant::consumers {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tenant.consumers"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_config:
        return "invalid Kafka client configuration";
      case errc::broker_failed:
        return "embedded broker failed to start";
      case errc::unavailable:
        return "Kafka unavailable";
      case errc::closed:
        return "closed";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::kafka_error:
        return "Kafka error";
      case errc::timed_out:
        return "timed out";
    }
    return "unknown Kafka module error";
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

}  // namespace tenant::consumers
