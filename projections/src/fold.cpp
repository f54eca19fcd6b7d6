#include "fold.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

#include "row_codec.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/projections/search_text.hpp"
#include "tenant_index.hpp"

namespace tenant::projections::detail {

namespace codec = eventstore::codec;
using namespace tenant::domain;

folded_text fold_text(const tenant_profile& p) {
  return folded_text{fold_name(p.name),
                     p.description ? fold_words(*p.description) : std::vector<std::string>{}};
}

std::error_code decode_into(const eventstore::recorded_event& r, bool fold, decoded_event& d) {
  auto ev = codec::decode_event(r);
  if (!ev) return make_error_code(errc::corruption);
  d.position = r.position;
  d.tenant = tenant_key(r.stream_id);
  d.event = std::move(*ev);
  d.text.reset();
  if (fold) {
    if (const auto* c = std::get_if<tenant_created>(&d.event.data)) {
      d.text = fold_text(c->profile);
    } else if (const auto* u = std::get_if<tenant_updated>(&d.event.data)) {
      d.text = fold_text(u->profile);
    }
  }
  return {};
}

result<decoded_event> decode(const eventstore::recorded_event& r, bool fold) {
  decoded_event d;
  if (auto ec = decode_into(r, fold, d); ec) return ec;
  return d;
}

// ---- the replay's decoder ----

namespace {

namespace od = simdjson::ondemand;

// One parser and one padded copy of the value per decoding thread (On-Demand reads up to
// SIMDJSON_PADDING bytes past the end; RocksDB's value buffer gives no such guarantee).
struct od_state {
  od::parser parser;
  std::string buffer;
};
od_state& thread_od() {
  thread_local od_state s;
  return s;
}

// Calls f(index of the key in `keys`, value) for each member of `obj`; false when a key is not
// in `keys`, appears twice or is missing, or when f returns false. Keys are usually in the
// encoder's order, so the search starts after the last key found. Keys are compared as they
// stand in the input (no unescaping copy): a key written with an escape matches none, and the
// envelope goes to the codec, which stays the judge of such input.
template <std::size_t N, class F>
bool each_field(od::object& obj, const std::array<std::string_view, N>& keys, F&& f) {
  static_assert(N <= 32);
  std::uint32_t seen = 0;
  std::size_t next = 0;
  for (auto item : obj) {
    od::field field;
    if (std::move(item).get(field)) return false;
    const od::raw_json_string key = field.key();
    std::size_t i = next, tried = 0;
    while (tried < N && !key.unsafe_is_equal(keys[i])) {
      i = i + 1 == N ? 0 : i + 1;
      ++tried;
    }
    if (tried == N || (seen >> i & 1u)) return false;
    seen |= 1u << i;
    next = i + 1 == N ? 0 : i + 1;
    if (!f(i, field.value())) return false;
  }
  return seen == (N == 32 ? ~0u : (1u << N) - 1);
}

bool od_string(od::value& v, std::string_view& out) {
  return !v.get_string().get(out);
}
bool od_string(od::value& v, std::string& out) {
  std::string_view s;
  if (!od_string(v, s)) return false;
  out.assign(s);
  return true;
}
// The codec's opt_string: null -> nullopt, a string -> the string, anything else fails.
bool od_opt_string(od::value& v, std::optional<std::string>& out) {
  bool null = false;
  if (v.is_null().get(null)) return false;
  if (null) {
    out.reset();
    return true;
  }
  std::string_view s;
  if (!od_string(v, s)) return false;
  out.emplace(s);
  return true;
}
template <class T>
bool od_integer(od::value& v, T& out) {
  static_assert(std::is_integral_v<T>);
  if constexpr (std::is_signed_v<T>) {
    std::int64_t x = 0;
    if (v.get_int64().get(x) || x < std::numeric_limits<T>::min() ||
        x > std::numeric_limits<T>::max())
      return false;
    out = static_cast<T>(x);
  } else {
    std::uint64_t x = 0;
    if (v.get_uint64().get(x) || x > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(x);
  }
  return true;
}
template <class T>
bool od_opt_integer(od::value& v, std::optional<T>& out) {
  bool null = false;
  if (v.is_null().get(null)) return false;
  if (null) {
    out.reset();
    return true;
  }
  T x{};
  if (!od_integer(v, x)) return false;
  out = x;
  return true;
}
bool od_time(od::value& v, clock_time& out) {
  std::string_view s;
  if (!od_string(v, s)) return false;
  const auto t = parse_time(s);
  if (!t) return false;
  out = *t;
  return true;
}
bool od_plan(od::value& v, plan_tier& out) {
  std::string_view s;
  if (!od_string(v, s)) return false;
  const auto p = parse_plan(s);
  if (!p) return false;
  out = *p;
  return true;
}
// The codec's tenant(): "tn_" + a canonical lowercase UUID, nothing else.
bool od_tenant(od::value& v, tenant_id& out) {
  std::string_view s;
  if (!od_string(v, s)) return false;
  auto id = tenant_id::parse(s);
  if (!id || id->str() != s) return false;
  out = std::move(*id);
  return true;
}
bool od_users(od::value& v, std::optional<user_status>& out) {
  std::optional<std::uint8_t> n;
  if (!od_opt_integer(v, n)) return false;
  if (n && *n > static_cast<std::uint8_t>(user_status::banned)) return false;
  out = n ? std::optional<user_status>(static_cast<user_status>(*n)) : std::nullopt;
  return true;
}
bool od_settings(od::value& v, tenant_settings& out) {
  od::object o;
  if (v.get_object().get(o)) return false;
  static constexpr std::array<std::string_view, 3> keys{"timezone", "locale", "max_seats"};
  return each_field(o, keys, [&](std::size_t i, od::value& x) {
    switch (i) {
      case 0:
        return od_opt_string(x, out.timezone);
      case 1:
        return od_opt_string(x, out.locale);
      default:
        return od_opt_integer(x, out.max_seats);
    }
  });
}

// The profile fields shared by TenantCreated and TenantUpdated (put_profile's keys), by the
// index `profile_keys` gives them; false for any other index.
bool od_profile_field(std::size_t i, od::value& v, tenant_profile& p, std::string& country) {
  switch (i) {
    case 0:
      return od_string(v, p.name);
    case 1:
      return od_opt_string(v, p.admin_email);
    case 2:
      return od_opt_string(v, p.domain);
    case 3:
      return od_settings(v, p.settings);
    case 4:
      return od_opt_string(v, p.address);
    case 5:
      return od_opt_string(v, p.city);
    case 6:
      return od_opt_string(v, p.country_code);
    case 7:
      return od_string(v, country);
    case 8:
      return od_opt_string(v, p.post_code);
    case 9:
      return od_opt_string(v, p.description);
    case 10:
      return od_string(v, p.group_id);
    case 11:
      return od_string(v, p.group_name);
  }
  return false;
}

bool od_data(event_type type, od::value& v, event_data& out) {
  od::object o;
  if (v.get_object().get(o)) return false;
  switch (type) {
    case event_type::tenant_created: {
      // put_profile's keys first (indexes 0..11, see od_profile_field), then TenantCreated's own.
      static constexpr std::array<std::string_view, 16> keys{
          "name",         "admin_email",  "domain",        "settings",    "address",  "city",
          "country_code", "country_name", "post_code",     "description", "group_id", "group_name",
          "id",           "plan",         "trial_ends_at", "created_by"};
      auto& e = out.emplace<tenant_created>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        switch (i) {
          case 12:
            return od_tenant(x, e.id);
          case 13:
            return od_plan(x, e.plan);
          case 14:
            return od_time(x, e.trial_ends_at);
          case 15: {
            std::string_view s;
            if (!od_string(x, s)) return false;
            e.created_by = user_id(std::string(s));
            return true;
          }
        }
        return od_profile_field(i, x, e.profile, e.country_name);
      });
    }
    case event_type::tenant_updated: {
      static constexpr std::array<std::string_view, 12> keys{
          "name",         "admin_email",  "domain",    "settings",    "address",  "city",
          "country_code", "country_name", "post_code", "description", "group_id", "group_name"};
      auto& e = out.emplace<tenant_updated>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        return od_profile_field(i, x, e.profile, e.country_name);
      });
    }
    case event_type::tenant_provisioned: {
      static constexpr std::array<std::string_view, 1> keys{"default_location_id"};
      auto& e = out.emplace<tenant_provisioned>();
      return each_field(
          o, keys, [&](std::size_t, od::value& x) { return od_string(x, e.default_location_id); });
    }
    case event_type::tenant_suspended: {
      static constexpr std::array<std::string_view, 1> keys{"reason"};
      auto& e = out.emplace<tenant_suspended>();
      return each_field(o, keys, [&](std::size_t, od::value& x) { return od_string(x, e.reason); });
    }
    case event_type::tenant_deactivated: {
      static constexpr std::array<std::string_view, 2> keys{"user_status", "reason"};
      auto& e = out.emplace<tenant_deactivated>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        return i == 0 ? od_users(x, e.users) : od_string(x, e.reason);
      });
    }
    case event_type::tenant_reactivated: {
      static constexpr std::array<std::string_view, 2> keys{"user_status", "previous_status"};
      auto& e = out.emplace<tenant_reactivated>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        if (i == 0) return od_users(x, e.users);
        std::string_view s;
        if (!od_string(x, s)) return false;
        const auto st = parse_tenant_status(s);
        if (!st) return false;
        e.previous_status = *st;
        return true;
      });
    }
    case event_type::plan_upgraded: {
      static constexpr std::array<std::string_view, 2> keys{"from", "to"};
      auto& e = out.emplace<plan_upgraded>();
      return each_field(
          o, keys, [&](std::size_t i, od::value& x) { return od_plan(x, i == 0 ? e.from : e.to); });
    }
    case event_type::plan_downgraded: {
      static constexpr std::array<std::string_view, 3> keys{"from", "to", "max_seats"};
      auto& e = out.emplace<plan_downgraded>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        return i == 2 ? od_opt_integer(x, e.max_seats) : od_plan(x, i == 0 ? e.from : e.to);
      });
    }
    case event_type::payment_failed: {
      static constexpr std::array<std::string_view, 5> keys{
          "payment_id", "amount_cents", "currency", "reason", "consecutive_failures"};
      auto& e = out.emplace<payment_failed>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        switch (i) {
          case 0:
            return od_string(x, e.payment_id);
          case 1:
            return od_integer(x, e.amount_cents);
          case 2:
            return od_string(x, e.currency);
          case 3:
            return od_string(x, e.reason);
        }
        return od_integer(x, e.consecutive_failures);
      });
    }
    case event_type::payment_succeeded: {
      static constexpr std::array<std::string_view, 3> keys{"payment_id", "amount_cents",
                                                            "currency"};
      auto& e = out.emplace<payment_succeeded>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        switch (i) {
          case 0:
            return od_string(x, e.payment_id);
          case 1:
            return od_integer(x, e.amount_cents);
        }
        return od_string(x, e.currency);
      });
    }
    case event_type::subscription_cancelled: {
      static constexpr std::array<std::string_view, 1> keys{"reason"};
      auto& e = out.emplace<subscription_cancelled>();
      return each_field(o, keys, [&](std::size_t, od::value& x) { return od_string(x, e.reason); });
    }
    case event_type::user_switched_tenant: {
      static constexpr std::array<std::string_view, 2> keys{"user_id", "tenant_id"};
      auto& e = out.emplace<user_switched_tenant>();
      return each_field(o, keys, [&](std::size_t i, od::value& x) {
        if (i == 1) return od_tenant(x, e.tenant);
        std::string_view s;
        if (!od_string(x, s)) return false;
        e.user = user_id(std::string(s));
        return true;
      });
    }
  }
  return false;
}

// `metadata` as encode_envelope writes it: an object whose values are strings or null. Read
// only to validate it as fully as the codec's DOM parse would (On-Demand checks what it reads).
bool od_metadata(od::value& v) {
  bool null = false;
  if (v.is_null().get(null)) return false;
  if (null) return true;
  od::object o;
  if (v.get_object().get(o)) return false;
  for (auto item : o) {
    od::field field;
    if (std::move(item).get(field)) return false;
    std::string_view s;
    // The key only has to be a valid string: one without a backslash is (stage 1 checked it);
    // unescaping checks the escapes of any other.
    od::value& value = field.value();
    const char* k = field.key().raw();  // the key's text, up to the value's token
    const auto span = static_cast<std::size_t>(value.raw_json_token().data() - k);
    if (std::memchr(k, '\\', span) != nullptr && field.unescaped_key().get(s)) return false;
    if (value.is_null().get(null)) return false;
    if (!null && !od_string(value, s)) return false;
  }
  return true;
}

}  // namespace

bool decode_stored(std::string_view envelope, bool fold, decoded_event& d) {
  auto& st = thread_od();
  if (st.buffer.size() < envelope.size() + simdjson::SIMDJSON_PADDING)
    st.buffer.resize(envelope.size() + simdjson::SIMDJSON_PADDING + 1024);
  std::memcpy(st.buffer.data(), envelope.data(), envelope.size());
  od::document doc;
  if (st.parser.iterate(st.buffer.data(), envelope.size(), st.buffer.size()).get(doc)) return false;
  od::object root;
  if (doc.get_object().get(root)) return false;
  static constexpr std::array<std::string_view, 10> keys{
      "event_id", "type",     "schema_version", "stream_id", "tenant_id",
      "version",  "position", "occurred_at",    "data",      "metadata"};
  std::optional<event_type> type;
  std::uint64_t schema = 0, version = 0;
  std::uint32_t have = 0;  // the keys seen, besides `metadata`, which may be absent
  d.position = 0;
  d.tenant.reset();
  d.text.reset();
  std::uint32_t seen = 0;
  std::size_t next = 0;
  for (auto item : root) {
    od::field field;
    if (std::move(item).get(field)) return false;
    const od::raw_json_string key = field.key();  // compared as written (see each_field)
    std::size_t i = next, tried = 0;
    while (tried < keys.size() && !key.unsafe_is_equal(keys[i])) {
      i = i + 1 == keys.size() ? 0 : i + 1;
      ++tried;
    }
    if (tried == keys.size() || (seen >> i & 1u)) return false;
    seen |= 1u << i;
    next = i + 1 == keys.size() ? 0 : i + 1;
    od::value& v = field.value();
    std::string_view s;
    switch (i) {
      case 0:  // the codec refuses an envelope whose event id is not a UUID
        if (!od_string(v, s) || !parse_uuid16(s)) return false;
        break;
      case 1:
        if (!od_string(v, s) || !(type = parse_event_type(s))) return false;
        break;
      case 2:
        if (v.get_uint64().get(schema)) return false;
        break;
      case 3:
        if (!od_string(v, s) || s.empty()) return false;
        d.tenant = tenant_key(s);
        break;
      case 4:
        if (!od_string(v, s)) return false;
        break;
      case 5:
        if (v.get_uint64().get(version) || version == 0) return false;
        break;
      case 6:
        if (v.get_uint64().get(d.position) || d.position == 0) return false;
        break;
      case 7:
        if (!od_time(v, d.event.occurred_at)) return false;
        break;
      case 8:
        // Older schemas go through the codec's upcasters.
        if (!type || schema != schema_version_of(*type) || !od_data(*type, v, d.event.data))
          return false;
        break;
      case 9:
        if (!od_metadata(v)) return false;
        break;
    }
    if (i != 9) have |= 1u << i;
  }
  if (have != (1u << 9) - 1) return false;
  // Nothing after the object but whitespace (the DOM parse refuses trailing content too).
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS) return false;
  if (fold) {
    if (const auto* c = std::get_if<tenant_created>(&d.event.data)) {
      d.text = fold_text(c->profile);
    } else if (const auto* u = std::get_if<tenant_updated>(&d.event.data)) {
      d.text = fold_text(u->profile);
    }
  }
  return true;
}

std::string index_bucket_value(const uuid16& id, tenant_status s, plan_tier p) {
  std::string v(as_view(id));
  v.push_back(static_cast<char>(s));
  v.push_back(static_cast<char>(p));
  return v;
}

std::string index_text_value(const folded_text& t) {
  std::string v;
  put_str(v, t.name);
  put_varint(v, t.words.size());
  for (const auto& w : t.words)
    put_str(v, w);
  return v;
}

bool parse_index_bucket(std::string_view v, index_entry& e) {
  if (v.size() != 18) return false;
  e.id = to_uuid16(v.substr(0, 16));
  e.status = static_cast<tenant_status>(static_cast<unsigned char>(v[16]));
  e.plan = static_cast<plan_tier>(static_cast<unsigned char>(v[17]));
  return tenant_index::bucket_of(e.status, e.plan).has_value();
}

bool parse_index_text(std::string_view v, folded_text& t) {
  reader r{v};
  t.name = r.str();
  const auto n = r.varint();
  if (!r.ok || n > v.size()) return false;
  t.words.clear();
  t.words.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n && r.ok; ++i)
    t.words.emplace_back(r.str());
  return r.ok && r.in.empty();
}

// ---- tenants ----

std::error_code tenants_fold::apply(const decoded_event& e) {
  if (!e.tenant) return {};  // not a tenant stream (an API user's stream)
  auto it = touched_.find(*e.tenant);
  if (it == touched_.end()) {
    auto before = load_(*e.tenant);
    if (!before) return before.error();
    work w;
    if (*before) w.now = **before;
    w.before = std::move(*before);
    it = touched_.emplace(*e.tenant, std::move(w)).first;
    order_.push_back(*e.tenant);
  }
  work& w = it->second;
  const bool existed = w.now.state.exists();
  w.now.state = evolve(std::move(w.now.state), e.event);
  w.now.state.seen_payment_ids.clear();
  w.now.last_position = e.position;
  if (!existed && w.now.created_position == 0 &&
      std::holds_alternative<tenant_created>(e.event.data))
    w.now.created_position = e.position;
  if (e.text) {
    w.text = e.text;
  } else if (std::holds_alternative<tenant_created>(e.event.data) ||
             std::holds_alternative<tenant_updated>(e.event.data)) {
    w.text.reset();  // folded later, from the final profile
  }
  return {};
}

std::vector<tenant_change> tenants_fold::write(rocksdb::WriteBatch& wb,
                                               rocksdb::ColumnFamilyHandle* rows,
                                               rocksdb::ColumnFamilyHandle* index) {
  std::vector<tenant_change> out;
  out.reserve(order_.size());
  std::string row;
  for (const auto& id : order_) {
    work& w = touched_.at(id);
    row.clear();
    encode_view(w.now, row);
    wb.Put(rows, as_view(id), row);

    tenant_change c;
    c.id = id;
    const auto& now = w.now.state;
    const auto bucket = tenant_index::bucket_of(now.status, now.subscription.plan);
    if (bucket && w.now.created_position != 0) {
      const bool indexed_before = w.before && w.before->state.exists() &&
                                  w.before->created_position == w.now.created_position;
      c.indexed_before = indexed_before;
      const auto& old = indexed_before ? w.before->state : now;
      c.bucket_changed = !indexed_before || old.status != now.status ||
                         old.subscription.plan != now.subscription.plan;
      const bool text_changed = !indexed_before || old.profile.name != now.profile.name ||
                                old.profile.description != now.profile.description;
      if (c.bucket_changed)
        wb.Put(index, index_key(w.now.created_position, index_tag_bucket),
               index_bucket_value(id, now.status, now.subscription.plan));
      if (text_changed) {
        c.text = w.text ? std::move(*w.text) : fold_text(now.profile);
        wb.Put(index, index_key(w.now.created_position, index_tag_text), index_text_value(*c.text));
      }
    }
    c.view = std::make_shared<const tenant_view>(std::move(w.now));
    out.push_back(std::move(c));
  }
  touched_.clear();
  order_.clear();
  return out;
}

// ---- memberships ----

void members_fold::apply(const decoded_event& e) {
  if (const auto* c = std::get_if<tenant_created>(&e.event.data)) {
    const auto t = tenant_key(c->id);
    if (!c->created_by.empty() && t) changes_.push_back({c->created_by.str(), *t});
  } else if (const auto* s = std::get_if<user_switched_tenant>(&e.event.data)) {
    const auto t = tenant_key(s->tenant);
    if (!s->user.empty() && t) changes_.push_back({s->user.str(), *t});
  }
}

std::vector<member_change> members_fold::write(rocksdb::WriteBatch& wb,
                                               rocksdb::ColumnFamilyHandle* cf) {
  for (const auto& c : changes_) {
    std::string k = member_prefix(c.user);
    wb.Put(cf, k, as_view(c.tenant));  // current tenant
    k.append(as_view(c.tenant));
    wb.Put(cf, k, rocksdb::Slice());  // membership
  }
  return std::move(changes_);
}

}  // namespace tenant::projections::detail
