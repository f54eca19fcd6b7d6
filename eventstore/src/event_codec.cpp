// The event-data half of the codec: the `data` object of every event type and the snapshot of
// the tenant state. Written as Boost.JSON's serializer writes them (its escaping, byte for byte;
// json_out below), read with simdjson (one parser per thread). Reading is strict about types and
// never throws on bad input: a record that does not decode is an error value, whatever its bytes.
//
// Data layout (snake_case, as the API's tenant resource; absent optionals are null):
//   TenantCreated v2  {id, name, plan, admin_email, domain, settings{timezone, locale, max_seats},
//                      address, city, country_code, country_name, post_code, description,
//                      group_id, group_name, trial_ends_at, created_by}
//   TenantUpdated v2  the same without id, plan, trial_ends_at, created_by
//   TenantProvisioned {default_location_id}
//   TenantSuspended   {reason}
//   TenantDeactivated {user_status (0 passive, 1 active, 2 banned, or null), reason}
//   TenantReactivated {user_status, previous_status}
//   PlanUpgraded      {from, to}
//   PlanDowngraded    {from, to, max_seats}
//   PaymentFailed     {payment_id, amount_cents, currency, reason, consecutive_failures}
//   PaymentSucceeded  {payment_id, amount_cents, currency}
//   SubscriptionCancelled {reason}
//   UserSwitchedTenant {user_id, tenant_id}
// Older schema versions are rewritten by the upcasters (upcasters.cpp) before decoding.
#include <simdjson.h>

#include <charconv>
#include <limits>
#include <optional>
#include <set>
#include <type_traits>

#include "json_parser.hpp"
#include "tenant/eventstore/codec.hpp"
#include "upcasters.hpp"

namespace tenant::eventstore::codec {

namespace {

namespace dom = simdjson::dom;
using ::tenant::eventstore::detail::append_json_string;
using namespace tenant::domain;

// ---------------------------------------------------------------------------------------------
// Encoding

// JSON escaping does not validate: a string that is not UTF-8 would make a record that no reader
// (simdjson included) accepts. Such bytes cannot come from the JSON APIs, but the log
// must stay readable whatever a caller passes, so ill-formed sequences become U+FFFD.
std::string utf8_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      min = 0x10000;
    }
    bool ok = len != 0 && i + len <= n;
    std::uint32_t cp = ok ? (c & (0x7f >> len)) : 0;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    ok = ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

// A compact JSON object writer: the bytes json::serialize() writes for the same object (keys in
// insertion order, no whitespace, its escaping), without building a tree of values first
// (`codec::to_proposed` through json::object was 6% of a tenant create's instructions). The
// golden fixtures (codec_test) pin every event type's bytes.
class json_out {
 public:
  explicit json_out(std::string& out) : out_(out) {}
  json_out& open() {
    out_ += '{';
    first_ = true;
    return *this;
  }
  json_out& close() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  json_out& key(std::string_view k) {  // a literal field name: plain ASCII
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return *this;
  }
  json_out& str(std::string_view k, std::string_view v) {
    key(k);
    string(v);
    return *this;
  }
  // An enum's name: plain ASCII, never escaped.
  json_out& name(std::string_view k, std::string_view v) {
    key(k);
    out_ += '"';
    out_ += v;
    out_ += '"';
    return *this;
  }
  json_out& opt(std::string_view k, const std::optional<std::string>& v) {
    return v ? str(k, *v) : null(k);
  }
  json_out& time(std::string_view k, clock_time t) { return str(k, format_time(t)); }
  template <class T>
  json_out& num(std::string_view k, T v) {
    static_assert(std::is_integral_v<T>);
    key(k);
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  template <class T>
  json_out& opt_num(std::string_view k, const std::optional<T>& v) {
    return v ? num(k, *v) : null(k);
  }
  json_out& users(std::string_view k, const std::optional<user_status>& u) {
    return u ? num(k, static_cast<std::uint64_t>(*u)) : null(k);
  }
  json_out& boolean(std::string_view k, bool b) {
    key(k);
    out_ += b ? "true" : "false";
    return *this;
  }
  json_out& null(std::string_view k) {
    key(k);
    out_ += "null";
    return *this;
  }
  json_out& strings(std::string_view k, const std::set<std::string>& v) {
    key(k);
    out_ += '[';
    bool first = true;
    for (const auto& x : v) {
      if (!first) out_ += ',';
      first = false;
      string(x);
    }
    out_ += ']';
    return *this;
  }

 private:
  // A string value, ill-formed UTF-8 replaced first (utf8_safe).
  void string(std::string_view v) {
    if (simdjson::validate_utf8(v.data(), v.size())) {  // the usual case: no copy
      append_json_string(out_, v);
    } else {
      append_json_string(out_, utf8_safe(v));
    }
  }

  std::string& out_;
  bool first_ = true;
};

// The editable fields, in the API resource's order. `extra` runs after "name" (TenantCreated
// puts the plan there).
template <class Extra>
void put_profile(json_out& o, const tenant_profile& p, std::string_view country, Extra&& extra) {
  o.str("name", p.name);
  extra(o);
  o.opt("admin_email", p.admin_email).opt("domain", p.domain);
  o.key("settings").open();
  o.opt("timezone", p.settings.timezone)
      .opt("locale", p.settings.locale)
      .opt_num("max_seats", p.settings.max_seats)
      .close();
  o.opt("address", p.address)
      .opt("city", p.city)
      .opt("country_code", p.country_code)
      .str("country_name", country)
      .opt("post_code", p.post_code)
      .opt("description", p.description)
      .str("group_id", p.group_id)
      .str("group_name", p.group_name);
}

void put_data(json_out& o, const tenant_created& e) {
  o.str("id", e.id.str());
  put_profile(o, e.profile, e.country_name,
              [&](json_out& x) { x.name("plan", to_string(e.plan)); });
  o.time("trial_ends_at", e.trial_ends_at).str("created_by", e.created_by.str());
}
void put_data(json_out& o, const tenant_provisioned& e) {
  o.str("default_location_id", e.default_location_id);
}
void put_data(json_out& o, const tenant_updated& e) {
  put_profile(o, e.profile, e.country_name, [](json_out&) {});
}
void put_data(json_out& o, const tenant_suspended& e) {
  o.str("reason", e.reason);
}
void put_data(json_out& o, const tenant_deactivated& e) {
  o.users("user_status", e.users).str("reason", e.reason);
}
void put_data(json_out& o, const tenant_reactivated& e) {
  o.users("user_status", e.users).name("previous_status", to_string(e.previous_status));
}
void put_data(json_out& o, const plan_upgraded& e) {
  o.name("from", to_string(e.from)).name("to", to_string(e.to));
}
void put_data(json_out& o, const plan_downgraded& e) {
  o.name("from", to_string(e.from)).name("to", to_string(e.to)).opt_num("max_seats", e.max_seats);
}
void put_data(json_out& o, const payment_failed& e) {
  o.str("payment_id", e.payment_id)
      .num("amount_cents", e.amount_cents)
      .str("currency", e.currency)
      .str("reason", e.reason)
      .num("consecutive_failures", e.consecutive_failures);
}
void put_data(json_out& o, const payment_succeeded& e) {
  o.str("payment_id", e.payment_id).num("amount_cents", e.amount_cents).str("currency", e.currency);
}
void put_data(json_out& o, const subscription_cancelled& e) {
  o.str("reason", e.reason);
}
void put_data(json_out& o, const user_switched_tenant& e) {
  o.str("user_id", e.user.str()).str("tenant_id", e.tenant.str());
}

// ---------------------------------------------------------------------------------------------
// Decoding

using ::tenant::eventstore::detail::thread_parser;

std::error_code invalid() {
  return make_error_code(errc::invalid_argument);
}

// Reads members of one object; the first problem makes `ok()` false and every later read a
// no-op, so a decoder reads everything and checks once.
class reader {
 public:
  explicit reader(dom::object obj) : obj_(obj) {}

  bool ok() const { return ok_; }
  void fail() { ok_ = false; }

  std::string string(std::string_view key) {
    std::string_view v;
    if (ok_ && obj_[key].get_string().get(v)) ok_ = false;
    return ok_ ? std::string(v) : std::string();
  }

  // Absent or null -> nullopt; any type but string -> failure.
  std::optional<std::string> opt_string(std::string_view key) {
    dom::element e;
    if (!ok_ || obj_[key].get(e) || e.is_null()) return std::nullopt;
    std::string_view v;
    if (e.get_string().get(v)) {
      ok_ = false;
      return std::nullopt;
    }
    return std::string(v);
  }

  template <class T>
  T integer(std::string_view key) {
    static_assert(std::is_integral_v<T>);
    if (!ok_) return T{};
    if constexpr (std::is_signed_v<T>) {
      std::int64_t v = 0;
      if (obj_[key].get_int64().get(v) || v < std::numeric_limits<T>::min() ||
          v > std::numeric_limits<T>::max()) {
        ok_ = false;
        return T{};
      }
      return static_cast<T>(v);
    } else {
      std::uint64_t v = 0;
      if (obj_[key].get_uint64().get(v) || v > std::numeric_limits<T>::max()) {
        ok_ = false;
        return T{};
      }
      return static_cast<T>(v);
    }
  }

  template <class T>
  std::optional<T> opt_integer(std::string_view key) {
    dom::element e;
    if (!ok_ || obj_[key].get(e) || e.is_null()) return std::nullopt;
    return integer<T>(key);
  }

  bool boolean(std::string_view key) {
    bool v = false;
    if (ok_ && obj_[key].get_bool().get(v)) ok_ = false;
    return v;
  }

  dom::object object(std::string_view key) {
    dom::object o;
    if (ok_ && obj_[key].get_object().get(o)) ok_ = false;
    return o;
  }

  dom::array array(std::string_view key) {
    dom::array a;
    if (ok_ && obj_[key].get_array().get(a)) ok_ = false;
    return a;
  }

  clock_time time(std::string_view key) {
    const auto text = string(key);
    if (!ok_) return {};
    const auto t = parse_time(text);
    if (!t) ok_ = false;
    return t.value_or(clock_time{});
  }

  std::optional<clock_time> opt_time(std::string_view key) {
    const auto text = opt_string(key);
    if (!ok_ || !text) return std::nullopt;
    const auto t = parse_time(*text);
    if (!t) ok_ = false;
    return t;
  }

  plan_tier plan(std::string_view key) {
    const auto text = string(key);
    if (!ok_) return plan_tier::starter;
    const auto p = parse_plan(text);
    if (!p) ok_ = false;
    return p.value_or(plan_tier::starter);
  }

  tenant_id tenant(std::string_view key) {
    const auto text = string(key);
    if (!ok_) return {};
    const auto id = tenant_id::parse(text);
    if (!id || id->str() != text) ok_ = false;  // canonical (lowercase) form only
    return id.value_or(tenant_id{});
  }

  std::optional<user_status> users(std::string_view key) {
    const auto v = opt_integer<std::uint8_t>(key);
    if (!v) return std::nullopt;
    if (*v > static_cast<std::uint8_t>(user_status::banned)) {
      ok_ = false;
      return std::nullopt;
    }
    return static_cast<user_status>(*v);
  }

  tenant_status status(std::string_view key, bool allow_none) {
    const auto text = string(key);
    if (!ok_) return tenant_status::none;
    if (allow_none && text == "none") return tenant_status::none;
    const auto s = parse_tenant_status(text);
    if (!s) ok_ = false;
    return s.value_or(tenant_status::none);
  }

 private:
  dom::object obj_;
  bool ok_ = true;
};

// Reads the editable fields (and the derived country name) written by put_profile.
void read_profile(reader& r, tenant_profile& p, std::string& country) {
  p.name = r.string("name");
  p.admin_email = r.opt_string("admin_email");
  p.domain = r.opt_string("domain");
  const auto settings = r.object("settings");
  if (r.ok()) {
    reader s(settings);
    p.settings.timezone = s.opt_string("timezone");
    p.settings.locale = s.opt_string("locale");
    p.settings.max_seats = s.opt_integer<std::uint32_t>("max_seats");
    if (!s.ok()) r.fail();
  }
  p.address = r.opt_string("address");
  p.city = r.opt_string("city");
  p.country_code = r.opt_string("country_code");
  country = r.string("country_name");
  p.post_code = r.opt_string("post_code");
  p.description = r.opt_string("description");
  p.group_id = r.string("group_id");
  p.group_name = r.string("group_name");
}

event_data read_data(event_type type, reader& r) {
  switch (type) {
    case event_type::tenant_created: {
      tenant_created e;
      e.id = r.tenant("id");
      read_profile(r, e.profile, e.country_name);
      e.plan = r.plan("plan");
      e.trial_ends_at = r.time("trial_ends_at");
      e.created_by = user_id(r.string("created_by"));
      return e;
    }
    case event_type::tenant_provisioned:
      return tenant_provisioned{r.string("default_location_id")};
    case event_type::tenant_updated: {
      tenant_updated e;
      read_profile(r, e.profile, e.country_name);
      return e;
    }
    case event_type::tenant_suspended:
      return tenant_suspended{r.string("reason")};
    case event_type::tenant_deactivated: {
      tenant_deactivated e;
      e.users = r.users("user_status");
      e.reason = r.string("reason");
      return e;
    }
    case event_type::tenant_reactivated: {
      tenant_reactivated e;
      e.users = r.users("user_status");
      e.previous_status = r.status("previous_status", false);
      return e;
    }
    case event_type::plan_upgraded: {
      plan_upgraded e;
      e.from = r.plan("from");
      e.to = r.plan("to");
      return e;
    }
    case event_type::plan_downgraded: {
      plan_downgraded e;
      e.from = r.plan("from");
      e.to = r.plan("to");
      e.max_seats = r.opt_integer<std::uint32_t>("max_seats");
      return e;
    }
    case event_type::payment_failed: {
      payment_failed e;
      e.payment_id = r.string("payment_id");
      e.amount_cents = r.integer<std::int64_t>("amount_cents");
      e.currency = r.string("currency");
      e.reason = r.string("reason");
      e.consecutive_failures = r.integer<std::uint32_t>("consecutive_failures");
      return e;
    }
    case event_type::payment_succeeded: {
      payment_succeeded e;
      e.payment_id = r.string("payment_id");
      e.amount_cents = r.integer<std::int64_t>("amount_cents");
      e.currency = r.string("currency");
      return e;
    }
    case event_type::subscription_cancelled:
      return subscription_cancelled{r.string("reason")};
    case event_type::user_switched_tenant: {
      user_switched_tenant e;
      e.user = user_id(r.string("user_id"));
      e.tenant = r.tenant("tenant_id");
      return e;
    }
  }
  r.fail();
  return tenant_provisioned{};
}

result<event> decode_current(event_type type, dom::element data, clock_time occurred_at) {
  dom::object obj;
  if (data.get_object().get(obj)) return invalid();
  reader r(obj);
  event e{read_data(type, r), occurred_at};
  if (!r.ok()) return invalid();
  return e;
}

// ---------------------------------------------------------------------------------------------
// Snapshots

// Bumped whenever the snapshot layout changes; a snapshot of another format is refused, and the
// repository rebuilds the state from the events instead.
constexpr std::uint64_t snapshot_format = 1;

}  // namespace

std::string encode_data(const event_data& e) {
  std::string out;
  out.reserve(512);
  json_out o(out);
  o.open();
  std::visit([&](const auto& d) { put_data(o, d); }, e);
  o.close();
  return out;
}

proposed_event to_proposed(const event& e, std::string event_id) {
  const auto type = type_of(e.data);
  proposed_event p;
  p.event_id = std::move(event_id);
  p.type = std::string(to_string(type));
  p.schema_version = schema_version_of(type);
  p.data_json = encode_data(e.data);
  p.occurred_at = e.occurred_at;
  return p;
}

result<event> decode_event(std::string_view type_name, std::uint32_t schema_version,
                           std::string_view data_json, clock_time occurred_at) {
  const auto type = parse_event_type(type_name);
  if (!type) return invalid();
  const std::uint32_t current = schema_version_of(*type);
  if (schema_version == 0 || schema_version > current) return invalid();  // a newer writer's
  std::string upcast;
  if (schema_version < current) {
    auto rewritten = detail::upcast(*type, schema_version, data_json);
    if (!rewritten) return rewritten.error();
    upcast = std::move(*rewritten);
    data_json = upcast;
  }
  dom::element root;
  if (thread_parser().parse(data_json.data(), data_json.size()).get(root)) return invalid();
  return decode_current(*type, root, occurred_at);
}

result<event> decode_event(const recorded_event& e) {
  const auto type = parse_event_type(e.type);
  if (!type) return invalid();
  dom::element root;
  if (thread_parser().parse(e.envelope_json.data(), e.envelope_json.size()).get(root))
    return invalid();
  dom::element data;
  if (root["data"].get(data)) return invalid();
  if (e.schema_version == schema_version_of(*type))
    return decode_current(*type, data, e.occurred_at);  // the common case: one parse
  // Older (or unreadable) versions: copy the data out before the parser is reused.
  const std::string data_json = simdjson::minify(data);
  return decode_event(e.type, e.schema_version, data_json, e.occurred_at);
}

std::string encode_state(const tenant_state& s) {
  std::string out;
  json_out o(out);
  o.open().num("format", snapshot_format).str("id", s.id.str()).num("version", s.version.value);
  o.name("status", to_string(s.status));
  o.key("profile").open();
  put_profile(o, s.profile, s.country_name, [](json_out&) {});
  o.close();
  o.key("subscription").open();
  o.name("plan", to_string(s.subscription.plan))
      .name("status", to_string(s.subscription.status))
      .time("trial_ends_at", s.subscription.trial_ends_at);
  if (s.subscription.cancelled_at) {
    o.time("cancelled_at", *s.subscription.cancelled_at);
  } else {
    o.null("cancelled_at");
  }
  o.close();
  o.time("created_at", s.created_at)
      .time("updated_at", s.updated_at)
      .str("created_by", s.created_by.str())
      .users("user_status", s.users)
      .str("suspension_reason", s.suspension_reason)
      .str("default_location_id", s.default_location_id)
      .boolean("provisioned", s.provisioned)
      .num("consecutive_payment_failures", s.consecutive_payment_failures)
      .strings("seen_payment_ids", s.seen_payment_ids)
      .close();
  return out;
}

result<tenant_state> decode_state(std::string_view text) {
  dom::element root;
  if (thread_parser().parse(text.data(), text.size()).get(root)) return invalid();
  dom::object obj;
  if (root.get_object().get(obj)) return invalid();
  reader r(obj);
  if (r.integer<std::uint64_t>("format") != snapshot_format) return invalid();

  tenant_state s;
  s.status = r.status("status", true);
  const auto id = r.string("id");
  if (r.ok() && !(id.empty() && s.status == tenant_status::none)) {
    const auto parsed = tenant_id::parse(id);
    if (!parsed || parsed->str() != id) return invalid();
    s.id = *parsed;
  }
  s.version = stream_version{r.integer<std::uint64_t>("version")};
  const auto profile = r.object("profile");
  if (r.ok()) {
    reader p(profile);
    read_profile(p, s.profile, s.country_name);
    if (!p.ok()) return invalid();
  }
  const auto sub = r.object("subscription");
  if (r.ok()) {
    reader b(sub);
    s.subscription.plan = b.plan("plan");
    const auto status = parse_subscription_status(b.string("status"));
    if (!status) return invalid();
    s.subscription.status = *status;
    s.subscription.trial_ends_at = b.time("trial_ends_at");
    s.subscription.cancelled_at = b.opt_time("cancelled_at");
    if (!b.ok()) return invalid();
  }
  s.created_at = r.time("created_at");
  s.updated_at = r.time("updated_at");
  s.created_by = user_id(r.string("created_by"));
  s.users = r.users("user_status");
  s.suspension_reason = r.string("suspension_reason");
  s.default_location_id = r.string("default_location_id");
  s.provisioned = r.boolean("provisioned");
  s.consecutive_payment_failures = r.integer<std::uint32_t>("consecutive_payment_failures");
  const auto seen = r.array("seen_payment_ids");
  if (!r.ok()) return invalid();
  for (dom::element e : seen) {
    std::string_view v;
    if (e.get_string().get(v)) return invalid();
    s.seen_payment_ids.emplace(v);
  }
  return s;
}

}  // namespace tenant::eventstore::codec
