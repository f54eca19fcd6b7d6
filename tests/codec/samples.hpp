#pragma once
// One sample of every event type, with the envelope fields its golden file was written with.

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tenant/domain/events.hpp"
#include "tenant/eventstore/codec.hpp"

namespace tenant::codec_test {

using namespace std::chrono;
namespace d = tenant::domain;

inline const d::clock_time sample_time = sys_days{2026y / 1 / 15} + 9h + 30min + 123ms;

inline d::tenant_id sample_tenant() {
  return *d::tenant_id::parse("tn_0194c3a2-7f00-7000-8000-00000000a11c");
}

struct sample {
  d::event event;
  std::string stream_id;
  std::string tenant_id;
  std::uint64_t version = 1;
  std::uint64_t position = 1;
  std::string event_id;
};

inline d::tenant_profile full_profile() {
  d::tenant_profile p;
  p.name = "Acme \"Corp\" \\ Ünïcødé 🚀";
  p.admin_email = "admin@acme.com";
  p.domain = "acme.example";
  p.settings = {"America/New_York", "en-US", 50};
  p.address = "115 East 23rd Street 5th Floor";
  p.city = "New York";
  p.country_code = "US";
  p.post_code = "10010";
  p.description = "Line one\nline two\ttabbed </script> \u2028";
  p.group_id = "7";
  p.group_name = "North America";
  return p;
}

inline std::vector<sample> samples() {
  std::vector<sample> out;
  const auto tid = sample_tenant().str();
  std::uint64_t n = 0;
  const auto add = [&](d::event_data data, std::string stream = {}) {
    ++n;
    char id[40];
    std::snprintf(id, sizeof id, "0194c3a2-7f00-7000-8000-%012llu",
                  static_cast<unsigned long long>(n));
    // The user's stream is a stream of its own: its first event.
    const std::uint64_t version = stream.empty() ? n : 1;
    out.push_back(sample{d::event{std::move(data), sample_time + minutes{n}},
                         stream.empty() ? tid : stream, tid, version, 40 + n, id});
  };
  add(d::tenant_created{sample_tenant(), full_profile(), "United States",
                        d::plan_tier::professional, sample_time + d::trial_length,
                        d::user_id("auth0|user-1")});
  add(d::tenant_provisioned{"loc_0194c3a2"});
  d::tenant_profile sparse;  // absent optionals are null
  sparse.name = "Acme Corp";
  sparse.settings.locale = "de-DE";
  add(d::tenant_updated{sparse, ""});
  add(d::tenant_suspended{"payment_failed"});
  add(d::tenant_deactivated{d::user_status::banned, "closed by operator"});
  add(d::tenant_reactivated{std::nullopt, d::tenant_status::deactivated});
  add(d::plan_upgraded{d::plan_tier::starter, d::plan_tier::enterprise});
  add(d::plan_downgraded{d::plan_tier::enterprise, d::plan_tier::starter, 10u});
  add(d::payment_failed{"pay_123", 4900, "EUR", "card_declined", 2});
  add(d::payment_succeeded{"pay_124", 4900, "USD"});
  add(d::subscription_cancelled{"too expensive"});
  add(d::user_switched_tenant{d::user_id("auth0|user-1"), sample_tenant()},
      d::user_stream_id(d::user_id("auth0|user-1")));
  return out;
}

inline eventstore::event_metadata sample_metadata() {
  return {"corr-1", "cause-1", "auth0|user-1",
          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
}

inline std::string envelope_of(const sample& s) {
  const auto p = eventstore::codec::to_proposed(s.event, s.event_id);
  return eventstore::codec::encode_envelope(p, s.stream_id, s.tenant_id, s.version, s.position,
                                            sample_metadata());
}

inline std::string fixture_path(const std::string& relative) {
  return std::string(TENANT_SOURCE_DIR) + "/tests/fixtures/events/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tenant::codec_test
