// Every cell of docs/state-machine.md's "Command × state" table, checked against decide:
// given the events that lead to the column's status, when the row's command, then the cell's
// events or error. The table is read from the document so that it cannot drift from the code.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "tenant/domain/tenant.hpp"

namespace tenant::domain {
namespace {

using namespace std::chrono;

const clock_time t0 = sys_days{2026y / 1 / 15} + 9h + 30min;

tenant_id the_id() {
  return *tenant_id::parse("tn_0194c3a2-7f00-7000-8000-000000000001");
}

validated_profile base_profile(plan_tier plan = plan_tier::professional) {
  validated_profile v;
  v.profile.name = "Acme Corp";
  v.profile.admin_email = "admin@acme.com";
  v.profile.settings.max_seats = 40;
  v.plan = plan;
  return v;
}

tenant_created created_event() {
  tenant_created e;
  e.id = the_id();
  const auto p = base_profile();
  e.profile = p.profile;
  e.plan = p.plan;
  e.trial_ends_at = t0 + trial_length;
  e.created_by = user_id("user-1");
  return e;
}

// What the scenario adds to the base history, and whether the tenant was provisioned.
struct given_spec {
  std::vector<event_data> setup;  // after creation (and provisioning), before the status change
  bool provisioned = true;
};

// The history that leads to `status`: created, provisioned (if the spec says so), the setup
// events, then the status change. Unprovisioned tenants reach `active` by suspend + reactivate.
std::vector<event> history_for(tenant_status status, const given_spec& spec) {
  if (status == tenant_status::none) return {};
  std::vector<event_data> data{created_event()};
  const bool provision = spec.provisioned && status != tenant_status::provisioning;
  if (provision) data.emplace_back(tenant_provisioned{"loc-1"});
  data.insert(data.end(), spec.setup.begin(), spec.setup.end());
  switch (status) {
    case tenant_status::active:
      if (!provision) {
        data.emplace_back(tenant_suspended{"ops"});
        data.emplace_back(tenant_reactivated{std::nullopt, tenant_status::suspended});
      }
      break;
    case tenant_status::suspended:
      data.emplace_back(tenant_suspended{"ops"});
      break;
    case tenant_status::deactivated:
      data.emplace_back(tenant_deactivated{std::nullopt, "closing"});
      break;
    default:
      break;
  }
  std::vector<event> out;
  clock_time t = t0;
  for (auto& d : data) {
    out.push_back(event{std::move(d), t});
    t += 1min;
  }
  return out;
}

struct scenario {
  given_spec given;
  command when;
  decide_context ctx{};
};

update_tenant update_with(validated_profile p, std::uint32_t seats_in_use = 0) {
  return update_tenant{std::move(p), true, seats_in_use};
}

std::map<std::string, scenario> scenarios() {
  std::map<std::string, scenario> s;
  create_tenant create{the_id(), base_profile(), user_id("user-1")};
  s["`create`"] = {{}, create};

  auto changed = base_profile();
  changed.profile.city = "New York";
  s["`update` (changed profile)"] = {{}, update_with(changed)};
  s["`update` (same profile and plan)"] = {{}, update_with(base_profile())};
  auto higher = changed;
  higher.plan = plan_tier::enterprise;
  s["`update` (changed profile, higher plan)"] = {{}, update_with(higher)};
  auto lower = base_profile(plan_tier::starter);
  lower.profile.settings.max_seats = 10;
  // The profile's max_seats changes to fit the plan, so that is an update too; keep the same
  // profile by starting from a tenant whose max_seats already fits.
  s["`update` (same profile, lower plan, seats fit)"] = {{{tenant_updated{lower.profile, ""}}},
                                                         update_with(lower, 8)};
  s["`update` (lower plan, seats in use above its limit)"] = {{{tenant_updated{lower.profile, ""}}},
                                                              update_with(lower, 11)};
  auto too_many = base_profile();
  too_many.profile.settings.max_seats = 51;
  s["`update` (max_seats above the plan's limit)"] = {{}, update_with(too_many)};

  s["`suspend`"] = {{}, suspend_tenant{"abuse"}};
  s["`deactivate`"] = {{}, deactivate_tenant{user_status::passive, "closed"}};
  s["`reactivate`"] = {{}, reactivate_tenant{user_status::active}};

  s["`change_plan` (higher)"] = {{}, change_plan{plan_tier::enterprise, 0}};
  s["`change_plan` (lower, seats fit)"] = {{{tenant_updated{lower.profile, ""}}},
                                           change_plan{plan_tier::starter, 10}};
  s["`change_plan` (lower, max_seats above its limit)"] = {{}, change_plan{plan_tier::starter, 3}};
  s["`change_plan` (lower, seats in use above its limit)"] = {{},
                                                              change_plan{plan_tier::starter, 11}};
  s["`change_plan` (same plan)"] = {{}, change_plan{plan_tier::professional, 0}};

  const record_payment failed{false, "pay-3", 4900, "EUR", "card_declined"};
  s["`record_payment` (failed, below the threshold)"] = {
      {{payment_failed{"pay-1", 4900, "EUR", "card_declined", 1}}}, failed};
  s["`record_payment` (failed, reaching the threshold)"] = {
      {{payment_failed{"pay-1", 4900, "EUR", "card_declined", 1},
        payment_failed{"pay-2", 4900, "EUR", "card_declined", 2}}},
      failed};
  s["`record_payment` (succeeded)"] = {{}, record_payment{true, "pay-9", 4900, "EUR", ""}};
  s["`record_payment` (repeated payment_id)"] = {{{payment_succeeded{"pay-9", 4900, "EUR"}}},
                                                 record_payment{false, "pay-9", 4900, "EUR", ""}};

  s["`cancel_subscription`"] = {{}, cancel_subscription{"too expensive"}};
  s["`cancel_subscription` (already cancelled)"] = {{{subscription_cancelled{"first"}}},
                                                    cancel_subscription{"again"}};

  s["`mark_provisioned` (not yet provisioned)"] = {{{}, false}, mark_provisioned{"loc-9"}};
  s["`mark_provisioned` (already provisioned)"] = {{}, mark_provisioned{"loc-9"}};
  return s;
}

int http_status(errc e) {
  switch (e) {
    case errc::tenant_not_found:
      return 404;
    case errc::tenant_suspended:
      return 403;
    case errc::tenant_deactivated:
    case errc::duplicate_domain:
    case errc::tenant_already_exists:
      return 409;
    case errc::plan_limit_exceeded:
    case errc::validation_failed:
      return 422;
  }
  return 500;
}

// The decision written as a cell of the table.
std::string as_cell(const decision& d) {
  if (!d)
    return std::string(to_code(d.error().code)) + " (" +
           std::to_string(http_status(d.error().code)) + ")";
  if (d->empty()) return "—";
  std::string out;
  for (const auto& e : *d) {
    if (!out.empty()) out += " + ";
    out += to_string(type_of(e));
  }
  return out;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line.substr(1));  // skip the leading '|'
  std::string cell;
  while (std::getline(in, cell, '|'))
    cells.push_back(trim(cell));
  return cells;
}

struct doc_table {
  std::vector<std::string> columns;  // statuses
  std::vector<std::vector<std::string>> rows;
};

doc_table read_table() {
  std::ifstream in(std::string(TENANT_SOURCE_DIR) + "/docs/state-machine.md");
  doc_table t;
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Command × state";
    if (!in_section || line.rfind("|", 0) != 0) continue;
    auto cells = split_row(line);
    if (cells.empty() || cells[0].rfind("---", 0) == 0) continue;
    if (cells[0] == "command") {
      t.columns.assign(cells.begin() + 1, cells.end());
      continue;
    }
    t.rows.push_back(std::move(cells));
  }
  return t;
}

TEST(StateMachineTable, EveryCellMatchesDecide) {
  const auto table = read_table();
  ASSERT_EQ(table.columns, (std::vector<std::string>{"none", "provisioning", "active", "suspended",
                                                     "deactivated"}));
  auto all = scenarios();
  ASSERT_EQ(table.rows.size(), all.size()) << "every scenario has a row and vice versa";
  std::size_t checked = 0;
  for (const auto& row : table.rows) {
    ASSERT_EQ(row.size(), table.columns.size() + 1) << row[0];
    const auto it = all.find(row[0]);
    ASSERT_NE(it, all.end()) << "no scenario for row " << row[0];
    const auto& sc = it->second;
    // The command named in the row is the one the scenario runs.
    EXPECT_EQ(row[0].substr(1, row[0].find('`', 1) - 1), command_name(sc.when)) << row[0];
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      const auto status = parse_tenant_status(table.columns[c]).value_or(tenant_status::none);
      const std::string& cell = row[c + 1];
      if (cell == "n/a") continue;
      const auto history = history_for(status, sc.given);
      const auto state = fold(history);
      ASSERT_EQ(state.status, status) << row[0] << " / " << table.columns[c];
      EXPECT_EQ(as_cell(decide(state, sc.when, sc.ctx)), cell)
          << "given " << table.columns[c] << ", when " << row[0];
      ++checked;
    }
  }
  EXPECT_EQ(checked, all.size() * 5 - 1);  // the one n/a: provisioned yet provisioning
}

}  // namespace
}  // namespace tenant::domain
