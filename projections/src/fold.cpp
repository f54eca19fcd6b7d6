#include "fold.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

#include "row_codec.hpp"
#include "search_text_detail.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/json_scan.hpp"
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
  d.version = r.version;
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

// ---- two readers of the stored envelope ----
//
// The decoding below is written once, over a reader R: R::value and R::object, the accessors
// (string, null, integers, object), R::each (the members of an object, in input order, as a raw
// key and a value) and R::metadata.
//
// `exact_reader` reads the form encode_envelope writes and nothing else: no whitespace, strings
// without escapes or control characters, integers without sign or leading zero (a minus sign for
// signed ones). Whatever it does not know, it gives up on, and the On-Demand reader (`od_reader`,
// any valid JSON) decodes the envelope from the start. Everything `exact_reader` accepts is
// valid JSON that `od_reader` decodes to the same event (the decode_stored tests compare both
// readers on every envelope form and on damaged ones): it checks every byte, UTF-8 included,
// where On-Demand first indexes the whole document with SIMD (stage 1) and then walks it.

struct od_reader {
  using value = od::value;
  using object = od::object;
  using key = od::raw_json_string;
  static bool string(value& v, std::string_view& out) { return !v.get_string().get(out); }
  static bool is_null(value& v, bool& out) { return !v.is_null().get(out); }
  static bool uint64(value& v, std::uint64_t& out) { return !v.get_uint64().get(out); }
  static bool int64(value& v, std::int64_t& out) { return !v.get_int64().get(out); }
  static bool object_of(value& v, object& out) { return !v.get_object().get(out); }
  // Keys are compared as they stand in the input (no unescaping copy): a key written with an
  // escape matches none, and the envelope goes to the codec, which stays the judge of such input.
  static bool key_is(const key& k, std::string_view s) { return k.unsafe_is_equal(s); }
  // f(&key, value) per member; `guess` (the key expected next) is the exact reader's shortcut.
  template <class F, class G>
  static bool each(object& o, F&& f, G&&) {
    for (auto item : o) {
      od::field field;
      if (std::move(item).get(field)) return false;
      const key k = field.key();
      if (!f(&k, field.value())) return false;
    }
    return true;
  }
  // `metadata` as encode_envelope writes it: an object whose values are strings or null. Read
  // only to validate it as fully as the codec's DOM parse would (On-Demand checks what it reads).
  static bool metadata(value& v) {
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
      if (!null && !string(value, s)) return false;
    }
    return true;
  }
};

class exact_reader {
 public:
  struct cursor {
    const char* p;
    const char* end;
  };
  struct value {
    cursor* c;
  };
  struct object {
    cursor* c = nullptr;
  };
  using key = std::string_view;

  static bool string(value& v, std::string_view& out) { return read_string(*v.c, out); }
  static bool is_null(value& v, bool& out) {
    cursor& c = *v.c;
    out = c.end - c.p >= 4 && std::memcmp(c.p, "null", 4) == 0;
    if (out) c.p += 4;
    return true;
  }
  static bool uint64(value& v, std::uint64_t& out) { return digits(*v.c, out); }
  static bool int64(value& v, std::int64_t& out) {
    cursor& c = *v.c;
    const bool negative = c.p < c.end && *c.p == '-';
    std::uint64_t x = 0;
    cursor at{c.p + (negative ? 1 : 0), c.end};
    // "-0" and magnitudes out of range are left to On-Demand.
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!digits(at, x) || (negative ? x == 0 || x > max + 1 : x > max)) return false;
    out = negative ? static_cast<std::int64_t>(0 - x) : static_cast<std::int64_t>(x);
    c.p = at.p;
    return true;
  }
  static bool object_of(value& v, object& out) {
    cursor& c = *v.c;
    if (c.p == c.end || *c.p != '{') return false;
    ++c.p;
    out.c = &c;
    return true;
  }
  static bool key_is(std::string_view k, std::string_view s) { return k == s; }
  // f(&key, value) per member, or f(nullptr, value) when the member's key is guess() (the key
  // expected next, nearly always right): then the key is matched in place, without reading it
  // as a string first. A guess is a plain key (no character JSON escapes).
  template <class F, class G>
  static bool each(object& o, F&& f, G&& guess) {
    cursor& c = *o.c;
    if (c.p < c.end && *c.p == '}') {
      ++c.p;
      return true;
    }
    for (;;) {
      const std::string_view g = guess();
      std::string_view k;
      const bool guessed = !g.empty() && static_cast<std::size_t>(c.end - c.p) >= g.size() + 3 &&
                           c.p[0] == '"' && c.p[g.size() + 1] == '"' &&
                           same_bytes(c.p + 1, g.data(), g.size());
      if (guessed) {
        c.p += g.size() + 2;
      } else if (!read_string(c, k)) {
        return false;
      }
      if (c.p == c.end || *c.p != ':') return false;
      ++c.p;
      value v{&c};
      const char* before = c.p;
      // A value must be read.
      if (!f(guessed ? nullptr : &k, v) || c.p == before || c.p == c.end) return false;
      if (*c.p == '}') {
        ++c.p;
        return true;
      }
      if (*c.p != ',') return false;
      ++c.p;
    }
  }
  static bool metadata(value& v) {
    bool null = false;
    is_null(v, null);
    if (null) return true;
    object o;
    if (!object_of(v, o)) return false;
    return each(
        o,
        [](const key*, value& x) {
          bool n = false;
          is_null(x, n);
          std::string_view s;
          return n || string(x, s);
        },
        [] { return std::string_view(); });
  }

 private:
  // memcmp(a, b, n) == 0 for a key: n of at most 16 bytes compared as two overlapping words of
  // 8 or 4 bytes, inline (a call to memcmp per key was ~6% of the decoding), longer ones by
  // memcmp.
  static bool same_bytes(const char* a, const char* b, std::size_t n) {
    if (n >= 8 && n <= 16) {
      std::uint64_t x0, x1, y0, y1;
      std::memcpy(&x0, a, 8);
      std::memcpy(&y0, b, 8);
      std::memcpy(&x1, a + n - 8, 8);
      std::memcpy(&y1, b + n - 8, 8);
      return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4 && n < 8) {
      std::uint32_t x0, x1, y0, y1;
      std::memcpy(&x0, a, 4);
      std::memcpy(&y0, b, 4);
      std::memcpy(&x1, a + n - 4, 4);
      std::memcpy(&y1, b + n - 4, 4);
      return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return std::memcmp(a, b, n) == 0;
  }
  // A string without escapes or control characters; `out` is its text.
  static bool read_string(cursor& c, std::string_view& out) {
    if (c.p == c.end || *c.p != '"') return false;
    const char* s = ++c.p;
    return close_string(c, s, codec::find_json_special(s, c.end), out);
  }
  static bool close_string(cursor& c, const char* s, const char* q, std::string_view& out) {
    if (q == c.end || *q != '"') return false;  // an escape, a control character or the end
    out = std::string_view(s, static_cast<std::size_t>(q - s));
    c.p = q + 1;
    return true;
  }
  // An integer as JSON writes one: digits without a leading zero (but "0"), no fraction or
  // exponent, within 64 bits.
  static bool digits(cursor& c, std::uint64_t& out) {
    const char* q = c.p;
    std::uint64_t x = 0;
    for (; q < c.end && *q >= '0' && *q <= '9'; ++q) {
      if (__builtin_mul_overflow(x, 10u, &x) ||
          __builtin_add_overflow(x, static_cast<std::uint64_t>(*q - '0'), &x))
        return false;
    }
    const auto n = q - c.p;
    if (n == 0 || (n > 1 && *c.p == '0')) return false;
    if (q < c.end && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    out = x;
    c.p = q;
    return true;
  }
};

// Calls f(index of the key in `keys`, value) for each member of `obj`; false when a key is not
// in `keys`, appears twice or is missing (unless its bit is in `optional`), or when f returns
// false. Keys are usually in the encoder's order, so the search starts after the last key found
// (and the exact reader matches that key in place).
template <class R, std::size_t N, class F>
bool each_field(typename R::object& obj, const std::array<std::string_view, N>& keys, F&& f,
                std::uint32_t optional = 0) {
  static_assert(N <= 32);
  std::uint32_t seen = 0;
  std::size_t next = 0;
  const bool ok = R::each(
      obj,
      [&](const typename R::key* key, typename R::value& v) {
        std::size_t i = next;
        if (key != nullptr) {
          std::size_t tried = 0;
          while (tried < N && !R::key_is(*key, keys[i])) {
            i = i + 1 == N ? 0 : i + 1;
            ++tried;
          }
          if (tried == N) return false;
        }
        if (seen >> i & 1u) return false;
        seen |= 1u << i;
        next = i + 1 == N ? 0 : i + 1;
        return f(i, v);
      },
      [&] { return keys[next]; });
  return ok && (seen | optional) == (N == 32 ? ~0u : (1u << N) - 1);
}

template <class R>
bool d_string(typename R::value& v, std::string& out) {
  std::string_view s;
  if (!R::string(v, s)) return false;
  out.assign(s);
  return true;
}
// The codec's opt_string: null -> nullopt, a string -> the string, anything else fails.
template <class R>
bool d_opt_string(typename R::value& v, std::optional<std::string>& out) {
  bool null = false;
  if (!R::is_null(v, null)) return false;
  if (null) {
    out.reset();
    return true;
  }
  std::string_view s;
  if (!R::string(v, s)) return false;
  out.emplace(s);
  return true;
}
template <class R, class T>
bool d_integer(typename R::value& v, T& out) {
  static_assert(std::is_integral_v<T>);
  if constexpr (std::is_signed_v<T>) {
    std::int64_t x = 0;
    if (!R::int64(v, x) || x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())
      return false;
    out = static_cast<T>(x);
  } else {
    std::uint64_t x = 0;
    if (!R::uint64(v, x) || x > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(x);
  }
  return true;
}
template <class R, class T>
bool d_opt_integer(typename R::value& v, std::optional<T>& out) {
  bool null = false;
  if (!R::is_null(v, null)) return false;
  if (null) {
    out.reset();
    return true;
  }
  T x{};
  if (!d_integer<R>(v, x)) return false;
  out = x;
  return true;
}
template <class R>
bool d_time(typename R::value& v, clock_time& out) {
  std::string_view s;
  if (!R::string(v, s)) return false;
  const auto t = parse_time(s);
  if (!t) return false;
  out = *t;
  return true;
}
template <class R>
bool d_plan(typename R::value& v, plan_tier& out) {
  std::string_view s;
  if (!R::string(v, s)) return false;
  const auto p = parse_plan(s);
  if (!p) return false;
  out = *p;
  return true;
}
// The codec's tenant(): "tn_" + a canonical lowercase UUID, nothing else.
template <class R>
bool d_tenant(typename R::value& v, tenant_id& out) {
  std::string_view s;
  if (!R::string(v, s)) return false;
  auto id = tenant_id::parse(s);
  if (!id || id->str() != s) return false;
  out = std::move(*id);
  return true;
}
template <class R>
bool d_users(typename R::value& v, std::optional<user_status>& out) {
  std::optional<std::uint8_t> n;
  if (!d_opt_integer<R>(v, n)) return false;
  if (n && *n > static_cast<std::uint8_t>(user_status::banned)) return false;
  out = n ? std::optional<user_status>(static_cast<user_status>(*n)) : std::nullopt;
  return true;
}
template <class R>
bool d_settings(typename R::value& v, tenant_settings& out) {
  typename R::object o;
  if (!R::object_of(v, o)) return false;
  static constexpr std::array<std::string_view, 3> keys{"timezone", "locale", "max_seats"};
  return each_field<R>(o, keys, [&](std::size_t i, typename R::value& x) {
    switch (i) {
      case 0:
        return d_opt_string<R>(x, out.timezone);
      case 1:
        return d_opt_string<R>(x, out.locale);
      default:
        return d_opt_integer<R>(x, out.max_seats);
    }
  });
}

// The profile fields shared by TenantCreated and TenantUpdated (put_profile's keys), by the
// index `profile_keys` gives them; false for any other index.
template <class R>
bool d_profile_field(std::size_t i, typename R::value& v, tenant_profile& p, std::string& country) {
  switch (i) {
    case 0:
      return d_string<R>(v, p.name);
    case 1:
      return d_opt_string<R>(v, p.admin_email);
    case 2:
      return d_opt_string<R>(v, p.domain);
    case 3:
      return d_settings<R>(v, p.settings);
    case 4:
      return d_opt_string<R>(v, p.address);
    case 5:
      return d_opt_string<R>(v, p.city);
    case 6:
      return d_opt_string<R>(v, p.country_code);
    case 7:
      return d_string<R>(v, country);
    case 8:
      return d_opt_string<R>(v, p.post_code);
    case 9:
      return d_opt_string<R>(v, p.description);
    case 10:
      return d_string<R>(v, p.group_id);
    case 11:
      return d_string<R>(v, p.group_name);
  }
  return false;
}

template <class R>
bool d_data(event_type type, typename R::value& v, event_data& out) {
  using value = typename R::value;
  typename R::object o;
  if (!R::object_of(v, o)) return false;
  switch (type) {
    case event_type::tenant_created: {
      // put_profile's keys first (indexes 0..11, see d_profile_field), then TenantCreated's own.
      static constexpr std::array<std::string_view, 16> keys{
          "name",         "admin_email",  "domain",        "settings",    "address",  "city",
          "country_code", "country_name", "post_code",     "description", "group_id", "group_name",
          "id",           "plan",         "trial_ends_at", "created_by"};
      auto& e = out.emplace<tenant_created>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        switch (i) {
          case 12:
            return d_tenant<R>(x, e.id);
          case 13:
            return d_plan<R>(x, e.plan);
          case 14:
            return d_time<R>(x, e.trial_ends_at);
          case 15: {
            std::string_view s;
            if (!R::string(x, s)) return false;
            e.created_by = user_id(std::string(s));
            return true;
          }
        }
        return d_profile_field<R>(i, x, e.profile, e.country_name);
      });
    }
    case event_type::tenant_updated: {
      static constexpr std::array<std::string_view, 12> keys{
          "name",         "admin_email",  "domain",    "settings",    "address",  "city",
          "country_code", "country_name", "post_code", "description", "group_id", "group_name"};
      auto& e = out.emplace<tenant_updated>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        return d_profile_field<R>(i, x, e.profile, e.country_name);
      });
    }
    case event_type::tenant_provisioned: {
      static constexpr std::array<std::string_view, 1> keys{"default_location_id"};
      auto& e = out.emplace<tenant_provisioned>();
      return each_field<R>(
          o, keys, [&](std::size_t, value& x) { return d_string<R>(x, e.default_location_id); });
    }
    case event_type::tenant_suspended: {
      static constexpr std::array<std::string_view, 1> keys{"reason"};
      auto& e = out.emplace<tenant_suspended>();
      return each_field<R>(o, keys,
                           [&](std::size_t, value& x) { return d_string<R>(x, e.reason); });
    }
    case event_type::tenant_deactivated: {
      static constexpr std::array<std::string_view, 2> keys{"user_status", "reason"};
      auto& e = out.emplace<tenant_deactivated>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        return i == 0 ? d_users<R>(x, e.users) : d_string<R>(x, e.reason);
      });
    }
    case event_type::tenant_reactivated: {
      static constexpr std::array<std::string_view, 2> keys{"user_status", "previous_status"};
      auto& e = out.emplace<tenant_reactivated>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        if (i == 0) return d_users<R>(x, e.users);
        std::string_view s;
        if (!R::string(x, s)) return false;
        const auto st = parse_tenant_status(s);
        if (!st) return false;
        e.previous_status = *st;
        return true;
      });
    }
    case event_type::plan_upgraded: {
      static constexpr std::array<std::string_view, 2> keys{"from", "to"};
      auto& e = out.emplace<plan_upgraded>();
      return each_field<R>(
          o, keys, [&](std::size_t i, value& x) { return d_plan<R>(x, i == 0 ? e.from : e.to); });
    }
    case event_type::plan_downgraded: {
      static constexpr std::array<std::string_view, 3> keys{"from", "to", "max_seats"};
      auto& e = out.emplace<plan_downgraded>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        return i == 2 ? d_opt_integer<R>(x, e.max_seats) : d_plan<R>(x, i == 0 ? e.from : e.to);
      });
    }
    case event_type::payment_failed: {
      static constexpr std::array<std::string_view, 5> keys{
          "payment_id", "amount_cents", "currency", "reason", "consecutive_failures"};
      auto& e = out.emplace<payment_failed>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        switch (i) {
          case 0:
            return d_string<R>(x, e.payment_id);
          case 1:
            return d_integer<R>(x, e.amount_cents);
          case 2:
            return d_string<R>(x, e.currency);
          case 3:
            return d_string<R>(x, e.reason);
        }
        return d_integer<R>(x, e.consecutive_failures);
      });
    }
    case event_type::payment_succeeded: {
      static constexpr std::array<std::string_view, 3> keys{"payment_id", "amount_cents",
                                                            "currency"};
      auto& e = out.emplace<payment_succeeded>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        switch (i) {
          case 0:
            return d_string<R>(x, e.payment_id);
          case 1:
            return d_integer<R>(x, e.amount_cents);
        }
        return d_string<R>(x, e.currency);
      });
    }
    case event_type::subscription_cancelled: {
      static constexpr std::array<std::string_view, 1> keys{"reason"};
      auto& e = out.emplace<subscription_cancelled>();
      return each_field<R>(o, keys,
                           [&](std::size_t, value& x) { return d_string<R>(x, e.reason); });
    }
    case event_type::user_switched_tenant: {
      static constexpr std::array<std::string_view, 2> keys{"user_id", "tenant_id"};
      auto& e = out.emplace<user_switched_tenant>();
      return each_field<R>(o, keys, [&](std::size_t i, value& x) {
        if (i == 1) return d_tenant<R>(x, e.tenant);
        std::string_view s;
        if (!R::string(x, s)) return false;
        e.user = user_id(std::string(s));
        return true;
      });
    }
  }
  return false;
}

// The envelope's members into `d` (see decode_stored).
template <class R>
bool d_envelope(typename R::object& root, decoded_event& d) {
  static constexpr std::array<std::string_view, 10> keys{
      "event_id", "type",     "schema_version", "stream_id", "tenant_id",
      "version",  "position", "occurred_at",    "data",      "metadata"};
  std::optional<event_type> type;
  std::uint64_t schema = 0;
  d.position = 0;
  d.version = 0;
  d.tenant.reset();
  d.text.reset();
  // Every key once; `metadata` may be absent.
  auto member = [&](std::size_t i, typename R::value& v) {
    std::string_view s;
    switch (i) {
      case 0:  // the codec refuses an envelope whose event id is not a UUID
        if (!R::string(v, s) || !parse_uuid16(s)) return false;
        break;
      case 1:
        if (!R::string(v, s) || !(type = parse_event_type(s))) return false;
        break;
      case 2:
        if (!R::uint64(v, schema)) return false;
        break;
      case 3:
        if (!R::string(v, s) || s.empty()) return false;
        d.tenant = tenant_key(s);
        break;
      case 4:
        if (!R::string(v, s)) return false;
        break;
      case 5:
        if (!R::uint64(v, d.version) || d.version == 0) return false;
        break;
      case 6:
        if (!R::uint64(v, d.position) || d.position == 0) return false;
        break;
      case 7:
        if (!d_time<R>(v, d.event.occurred_at)) return false;
        break;
      case 8:
        // Older schemas go through the codec's upcasters.
        if (!type || schema != schema_version_of(*type) || !d_data<R>(*type, v, d.event.data))
          return false;
        break;
      case 9:
        if (!R::metadata(v)) return false;
        break;
    }
    return true;
  };
  return each_field<R>(root, keys, member, 1u << 9);
}

}  // namespace

// The exact form, read in place (no padded copy): the whole value is valid UTF-8 and exactly one
// object, checked to its last byte.
bool decode_exact(std::string_view envelope, decoded_event& d) {
  if (!simdjson::validate_utf8(envelope.data(), envelope.size())) return false;
  exact_reader::cursor c{envelope.data(), envelope.data() + envelope.size()};
  exact_reader::value v{&c};
  exact_reader::object root;
  if (!exact_reader::object_of(v, root) || !d_envelope<exact_reader>(root, d)) return false;
  return c.p == c.end;
}

bool decode_on_demand(std::string_view envelope, decoded_event& d) {
  auto& st = thread_od();
  if (st.buffer.size() < envelope.size() + simdjson::SIMDJSON_PADDING)
    st.buffer.resize(envelope.size() + simdjson::SIMDJSON_PADDING + 1024);
  std::memcpy(st.buffer.data(), envelope.data(), envelope.size());
  od::document doc;
  if (st.parser.iterate(st.buffer.data(), envelope.size(), st.buffer.size()).get(doc)) return false;
  od::object root;
  if (doc.get_object().get(root)) return false;
  if (!d_envelope<od_reader>(root, d)) return false;
  // Nothing after the object but whitespace (the DOM parse refuses trailing content too).
  const char* trailing = nullptr;
  return doc.current_location().get(trailing) == simdjson::OUT_OF_BOUNDS;
}

bool decode_stored(std::string_view envelope, bool fold, decoded_event& d) {
  if (!decode_exact(envelope, d) && !decode_on_demand(envelope, d)) return false;
  if (fold) {
    if (const auto* c = std::get_if<tenant_created>(&d.event.data)) {
      d.text = fold_text(c->profile);
    } else if (const auto* u = std::get_if<tenant_updated>(&d.event.data)) {
      d.text = fold_text(u->profile);
    }
  }
  return true;
}

std::error_code decode_recorded(const eventstore::recorded_event& r, bool fold, decoded_event& d) {
  if (decode_stored(r.envelope_json, fold, d) && d.position == r.position) return {};
  d = decoded_event();
  return decode_into(r, fold, d);
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

void append_index_text_value(std::string& out, const tenant_profile& p) {
  // The folded name into a reused per-thread buffer (no string per call for simple text).
  thread_local std::string name;
  name.clear();
  if (!fold_name_into(p.name, name)) name = fold_name(p.name);
  put_str(out, name);
  if (!p.description) {
    put_varint(out, 0);
    return;
  }
  // Per thread, reused: the folded description and its words as views into it.
  thread_local std::string folded;
  thread_local std::vector<std::string_view> words;
  if (fold_words_into(*p.description, folded, words)) {
    put_varint(out, words.size());
    for (const auto w : words)
      put_str(out, w);
    return;
  }
  const auto all = fold_words(*p.description);
  put_varint(out, all.size());
  for (const auto& w : all)
    put_str(out, w);
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
    // A stream's first event (version 1) has no row before it: rows are written only by the
    // events of their own stream, folded in order. No read (a create's row lookup missed the
    // cache and searched RocksDB for nothing).
    result<tenant_view_ptr> before = tenant_view_ptr();
    if (e.version != 1) before = load_(*e.tenant);
    if (!before) return before.error();
    it = touched_.try_emplace(*e.tenant).first;
    if (*before) it->second.now = **before;  // the one copy: folded into below
    it->second.before = std::move(*before);
    order_.push_back(*e.tenant);
  }
  work& w = it->second;
  const bool existed = w.now.state.exists();
  apply_in_place(w.now.state, e.event);
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
