// Given events / when command / then the exact events (field by field) or error; and what evolve
// makes of them. The state machine table (state_machine_test.cpp) covers which event types; this
// covers what they carry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tenant/domain/tenant.hpp"

namespace tenant::domain {
namespace {

using namespace std::chrono;
using ::testing::ElementsAre;

const clock_time t0 = sys_days{2026y / 1 / 15} + 9h + 30min;

tenant_id the_id() {
  return *tenant_id::parse("tn_0194c3a2-7f00-7000-8000-000000000001");
}

validated_profile profile(plan_tier plan = plan_tier::professional) {
  validated_profile v;
  v.profile.name = "Acme Corp";
  v.profile.admin_email = "admin@acme.com";
  v.profile.domain = "acme.example";
  v.profile.settings = {"America/New_York", "en-US", 40};
  v.profile.country_code = "US";
  v.country_name = "United States";
  v.plan = plan;
  return v;
}

// A given/when/then fixture: events are timestamped one minute apart from t0.
class Given : public ::testing::Test {
 protected:
  void given(std::vector<event_data> events) {
    for (auto& d : events) {
      history_.push_back(event{std::move(d), now_});
      now_ += 1min;
    }
    state_ = fold(history_);
  }
  void given_created(plan_tier plan = plan_tier::professional) {
    given({tenant_created{the_id(), profile(plan).profile, "United States", plan, t0 + trial_length,
                          user_id("user-1")},
           tenant_provisioned{"loc-1"}});
  }
  decision when(const command& c) {
    ctx_.now = now_;
    return decide(state_, c, ctx_);
  }
  // Decides and applies the events, as the repository would.
  std::vector<event_data> apply(const command& c) {
    auto d = when(c);
    EXPECT_TRUE(d) << (d ? "" : d.error().detail);
    if (!d) return {};
    for (const auto& e : *d) {
      history_.push_back(event{e, now_});
      state_ = evolve(state_, history_.back());
    }
    now_ += 1min;
    return *d;
  }

  std::vector<event> history_;
  tenant_state state_;
  clock_time now_ = t0;
  decide_context ctx_;
};

// ---- create ----

TEST_F(Given, CreateDecidesTenantCreatedWithATrial) {
  const auto d = when(create_tenant{the_id(), profile(), user_id("user-7")});
  ASSERT_TRUE(d);
  tenant_created expected{the_id(),        profile().profile,
                          "United States", plan_tier::professional,
                          t0 + days{14},   user_id("user-7")};
  EXPECT_THAT(*d, ElementsAre(event_data{expected}));
}

TEST_F(Given, CreatedTenantIsProvisioningAndTrialing) {
  apply(create_tenant{the_id(), profile(), user_id("user-7")});
  EXPECT_EQ(state_.id, the_id());
  EXPECT_EQ(state_.version, stream_version{1});
  EXPECT_EQ(state_.status, tenant_status::provisioning);
  EXPECT_EQ(state_.subscription.status, subscription_status::trialing);
  EXPECT_EQ(state_.subscription.plan, plan_tier::professional);
  EXPECT_EQ(state_.subscription.trial_ends_at, t0 + days{14});
  EXPECT_EQ(state_.created_at, t0);
  EXPECT_EQ(state_.updated_at, t0);
  EXPECT_EQ(state_.created_by, user_id("user-7"));
  EXPECT_EQ(state_.country_name, "United States");
  EXPECT_FALSE(state_.provisioned);
  EXPECT_FALSE(state_.is_trashed());
}

TEST_F(Given, CreateWithMaxSeatsAboveThePlanIsPlanLimitExceeded) {
  auto p = profile(plan_tier::starter);
  p.profile.settings.max_seats = 11;
  const auto d = when(create_tenant{the_id(), p, user_id("u")});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::plan_limit_exceeded);
  EXPECT_EQ(d.error().fields.count("settings.max_seats"), 1u);
}

TEST_F(Given, CreateRespectsConfiguredLimits) {
  auto p = profile(plan_tier::starter);
  p.profile.settings.max_seats = 11;
  ctx_.limits.starter = 25;
  EXPECT_TRUE(when(create_tenant{the_id(), p, user_id("u")}));
}

TEST_F(Given, CreateWithoutIdIsRefused) {
  const auto d = when(create_tenant{tenant_id{}, profile(), user_id("u")});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::validation_failed);
  EXPECT_EQ(d.error().fields.count("id"), 1u);
}

// ---- provisioning ----

TEST_F(Given, ProvisioningActivates) {
  apply(create_tenant{the_id(), profile(), user_id("u")});
  EXPECT_THAT(apply(mark_provisioned{"loc-7"}),
              ElementsAre(event_data{tenant_provisioned{"loc-7"}}));
  EXPECT_EQ(state_.status, tenant_status::active);
  EXPECT_TRUE(state_.provisioned);
  EXPECT_EQ(state_.default_location_id, "loc-7");
}

TEST_F(Given, LateProvisioningLeavesSuspendedAndDeactivatedAlone) {
  apply(create_tenant{the_id(), profile(), user_id("u")});
  apply(suspend_tenant{"fraud check"});
  apply(mark_provisioned{"loc-7"});
  EXPECT_EQ(state_.status, tenant_status::suspended);
  EXPECT_TRUE(state_.provisioned);
  apply(deactivate_tenant{std::nullopt, ""});
  EXPECT_TRUE(apply(mark_provisioned{"loc-8"}).empty());  // already provisioned
  EXPECT_EQ(state_.default_location_id, "loc-7");
}

// ---- update ----

TEST_F(Given, UpdateReplacesTheProfile) {
  given_created();
  auto p = profile();
  p.profile.city = "New York";
  p.profile.domain.reset();
  p.profile.country_code = "DE";
  p.country_name = "Germany";
  EXPECT_THAT(apply(update_tenant{p, true, 0}),
              ElementsAre(event_data{tenant_updated{p.profile, "Germany"}}));
  EXPECT_EQ(state_.profile, p.profile);
  EXPECT_EQ(state_.country_name, "Germany");
  EXPECT_EQ(state_.updated_at, t0 + 2min);
}

TEST_F(Given, UpdateWithTheSameProfileIsANoOp) {
  given_created();
  EXPECT_TRUE(apply(update_tenant{profile(), true, 0}).empty());
  EXPECT_EQ(state_.version, stream_version{2});
}

TEST_F(Given, UpdateThatLowersThePlanDowngradesAfterTheUpdate) {
  given_created(plan_tier::enterprise);
  auto p = profile(plan_tier::professional);
  p.profile.settings.max_seats = 50;
  EXPECT_THAT(apply(update_tenant{p, true, 12}),
              ElementsAre(event_data{tenant_updated{p.profile, "United States"}},
                          event_data{plan_downgraded{plan_tier::enterprise, plan_tier::professional,
                                                     std::nullopt}}));
  EXPECT_EQ(state_.current_plan(), plan_tier::professional);
  EXPECT_EQ(state_.profile.settings.max_seats, 50u);
}

TEST_F(Given, UpdateWithoutPlanKeepsThePlanAndChecksItsLimit) {
  given_created(plan_tier::starter);
  auto p = profile(plan_tier::enterprise);  // the TMS dialect's default, ignored
  p.profile.settings.max_seats = 10;
  EXPECT_THAT(apply(update_tenant{p, false, 0}),
              ElementsAre(event_data{tenant_updated{p.profile, "United States"}}));
  EXPECT_EQ(state_.current_plan(), plan_tier::starter);
  p.profile.settings.max_seats = 11;
  const auto d = when(update_tenant{p, false, 0});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::plan_limit_exceeded);
}

TEST_F(Given, UpdateDowngradeBelowSeatsInUseNamesThePlanField) {
  given_created(plan_tier::professional);
  auto p = profile(plan_tier::starter);
  p.profile.settings.max_seats = 5;
  const auto d = when(update_tenant{p, true, 11});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::plan_limit_exceeded);
  const field_errors expected{{"plan", {"The starter plan allows 10 seats but 11 are in use."}}};
  EXPECT_EQ(d.error().fields, expected);
}

// ---- suspend / deactivate / reactivate ----

TEST_F(Given, SuspendRecordsTheReason) {
  given_created();
  EXPECT_THAT(apply(suspend_tenant{"abuse"}), ElementsAre(event_data{tenant_suspended{"abuse"}}));
  EXPECT_EQ(state_.status, tenant_status::suspended);
  EXPECT_EQ(state_.suspension_reason, "abuse");
  EXPECT_TRUE(apply(suspend_tenant{"again"}).empty());
  EXPECT_EQ(state_.suspension_reason, "abuse");
}

TEST_F(Given, DeactivateAndReactivateCarryUserStatus) {
  given_created();
  apply(suspend_tenant{"abuse"});
  EXPECT_THAT(apply(deactivate_tenant{user_status::banned, "closed"}),
              ElementsAre(event_data{tenant_deactivated{user_status::banned, "closed"}}));
  EXPECT_TRUE(state_.is_trashed());
  EXPECT_EQ(state_.users, user_status::banned);
  EXPECT_TRUE(apply(deactivate_tenant{user_status::passive, ""}).empty());
  EXPECT_EQ(state_.users, user_status::banned);
  EXPECT_THAT(
      apply(reactivate_tenant{user_status::active}),
      ElementsAre(event_data{tenant_reactivated{user_status::active, tenant_status::deactivated}}));
  EXPECT_EQ(state_.status, tenant_status::active);
  EXPECT_EQ(state_.users, user_status::active);
  EXPECT_EQ(state_.suspension_reason, "");
}

TEST_F(Given, ReactivateWithoutUserStatusKeepsTheLastOne) {
  given_created();
  apply(deactivate_tenant{user_status::passive, ""});
  apply(reactivate_tenant{std::nullopt});
  EXPECT_EQ(state_.users, user_status::passive);
}

TEST_F(Given, OverlongReasonIsRefused) {
  given_created();
  std::string reason(255, 'r');
  EXPECT_TRUE(when(suspend_tenant{reason}));
  reason += 'r';
  const auto d = when(suspend_tenant{reason});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::validation_failed);
  EXPECT_THAT(d.error().fields.at("reason"),
              ElementsAre("The reason may not be greater than 255 characters."));
  EXPECT_FALSE(when(deactivate_tenant{std::nullopt, reason}));
  EXPECT_FALSE(when(cancel_subscription{reason}));
}

// ---- plans ----

TEST_F(Given, UpgradeCarriesFromAndTo) {
  given_created(plan_tier::starter);
  EXPECT_THAT(apply(change_plan{plan_tier::enterprise, 0}),
              ElementsAre(event_data{plan_upgraded{plan_tier::starter, plan_tier::enterprise}}));
  EXPECT_EQ(state_.current_plan(), plan_tier::enterprise);
}

TEST_F(Given, DowngradeLowersMaxSeatsToTheNewLimit) {
  given_created(plan_tier::professional);  // max_seats 40
  EXPECT_THAT(
      apply(change_plan{plan_tier::starter, 10}),
      ElementsAre(event_data{plan_downgraded{plan_tier::professional, plan_tier::starter, 10u}}));
  EXPECT_EQ(state_.current_plan(), plan_tier::starter);
  EXPECT_EQ(state_.profile.settings.max_seats, 10u);
}

TEST_F(Given, DowngradeKeepsMaxSeatsThatFit) {
  given_created(plan_tier::enterprise);  // max_seats 40
  EXPECT_THAT(apply(change_plan{plan_tier::professional, 40}),
              ElementsAre(event_data{
                  plan_downgraded{plan_tier::enterprise, plan_tier::professional, std::nullopt}}));
  EXPECT_EQ(state_.profile.settings.max_seats, 40u);
}

TEST_F(Given, DowngradeToAnUnlimitedPlanNeverExceeds) {
  ctx_.limits.starter = std::nullopt;
  given_created(plan_tier::professional);
  EXPECT_TRUE(when(change_plan{plan_tier::starter, 100000}));
}

// ---- payments ----

TEST_F(Given, ThirdConsecutiveFailureSuspendsInTheSameDecision) {
  given_created();
  EXPECT_THAT(apply(record_payment{false, "p1", 4900, "EUR", "declined"}),
              ElementsAre(event_data{payment_failed{"p1", 4900, "EUR", "declined", 1}}));
  EXPECT_EQ(state_.subscription.status, subscription_status::past_due);
  apply(record_payment{false, "p2", 4900, "EUR", "declined"});
  EXPECT_THAT(apply(record_payment{false, "p3", 4900, "EUR", "declined"}),
              ElementsAre(event_data{payment_failed{"p3", 4900, "EUR", "declined", 3}},
                          event_data{tenant_suspended{"payment_failed"}}));
  EXPECT_EQ(state_.status, tenant_status::suspended);
  EXPECT_EQ(state_.suspension_reason, "payment_failed");
  EXPECT_EQ(state_.consecutive_payment_failures, 3u);
  // Payments still land on the suspended tenant; success does not reactivate it.
  EXPECT_THAT(apply(record_payment{true, "p4", 4900, "EUR", ""}),
              ElementsAre(event_data{payment_succeeded{"p4", 4900, "EUR"}}));
  EXPECT_EQ(state_.status, tenant_status::suspended);
  EXPECT_EQ(state_.subscription.status, subscription_status::active);
  EXPECT_EQ(state_.consecutive_payment_failures, 0u);
}

TEST_F(Given, SuccessResetsTheStreak) {
  given_created();
  apply(record_payment{false, "p1", 1, "EUR", ""});
  apply(record_payment{false, "p2", 1, "EUR", ""});
  apply(record_payment{true, "p3", 1, "EUR", ""});
  EXPECT_THAT(apply(record_payment{false, "p4", 1, "EUR", ""}),
              ElementsAre(event_data{payment_failed{"p4", 1, "EUR", "", 1}}));
  EXPECT_EQ(state_.status, tenant_status::active);
}

TEST_F(Given, StreakContinuingAfterReactivationSuspendsAgain) {
  given_created();
  for (const char* id : {"p1", "p2", "p3"})
    apply(record_payment{false, id, 1, "EUR", ""});
  apply(reactivate_tenant{std::nullopt});
  EXPECT_THAT(apply(record_payment{false, "p4", 1, "EUR", ""}),
              ElementsAre(event_data{payment_failed{"p4", 1, "EUR", "", 4}},
                          event_data{tenant_suspended{"payment_failed"}}));
}

TEST_F(Given, ConfigurableThresholdAndDisabledPolicy) {
  given_created();
  ctx_.payment_failures_before_suspension = 1;
  EXPECT_EQ(when(record_payment{false, "p1", 1, "EUR", ""})->size(), 2u);
  ctx_.payment_failures_before_suspension = 0;
  for (const char* id : {"p1", "p2", "p3", "p4"})
    EXPECT_EQ(apply(record_payment{false, id, 1, "EUR", ""}).size(), 1u);
  EXPECT_EQ(state_.status, tenant_status::active);
}

TEST_F(Given, RepeatedPaymentIdIsANoOpWhateverItsOutcome) {
  given_created();
  apply(record_payment{false, "p1", 1, "EUR", ""});
  EXPECT_TRUE(apply(record_payment{true, "p1", 1, "EUR", ""}).empty());
  EXPECT_TRUE(apply(record_payment{false, "p1", 1, "EUR", ""}).empty());
  EXPECT_EQ(state_.consecutive_payment_failures, 1u);
}

TEST_F(Given, CancelledSubscriptionStaysCancelled) {
  given_created();
  EXPECT_THAT(apply(cancel_subscription{"moving on"}),
              ElementsAre(event_data{subscription_cancelled{"moving on"}}));
  EXPECT_EQ(state_.subscription.status, subscription_status::cancelled);
  EXPECT_EQ(state_.subscription.cancelled_at, t0 + 2min);
  apply(record_payment{false, "p1", 1, "EUR", ""});
  EXPECT_EQ(state_.subscription.status, subscription_status::cancelled);
  apply(record_payment{true, "p2", 1, "EUR", ""});
  EXPECT_EQ(state_.subscription.status, subscription_status::cancelled);
}

TEST_F(Given, MalformedPaymentsAreRefused) {
  given_created();
  const auto d = when(record_payment{false, "", -1, "EURO", ""});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::validation_failed);
  const field_errors expected{
      {"amount_cents", {"The amount cents must be at least 0."}},
      {"currency", {"The currency must be 3 characters."}},
      {"payment_id", {"The payment id field is required."}},
  };
  EXPECT_EQ(d.error().fields, expected);
  EXPECT_TRUE(when(record_payment{true, std::string(255, 'p'), 0, "", ""}));
  EXPECT_FALSE(when(record_payment{true, std::string(256, 'p'), 0, "", ""}));
}

// ---- errors as values ----

TEST_F(Given, ErrorsCarryCodeAndDetail) {
  auto d = when(suspend_tenant{"x"});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::tenant_not_found);
  EXPECT_FALSE(d.error().detail.empty());
  // value() on a failed result is a programmer error: it throws the error, found by ADL.
  try {
    (void)d.value();
    FAIL() << "value() did not throw";
  } catch (const error_exception& ex) {
    EXPECT_EQ(ex.value().code, errc::tenant_not_found);
    EXPECT_THAT(std::string(ex.what()), ::testing::StartsWith("TENANT_NOT_FOUND"));
  }
}

// ---- evolve and fold ----

TEST(Evolve, UserSwitchedTenantOnlyBumpsTheVersion) {
  tenant_state s;
  s = evolve(s, event{user_switched_tenant{user_id("u"), the_id()}, t0});
  EXPECT_EQ(s.version, stream_version{1});
  EXPECT_EQ(s.status, tenant_status::none);
  EXPECT_EQ(s.updated_at, clock_time{});
}

TEST(Evolve, FoldEqualsStepwiseEvolve) {
  std::vector<event> h{
      {tenant_created{the_id(), profile().profile, "United States", plan_tier::starter,
                      t0 + trial_length, user_id("u")},
       t0},
      {tenant_provisioned{"loc"}, t0 + 1s},
      {plan_upgraded{plan_tier::starter, plan_tier::professional}, t0 + 2s},
      {payment_failed{"p", 1, "EUR", "", 1}, t0 + 3s},
  };
  tenant_state step;
  for (const auto& e : h)
    step = evolve(step, e);
  EXPECT_EQ(fold(h), step);
  EXPECT_EQ(step.version, stream_version{4});
  EXPECT_EQ(step.updated_at, t0 + 3s);
  EXPECT_EQ(step.current_plan(), plan_tier::professional);
  EXPECT_TRUE(step.seen_payment_ids.contains("p"));
}

// ---- unique domain claims ----

TEST_F(Given, ClaimsFollowTheLiveDomain) {
  const tenant_state none;
  apply(create_tenant{the_id(), profile(), user_id("u")});
  EXPECT_EQ(claims_for(none, state_), (domain_claims{"acme.example", std::nullopt}));

  auto before = state_;
  apply(suspend_tenant{"x"});
  EXPECT_EQ(claims_for(before, state_), domain_claims{});  // suspension keeps the domain
  apply(reactivate_tenant{std::nullopt});

  before = state_;
  auto p = profile();
  p.profile.domain = "acme.test";
  apply(update_tenant{p, true, 0});
  EXPECT_EQ(claims_for(before, state_), (domain_claims{"acme.test", "acme.example"}));

  before = state_;
  apply(deactivate_tenant{std::nullopt, ""});
  EXPECT_EQ(claims_for(before, state_), (domain_claims{std::nullopt, "acme.test"}));

  before = state_;
  apply(reactivate_tenant{std::nullopt});
  EXPECT_EQ(claims_for(before, state_), (domain_claims{"acme.test", std::nullopt}));

  before = state_;
  p.profile.domain.reset();
  apply(update_tenant{p, true, 0});
  EXPECT_EQ(claims_for(before, state_), (domain_claims{std::nullopt, "acme.test"}));
  EXPECT_EQ(claims_for(state_, state_), domain_claims{});
}

// ---- names ----

TEST(Names, EventTypesRoundTrip) {
  const std::vector<std::string_view> names{
      "TenantCreated",     "TenantProvisioned", "TenantUpdated",         "TenantSuspended",
      "TenantDeactivated", "TenantReactivated", "PlanUpgraded",          "PlanDowngraded",
      "PaymentFailed",     "PaymentSucceeded",  "SubscriptionCancelled", "UserSwitchedTenant"};
  for (std::uint16_t n = 1; n <= names.size(); ++n) {
    const auto t = static_cast<event_type>(n);
    EXPECT_EQ(to_string(t), names[n - 1]);
    EXPECT_EQ(parse_event_type(names[n - 1]), t);
  }
  EXPECT_FALSE(parse_event_type("tenantcreated"));
  EXPECT_FALSE(parse_event_type(""));
  EXPECT_EQ(type_of(payment_failed{}), event_type::payment_failed);
  EXPECT_EQ(type_of(user_switched_tenant{}), event_type::user_switched_tenant);
  EXPECT_EQ(schema_version_of(event_type::tenant_created), 2u);
  EXPECT_EQ(schema_version_of(event_type::tenant_updated), 2u);
  EXPECT_EQ(schema_version_of(event_type::payment_failed), 1u);
}

TEST(Names, CommandNames) {
  EXPECT_EQ(command_name(create_tenant{}), "create");
  EXPECT_EQ(command_name(update_tenant{}), "update");
  EXPECT_EQ(command_name(suspend_tenant{}), "suspend");
  EXPECT_EQ(command_name(deactivate_tenant{}), "deactivate");
  EXPECT_EQ(command_name(reactivate_tenant{}), "reactivate");
  EXPECT_EQ(command_name(change_plan{}), "change_plan");
  EXPECT_EQ(command_name(record_payment{}), "record_payment");
  EXPECT_EQ(command_name(cancel_subscription{}), "cancel_subscription");
  EXPECT_EQ(command_name(mark_provisioned{}), "mark_provisioned");
}

}  // namespace
}  // namespace tenant::domain
