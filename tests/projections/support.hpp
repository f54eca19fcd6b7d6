#pragma once
// Helpers of the projections tests: temp dirs, and a "world" that drives random commands through
// the domain's decide into an event store, keeping the expected state of every tenant.

#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::projections::test {

class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("tenant-proj-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string str() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline eventstore::append_outcome append_sync(eventstore::event_store& s,
                                              eventstore::append_request r) {
  std::promise<eventstore::append_outcome> p;
  auto f = p.get_future();
  s.append(std::move(r), [&p](eventstore::append_outcome o) { p.set_value(std::move(o)); });
  return f.get();
}

/// Random commands over many tenants and users, decided by the domain and appended to `store`.
/// `expected` is the fold of every stream (what the projections must show).
class world {
 public:
  world(eventstore::event_store& store, std::uint64_t seed) : store_(store), rng_(seed) {}

  domain::clock_time now{std::chrono::milliseconds(1'767'225'600'000)};          // 2026-01-01
  std::map<std::string, domain::tenant_state> expected;                          // by tenant id
  std::vector<domain::tenant_id> ids;                                            // creation order
  std::map<std::string, std::pair<std::set<std::string>, std::string>> members;  // user ->

  static const std::vector<std::string>& names() {
    static const std::vector<std::string> v = {
        "Acme Corp",   "ACME CORP",  "acme corp ",  "Straße GmbH", "STRASSE GMBH",
        "Ünïcode Ltd", "Globex Inc", "Initech LLC", "Umbrella Co", "Hooli Group"};
    return v;
  }
  static const std::vector<std::string>& descriptions() {
    static const std::vector<std::string> v = {
        "New York office",      "Widgets, gadgets & more", "Straßenbau und Tiefbau",
        "Café au lait (Paris)", "data-driven analytics",   "東京 software company",
        "The quick brown fox",  "ÉCOLE supérieure",        "",
        "New-York based SaaS"};
    return v;
  }

  std::string user(int i) const { return "user-" + std::to_string(i); }

  /// When set, about a third of TenantCreated/TenantUpdated events are stored in their first
  /// schema (settings flat in `data`), which readers upcast: replays must read both layouts.
  bool v1_profiles = false;

  /// Rewrites a current TenantCreated/TenantUpdated as schema 1 (other events unchanged).
  static void as_v1_profile(eventstore::proposed_event& p) {
    if (p.type != "TenantCreated" && p.type != "TenantUpdated") return;
    const std::string open = R"("settings":{)";
    const auto at = p.data_json.find(open);
    if (at == std::string::npos) return;
    const auto end = p.data_json.find('}', at);  // the settings hold no object of their own
    if (end == std::string::npos) return;
    std::string flat = p.data_json.substr(0, at) +
                       p.data_json.substr(at + open.size(), end - at - open.size()) +
                       p.data_json.substr(end + 1);
    p.data_json = std::move(flat);
    p.schema_version = 1;
  }

  domain::validated_profile profile(std::size_t name_i, std::size_t desc_i, domain::plan_tier plan,
                                    std::optional<std::uint32_t> seats = std::nullopt) {
    domain::validated_profile p;
    p.profile.name = names()[name_i % names().size()];
    p.profile.admin_email = "admin" + std::to_string(name_i) + "@example.com";
    const auto& d = descriptions()[desc_i % descriptions().size()];
    if (!d.empty()) p.profile.description = d;
    p.profile.country_code = "US";
    p.country_name = "United States";
    p.profile.city = "New York";
    p.profile.settings.timezone = "America/New_York";
    p.profile.settings.max_seats = seats;
    p.plan = plan;
    return p;
  }

  /// Decides and appends; returns the events appended (empty for a no-op or a refusal).
  std::vector<domain::event> run(const domain::tenant_id& id, const domain::command& cmd,
                                 const std::string& actor = "tester") {
    auto& st = expected[id.str()];
    domain::decide_context ctx;
    ctx.now = now;
    auto d = domain::decide(st, cmd, ctx);
    if (!d || d->empty()) return {};
    eventstore::append_request r;
    r.stream_id = id.str();
    r.tenant_id = id.str();
    r.expected = st.exists() || st.version.value > 0
                     ? eventstore::expected_version::exact(st.version.value)
                     : eventstore::expected_version::no_stream();
    r.metadata.actor = actor;
    r.metadata.correlation_id = "corr-" + std::to_string(counter_);
    std::vector<domain::event> out;
    for (auto& data : *d) {
      domain::event e{std::move(data), now};
      r.events.push_back(eventstore::codec::to_proposed(e, next_uuid()));
      if (v1_profiles && counter_ % 3 == 0) as_v1_profile(r.events.back());
      out.push_back(std::move(e));
    }
    auto o = append_sync(store_, std::move(r));
    if (!o) throw std::runtime_error("append failed: " + o.error().detail);
    for (const auto& e : out)
      st = domain::evolve(std::move(st), e);
    st.seen_payment_ids.clear();
    now += std::chrono::milliseconds(1 + rng_() % 5000);
    return out;
  }

  domain::tenant_id create(std::size_t name_i, std::size_t desc_i, domain::plan_tier plan,
                           const std::string& actor) {
    domain::uuid u = domain::uuid::derived("tenant-" + std::to_string(counter_++));
    auto id = domain::tenant_id::from_uuid(u);
    run(id, domain::create_tenant{id, profile(name_i, desc_i, plan), domain::user_id(actor)},
        actor);
    ids.push_back(id);
    auto& m = members[actor];
    m.first.insert(id.str());
    m.second = id.str();
    return id;
  }

  void switch_user(const std::string& u, const domain::tenant_id& t) {
    eventstore::append_request r;
    r.stream_id = domain::user_stream_id(domain::user_id(u));
    r.tenant_id = t.str();
    r.expected = eventstore::expected_version::any();
    domain::event e{domain::user_switched_tenant{domain::user_id(u), t}, now};
    r.events.push_back(eventstore::codec::to_proposed(e, next_uuid()));
    auto o = append_sync(store_, std::move(r));
    if (!o) throw std::runtime_error("append failed: " + o.error().detail);
    auto& m = members[u];
    m.first.insert(t.str());
    m.second = t.str();
    now += std::chrono::milliseconds(1 + rng_() % 5000);
  }

  /// One random step: creates early on, then mostly commands on existing tenants.
  void step() {
    const auto r = rng_() % 100;
    if (ids.empty() || r < 20) {
      create(rng_() % names().size(), rng_() % descriptions().size(),
             static_cast<domain::plan_tier>(1 + rng_() % 3), user(static_cast<int>(rng_() % 7)));
      return;
    }
    const auto& id = ids[rng_() % ids.size()];
    const auto& st = expected[id.str()];
    using namespace domain;
    switch (r % 10) {
      case 0:
        run(id, update_tenant{profile(rng_(), rng_(), st.subscription.plan), true, 0});
        break;
      case 1:
        run(id, suspend_tenant{"ops"});
        break;
      case 2:
        run(id, deactivate_tenant{user_status::passive, "bye"});
        break;
      case 3:
        run(id, reactivate_tenant{user_status::active});
        break;
      case 4:
        run(id, change_plan{static_cast<plan_tier>(1 + rng_() % 3), 0});
        break;
      case 5:
        run(id, record_payment{rng_() % 2 == 0, "pay-" + std::to_string(counter_++), 100, "USD",
                               "card"});
        break;
      case 6:
        run(id, cancel_subscription{"too expensive"});
        break;
      case 7:
        run(id, mark_provisioned{"loc-" + id.str()});
        break;
      case 8:
        switch_user(user(static_cast<int>(rng_() % 7)), id);
        break;
      default:
        run(id, record_payment{false, "pay-" + std::to_string(counter_++), 100, "USD", "card"});
        break;
    }
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::string next_uuid() {
    return domain::uuid::derived("event-" + std::to_string(counter_++) + "-" +
                                 std::to_string(seed_salt_))
        .to_string();
  }
  eventstore::event_store& store_;
  std::mt19937_64 rng_;
  std::uint64_t counter_ = 0;
  std::uint64_t seed_salt_ = std::random_device{}();
};

}  // namespace tenant::projections::test
