#include "tenant/domain/commands.hpp"

#include <type_traits>

namespace tenant::domain {

std::string_view command_name(const command& c) {
  return std::visit(
      [](const auto& cmd) -> std::string_view {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, create_tenant>)
          return "create";
        else if constexpr (std::is_same_v<T, update_tenant>)
          return "update";
        else if constexpr (std::is_same_v<T, suspend_tenant>)
          return "suspend";
        else if constexpr (std::is_same_v<T, deactivate_tenant>)
          return "deactivate";
        else if constexpr (std::is_same_v<T, reactivate_tenant>)
          return "reactivate";
        else if constexpr (std::is_same_v<T, change_plan>)
          return "change_plan";
        else if constexpr (std::is_same_v<T, record_payment>)
          return "record_payment";
        else if constexpr (std::is_same_v<T, cancel_subscription>)
          return "cancel_subscription";
        else if constexpr (std::is_same_v<T, mark_provisioned>)
          return "mark_provisioned";
        else
          static_assert(sizeof(T) == 0, "command without a name");
      },
      c);
}

}  // namespace tenant::domain
