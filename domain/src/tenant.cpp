// decide / evolve of the tenant aggregate. docs/state-machine.md is the table of these rules
// (command x status); tests/domain/state_machine_test.cpp checks every cell of it.
#include "tenant/domain/tenant.hpp"

#include <limits>
#include <type_traits>
#include <utility>

#include "text.hpp"

namespace tenant::domain {

namespace {

error fail(errc code, std::string detail, field_errors fields = {}) {
  return error{code, std::move(detail), std::move(fields)};
}

error not_found() {
  return fail(errc::tenant_not_found, "The tenant does not exist.");
}
error suspended() {
  return fail(errc::tenant_suspended, "The tenant is suspended.");
}
error deactivated() {
  return fail(errc::tenant_deactivated, "The tenant is deactivated.");
}

constexpr std::size_t reason_max_length = text_max_length;

// Reasons are free text from operators and billing: bounded like every free-text field.
std::optional<std::string> reason_problem(const std::string& reason) {
  const auto len = detail::utf8_length(reason);
  if (!len) return "The reason must be a string.";
  if (*len > reason_max_length)
    return "The reason may not be greater than " + std::to_string(reason_max_length) +
           " characters.";
  return std::nullopt;
}

std::optional<error> check_reason(const std::string& reason) {
  if (auto problem = reason_problem(reason))
    return fail(errc::validation_failed, "The given data was invalid.",
                {{"reason", {std::move(*problem)}}});
  return std::nullopt;
}

// settings.max_seats against the seat limit of `plan`.
std::optional<error> check_max_seats(const tenant_profile& profile, plan_tier plan,
                                     const plan_limits& limits) {
  const auto limit = limits.seat_limit(plan);
  if (!limit || !profile.settings.max_seats || *profile.settings.max_seats <= *limit)
    return std::nullopt;
  return fail(errc::plan_limit_exceeded, "The plan's seat limit would be exceeded.",
              {{"settings.max_seats", {seat_limit_message(*limit, plan)}}});
}

// PlanUpgraded / PlanDowngraded for a move from the current plan to `target`; nothing when equal.
// A downgrade below the seats in use is refused; settings.max_seats (of `profile`, the profile
// the tenant will have) is lowered to the new limit when it exceeds it.
std::optional<error> plan_change(plan_tier from, plan_tier target, std::uint32_t seats_in_use,
                                 const tenant_profile& profile, const plan_limits& limits,
                                 std::vector<event_data>& out) {
  if (target == from) return std::nullopt;
  if (target > from) {
    out.emplace_back(plan_upgraded{from, target});
    return std::nullopt;
  }
  const auto limit = limits.seat_limit(target);
  if (limit && seats_in_use > *limit)
    return fail(
        errc::plan_limit_exceeded, "The plan's seat limit would be exceeded.",
        {{"plan",
          {"The " + std::string(to_string(target)) + " plan allows " + std::to_string(*limit) +
           " seats but " + std::to_string(seats_in_use) + " are in use."}}});
  plan_downgraded e{from, target, std::nullopt};
  if (limit && profile.settings.max_seats && *profile.settings.max_seats > *limit)
    e.max_seats = *limit;
  out.emplace_back(e);
  return std::nullopt;
}

using events = std::vector<event_data>;

decision on_create(const tenant_state& s, const create_tenant& c, const decide_context& ctx) {
  if (s.exists()) return fail(errc::tenant_already_exists, "A tenant with this id already exists.");
  if (c.id.empty())
    return fail(errc::validation_failed, "The given data was invalid.",
                {{"id", {"The id field is required."}}});
  if (auto e = check_max_seats(c.profile.profile, c.profile.plan, ctx.limits)) return *e;
  tenant_created e;
  e.id = c.id;
  e.profile = c.profile.profile;
  e.country_name = c.profile.country_name;
  e.plan = c.profile.plan;
  e.trial_ends_at = ctx.now + trial_length;
  e.created_by = c.actor;
  return events{std::move(e)};
}

decision on_update(const tenant_state& s, const update_tenant& c, const decide_context& ctx) {
  if (s.status == tenant_status::suspended) return suspended();
  if (s.status == tenant_status::deactivated) return deactivated();
  const plan_tier plan = c.change_plan ? c.profile.plan : s.current_plan();
  if (auto e = check_max_seats(c.profile.profile, plan, ctx.limits)) return *e;
  events out;
  if (c.profile.profile != s.profile || c.profile.country_name != s.country_name)
    out.emplace_back(tenant_updated{c.profile.profile, c.profile.country_name});
  if (auto e =
          plan_change(s.current_plan(), plan, c.seats_in_use, c.profile.profile, ctx.limits, out))
    return *e;
  return out;
}

decision on_suspend(const tenant_state& s, const suspend_tenant& c) {
  if (auto e = check_reason(c.reason)) return *e;
  switch (s.status) {
    case tenant_status::suspended:
      return events{};
    case tenant_status::deactivated:
      return deactivated();
    default:
      return events{tenant_suspended{c.reason}};
  }
}

decision on_deactivate(const tenant_state& s, const deactivate_tenant& c) {
  if (auto e = check_reason(c.reason)) return *e;
  if (s.status == tenant_status::deactivated) return events{};
  return events{tenant_deactivated{c.users, c.reason}};
}

decision on_reactivate(const tenant_state& s, const reactivate_tenant& c) {
  if (s.status == tenant_status::suspended || s.status == tenant_status::deactivated)
    return events{tenant_reactivated{c.users, s.status}};
  return events{};
}

decision on_change_plan(const tenant_state& s, const change_plan& c, const decide_context& ctx) {
  if (s.status == tenant_status::suspended) return suspended();
  if (s.status == tenant_status::deactivated) return deactivated();
  events out;
  if (auto e = plan_change(s.current_plan(), c.target, c.seats_in_use, s.profile, ctx.limits, out))
    return *e;
  return out;
}

std::optional<error> check_payment(const record_payment& c) {
  field_errors fields;
  if (c.payment_id.empty())
    fields["payment_id"].push_back("The payment id field is required.");
  else if (!detail::utf8_length(c.payment_id))
    fields["payment_id"].push_back("The payment id must be a string.");
  else if (*detail::utf8_length(c.payment_id) > text_max_length)
    fields["payment_id"].push_back("The payment id may not be greater than " +
                                   std::to_string(text_max_length) + " characters.");
  if (c.amount_cents < 0) fields["amount_cents"].push_back("The amount cents must be at least 0.");
  if (!c.currency.empty() && c.currency.size() != 3)
    fields["currency"].push_back("The currency must be 3 characters.");
  if (auto problem = reason_problem(c.reason)) fields["reason"].push_back(std::move(*problem));
  if (fields.empty()) return std::nullopt;
  return fail(errc::validation_failed, "The given data was invalid.", std::move(fields));
}

decision on_payment(const tenant_state& s, const record_payment& c, const decide_context& ctx) {
  if (s.status == tenant_status::deactivated) return deactivated();
  if (auto e = check_payment(c)) return *e;
  if (s.seen_payment_ids.contains(c.payment_id)) return events{};
  if (c.succeeded) return events{payment_succeeded{c.payment_id, c.amount_cents, c.currency}};
  const std::uint32_t failures =
      s.consecutive_payment_failures == std::numeric_limits<std::uint32_t>::max()
          ? s.consecutive_payment_failures
          : s.consecutive_payment_failures + 1;
  events out;
  out.emplace_back(payment_failed{c.payment_id, c.amount_cents, c.currency, c.reason, failures});
  // The policy suspends together with the failure that reaches the threshold, in the same
  // append, so no reader ever sees the third failure without the suspension. A streak that
  // continues after a reactivation suspends again on its next failure. 0 disables the policy.
  if (ctx.payment_failures_before_suspension > 0 &&
      failures >= ctx.payment_failures_before_suspension && s.status != tenant_status::suspended)
    out.emplace_back(tenant_suspended{"payment_failed"});
  return out;
}

decision on_cancel(const tenant_state& s, const cancel_subscription& c) {
  if (s.status == tenant_status::deactivated) return deactivated();
  if (auto e = check_reason(c.reason)) return *e;
  if (s.subscription.status == subscription_status::cancelled) return events{};
  return events{subscription_cancelled{c.reason}};
}

decision on_provisioned(const tenant_state& s, const mark_provisioned& c) {
  if (s.provisioned) return events{};
  return events{tenant_provisioned{c.default_location_id}};
}

}  // namespace

decision decide(const tenant_state& state, const command& cmd, const decide_context& ctx) {
  return std::visit(
      [&](const auto& c) -> decision {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, create_tenant>) {
          return on_create(state, c, ctx);
        } else {
          if (!state.exists()) return not_found();
          if constexpr (std::is_same_v<T, update_tenant>)
            return on_update(state, c, ctx);
          else if constexpr (std::is_same_v<T, suspend_tenant>)
            return on_suspend(state, c);
          else if constexpr (std::is_same_v<T, deactivate_tenant>)
            return on_deactivate(state, c);
          else if constexpr (std::is_same_v<T, reactivate_tenant>)
            return on_reactivate(state, c);
          else if constexpr (std::is_same_v<T, change_plan>)
            return on_change_plan(state, c, ctx);
          else if constexpr (std::is_same_v<T, record_payment>)
            return on_payment(state, c, ctx);
          else if constexpr (std::is_same_v<T, cancel_subscription>)
            return on_cancel(state, c);
          else if constexpr (std::is_same_v<T, mark_provisioned>)
            return on_provisioned(state, c);
          else
            static_assert(sizeof(T) == 0, "command without a decision");
        }
      },
      cmd);
}

namespace {

// The rules of evolve, once for both apply_in_place forms: `Ev` is `const event&` (strings
// copied) or `event` (strings moved).
template <class Ev>
void apply_event(tenant_state& s, Ev&& ev) {
  ++s.version.value;
  std::visit(
      [&](auto&& e) {
        using T = std::decay_t<decltype(e)>;
        // A member of the event to move from (rvalue form) or to copy from (const form).
        auto take = [](auto& member) -> decltype(auto) {
          if constexpr (std::is_const_v<std::remove_reference_t<decltype(e)>>) {
            return std::as_const(member);
          } else {
            return std::move(member);
          }
        };
        if constexpr (std::is_same_v<T, user_switched_tenant>) {
          return;  // belongs to an API user's stream; nothing of the tenant changes
        } else {
          s.updated_at = ev.occurred_at;
          if constexpr (std::is_same_v<T, tenant_created>) {
            s.id = take(e.id);
            s.status = tenant_status::provisioning;
            s.profile = take(e.profile);
            s.country_name = take(e.country_name);
            s.subscription = subscription_state{e.plan, subscription_status::trialing,
                                                e.trial_ends_at, std::nullopt};
            s.created_at = ev.occurred_at;
            s.created_by = take(e.created_by);
          } else if constexpr (std::is_same_v<T, tenant_provisioned>) {
            s.provisioned = true;
            s.default_location_id = take(e.default_location_id);
            // After a suspension or deactivation the late provisioning leaves the status alone.
            if (s.status == tenant_status::provisioning) s.status = tenant_status::active;
          } else if constexpr (std::is_same_v<T, tenant_updated>) {
            s.profile = take(e.profile);
            s.country_name = take(e.country_name);
          } else if constexpr (std::is_same_v<T, tenant_suspended>) {
            s.status = tenant_status::suspended;
            s.suspension_reason = take(e.reason);
          } else if constexpr (std::is_same_v<T, tenant_deactivated>) {
            s.status = tenant_status::deactivated;
            if (e.users) s.users = e.users;
          } else if constexpr (std::is_same_v<T, tenant_reactivated>) {
            s.status = tenant_status::active;
            s.suspension_reason.clear();
            if (e.users) s.users = e.users;
          } else if constexpr (std::is_same_v<T, plan_upgraded>) {
            s.subscription.plan = e.to;
          } else if constexpr (std::is_same_v<T, plan_downgraded>) {
            s.subscription.plan = e.to;
            if (e.max_seats) s.profile.settings.max_seats = e.max_seats;
          } else if constexpr (std::is_same_v<T, payment_failed>) {
            s.seen_payment_ids.insert(take(e.payment_id));
            s.consecutive_payment_failures = e.consecutive_failures;
            if (s.subscription.status != subscription_status::cancelled)
              s.subscription.status = subscription_status::past_due;
          } else if constexpr (std::is_same_v<T, payment_succeeded>) {
            s.seen_payment_ids.insert(take(e.payment_id));
            s.consecutive_payment_failures = 0;
            if (s.subscription.status != subscription_status::cancelled)
              s.subscription.status = subscription_status::active;
          } else if constexpr (std::is_same_v<T, subscription_cancelled>) {
            s.subscription.status = subscription_status::cancelled;
            s.subscription.cancelled_at = ev.occurred_at;
          } else {
            static_assert(sizeof(T) == 0, "event without an evolution");
          }
        }
      },
      std::forward<Ev>(ev).data);
}

}  // namespace

void apply_in_place(tenant_state& s, const event& ev) {
  apply_event(s, ev);
}

void apply_in_place(tenant_state& s, event&& ev) {
  apply_event(s, std::move(ev));
}

tenant_state evolve(tenant_state s, const event& ev) {
  apply_in_place(s, ev);
  return s;
}

tenant_state fold(const std::vector<event>& history) {
  tenant_state s;
  for (const auto& e : history)
    s = evolve(std::move(s), e);
  return s;
}

domain_claims claims_for(const tenant_state& before, const tenant_state& after) {
  const auto held = [](const tenant_state& s) -> const std::optional<std::string>& {
    static const std::optional<std::string> none;
    return s.exists() && !s.is_trashed() ? s.profile.domain : none;
  };
  const auto& was = held(before);
  const auto& now = held(after);
  domain_claims out;
  if (now && now != was) out.claim = now;
  if (was && was != now) out.release = was;
  return out;
}

}  // namespace tenant::domain
