// The aggregate repository behind the billing consumer (inbound.hpp, make_repository_executor).
#include <future>

#include "tenant/consumers/inbound.hpp"
#include "tenant/eventstore/repository.hpp"

namespace tenant::consumers {

command_executor make_repository_executor(eventstore::repository& repo) {
  return [&repo](const domain::tenant_id& id, const domain::command& cmd,
                 const eventstore::event_metadata& meta) -> command_outcome {
    eventstore::execute_options o;
    o.metadata = meta;
    std::promise<eventstore::execute_outcome> p;
    auto f = p.get_future();
    repo.execute(id, cmd, std::move(o),
                 [&p](eventstore::execute_outcome out) { p.set_value(std::move(out)); });
    const auto out = f.get();
    if (out) {
      if (out->events.empty()) return {command_outcome::status::no_op, std::nullopt, ""};
      return {command_outcome::status::applied, std::nullopt, ""};
    }
    const auto& e = out.error();
    switch (e.k) {
      case eventstore::execute_error::kind::domain:
        return {command_outcome::status::refused, e.domain_error, ""};
      case eventstore::execute_error::kind::precondition_failed:
        return {command_outcome::status::unavailable, std::nullopt, e.detail};
      case eventstore::execute_error::kind::store:
        break;
    }
    if (e.store_error == make_error_code(eventstore::errc::invalid_argument))
      return {command_outcome::status::refused,
              domain::error{domain::errc::validation_failed, e.detail, {}}, ""};
    return {command_outcome::status::unavailable, std::nullopt,
            e.detail.empty() ? e.store_error.message() : e.detail};
  };
}

}  // namespace tenant::consumers
