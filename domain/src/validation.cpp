// Validation of the editable tenant fields (profile.hpp). Reference data comes from ICU (country
// codes and English names, IANA zones, BCP 47 parsing) so that there is no table of our own to
// keep up to date. Messages follow seed 001's Laravel wording.
#include <unicode/locid.h>
#include <unicode/timezone.h>
#include <unicode/uchar.h>
#include <unicode/uloc.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "tenant/domain/errors.hpp"
#include "tenant/domain/profile.hpp"
#include "text.hpp"

namespace tenant::domain {

using detail::trim;
using detail::utf8_length;

namespace {

bool is_ascii_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Laravel's attribute names: underscores become spaces; nested keys are shown as written.
std::string attribute(std::string_view key) {
  std::string out(key);
  if (key.find('.') == std::string_view::npos) std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string required_message(std::string_view key) {
  return "The " + attribute(key) + " field is required.";
}
std::string string_message(std::string_view key) {
  return "The " + attribute(key) + " must be a string.";
}
std::string max_chars_message(std::string_view key, std::size_t max) {
  return "The " + attribute(key) + " may not be greater than " + std::to_string(max) +
         " characters.";
}

// Regions ICU (CLDR) lists that ISO 3166-1 has not assigned: Diego Garcia, Ceuta & Melilla,
// Canary Islands (exceptionally reserved) and Kosovo (user-assigned).
constexpr std::string_view not_iso_assigned[] = {"DG", "EA", "IC", "XK"};

// Every assigned ISO 3166-1 alpha-2 code ICU knows, with its English name, looked up once: a
// Locale and its display name per request were ~2% of a tenant create's instructions.
const std::map<std::string, std::string, std::less<>>& iso_countries() {
  static const std::map<std::string, std::string, std::less<>> codes = [] {
    std::map<std::string, std::string, std::less<>> out;
    for (const char* const* c = icu::Locale::getISOCountries(); c && *c; ++c) {
      const std::string_view code(*c);
      if (std::find(std::begin(not_iso_assigned), std::end(not_iso_assigned), code) !=
          std::end(not_iso_assigned))
        continue;
      const icu::Locale loc("", *c);
      icu::UnicodeString name;
      loc.getDisplayCountry(icu::Locale::getEnglish(), name);
      std::string utf8;
      name.toUTF8String(utf8);
      out.emplace(code, std::move(utf8));
    }
    return out;
  }();
  return codes;
}

// The normalised text of an optional field, running the common checks: trim, empty -> absent,
// well-formed UTF-8, at most `max` characters. Records errors under `key`.
class field_checker {
 public:
  field_checker(const raw_profile& raw, field_errors& errors) : raw_(raw), errors_(errors) {}

  bool has_type_error(std::string_view key) const {
    return raw_.type_errors.find(std::string(key)) != raw_.type_errors.end();
  }

  void add(std::string_view key, std::string message) {
    errors_[std::string(key)].push_back(std::move(message));
  }

  /// nullopt when absent, empty after trimming, mistyped or invalid (an error is recorded for
  /// the last two). `ok` is false when an error was recorded.
  std::optional<std::string> text(std::string_view key, const std::optional<std::string>& value,
                                  std::size_t max, bool required, bool& ok) {
    ok = true;
    if (has_type_error(key)) {
      ok = false;
      return std::nullopt;
    }
    std::optional<std::string> out;
    if (value) {
      auto t = trim(*value);
      if (!t.empty()) out = std::move(t);
    }
    const auto len = out ? utf8_length(*out) : std::nullopt;
    if (out && !len) {
      add(key, string_message(key));
      ok = false;
      return std::nullopt;
    }
    // Control characters (a NUL, an escape sequence, a line break in a one-line field) are
    // refused; text with nothing visible (zero-width spaces) is empty, as blank text is.
    const auto flaw =
        out ? detail::find_text_flaw(*out, key == "description") : detail::text_flaw::invisible;
    if (flaw == detail::text_flaw::control) {
      add(key, "The " + attribute(key) + " must not contain control characters.");
      ok = false;
      return std::nullopt;
    }
    if (flaw == detail::text_flaw::invisible) {
      if (required) {
        add(key, required_message(key));
        ok = false;
      }
      return std::nullopt;
    }
    if (*len > max) {
      add(key, max_chars_message(key, max));
      ok = false;
      return std::nullopt;
    }
    return out;
  }

 private:
  const raw_profile& raw_;
  field_errors& errors_;
};

}  // namespace

namespace {

// The assigned ISO code's English name, or null: `code` in its normalised (uppercase) form only.
const std::string* find_country(std::string_view code) {
  if (code.size() != 2 || !is_ascii_alpha(code[0]) || !is_ascii_alpha(code[1])) return nullptr;
  if (ascii_upper(code[0]) != code[0] || ascii_upper(code[1]) != code[1]) return nullptr;
  const auto& all = iso_countries();
  const auto it = all.find(code);
  return it == all.end() ? nullptr : &it->second;
}

}  // namespace

bool is_valid_country_code(std::string_view code) {
  return find_country(code) != nullptr;
}

std::string country_name(std::string_view code) {
  const auto* name = find_country(code);
  return name ? *name : std::string();
}

bool is_valid_timezone(std::string_view tz) {
  // tz database names use only these characters; ICU would stop reading at an embedded NUL.
  if (tz.empty() || tz.size() > 64 || std::any_of(tz.begin(), tz.end(), [](char c) {
        return !(is_ascii_alpha(c) || is_ascii_digit(c) || c == '/' || c == '_' || c == '+' ||
                 c == '-');
      }))
    return false;
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString canonical;
  UBool is_system = false;
  icu::TimeZone::getCanonicalID(
      icu::UnicodeString::fromUTF8(icu::StringPiece(tz.data(), static_cast<int32_t>(tz.size()))),
      canonical, is_system, status);
  // Custom ids ("GMT+05:00") parse but are not zones of the tz database: is_system is false.
  return U_SUCCESS(status) && is_system;
}

bool is_valid_locale(std::string_view tag) {
  if (tag.empty() || tag.size() > 255) return false;
  if (std::any_of(tag.begin(), tag.end(),
                  [](char c) { return !(is_ascii_alpha(c) || is_ascii_digit(c) || c == '-'); }))
    return false;
  // The primary subtag: 2-3 or 5-8 letters, "x" (private use) or "i" (grandfathered). ICU would
  // accept 4 letters ("root"), which BCP 47 reserves.
  const auto first = tag.substr(0, tag.find('-'));
  const bool alpha = std::all_of(first.begin(), first.end(), is_ascii_alpha);
  const bool primary_ok = alpha && ((first.size() >= 2 && first.size() <= 3) ||
                                    (first.size() >= 5 && first.size() <= 8) || first == "x" ||
                                    first == "X" || first == "i" || first == "I");
  if (!primary_ok) return false;
  const std::string text(tag);
  char buf[512];
  int32_t parsed = 0;
  UErrorCode status = U_ZERO_ERROR;
  uloc_forLanguageTag(text.c_str(), buf, sizeof buf, &parsed, &status);
  // ICU stops at the first malformed subtag and reports how far it got: all of it must parse.
  return U_SUCCESS(status) && status != U_STRING_NOT_TERMINATED_WARNING && parsed >= 0 &&
         static_cast<std::size_t>(parsed) == text.size();
}

bool is_valid_domain_name(std::string_view domain) {
  if (domain.empty() || domain.size() > domain_max_length) return false;
  std::size_t labels = 0;
  std::string_view last;
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    const auto label =
        domain.substr(start, dot == std::string_view::npos ? domain.size() - start : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || is_ascii_digit(c) || c == '-')) return false;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // A registrable host name has a top-level domain, which is never all digits (that would be
  // an IPv4 address).
  return labels >= 2 && !std::all_of(last.begin(), last.end(), is_ascii_digit);
}

bool is_valid_email(std::string_view email) {
  if (email.empty() || email.size() > email_max_length) return false;
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  const auto local = email.substr(0, at);
  const auto host = email.substr(at + 1);
  // Local part: RFC 5322 dot-atom (no quoted strings), at most 64 octets.
  if (local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  constexpr std::string_view atext_specials = "!#$%&'*+/=?^_`{|}~-";
  char prev = 0;
  for (char c : local) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_ascii_alpha(c) && !is_ascii_digit(c) &&
               atext_specials.find(c) == std::string_view::npos) {
      return false;
    }
    prev = c;
  }
  // Domain: a host name (case-insensitive in e-mail addresses).
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(), ascii_lower);
  return is_valid_domain_name(lower);
}

std::string seat_limit_message(std::uint32_t limit, plan_tier plan) {
  return "The settings.max seats may not be greater than " + std::to_string(limit) +
         ", the seat limit of the " + std::string(to_string(plan)) + " plan.";
}

validation_outcome validate_profile(const raw_profile& raw, const validation_rules& rules) {
  validation_outcome out;
  field_errors& errors = out.errors;
  for (const auto& [key, messages] : raw.type_errors) {
    auto& dst = errors[key];
    dst.insert(dst.end(), messages.begin(), messages.end());
  }
  field_checker check(raw, errors);
  validated_profile v;
  bool ok = true;

  // name: required, 5..255 characters after trimming.
  if (auto name = check.text("name", raw.name, std::numeric_limits<std::size_t>::max(), true, ok)) {
    const auto len = *utf8_length(*name);
    if (len < name_min_length) {
      check.add("name",
                "The name must be at least " + std::to_string(name_min_length) + " characters.");
    } else if (len > name_max_length) {
      check.add("name", max_chars_message("name", name_max_length));
    } else {
      v.profile.name = std::move(*name);
    }
  }

  // plan: one of the tiers; required by the /api/v1 dialect, defaulted by TMS.
  std::optional<plan_tier> plan;
  // No length limit of its own: anything that is not a tier name is "invalid".
  if (auto text = check.text("plan", raw.plan, std::numeric_limits<std::size_t>::max(),
                             rules.require_plan, ok)) {
    plan = parse_plan(*text);
    if (!plan) check.add("plan", "The selected plan is invalid.");
  } else if (ok && !rules.require_plan) {
    plan = rules.default_plan;
  }
  if (plan) v.plan = *plan;

  // admin_email
  if (auto email = check.text("admin_email", raw.admin_email, email_max_length,
                              rules.require_admin_email, ok)) {
    if (is_valid_email(*email))
      v.profile.admin_email = std::move(*email);
    else
      check.add("admin_email", "The admin email must be a valid email address.");
  }

  // domain: stored lowercase; ASCII host names only (IDNs arrive as punycode "xn--" labels).
  if (auto domain = check.text("domain", raw.domain, domain_max_length, false, ok)) {
    std::transform(domain->begin(), domain->end(), domain->begin(), ascii_lower);
    if (is_valid_domain_name(*domain))
      v.profile.domain = std::move(*domain);
    else
      check.add("domain", "The domain must be a valid domain name.");
  }

  if (auto tz = check.text("settings.timezone", raw.timezone, text_max_length, false, ok)) {
    if (is_valid_timezone(*tz))
      v.profile.settings.timezone = std::move(*tz);
    else
      check.add("settings.timezone", "The settings.timezone must be a valid timezone.");
  }

  if (auto locale = check.text("settings.locale", raw.locale, text_max_length, false, ok)) {
    if (is_valid_locale(*locale))
      v.profile.settings.locale = std::move(*locale);
    else
      check.add("settings.locale", "The settings.locale must be a valid BCP 47 language tag.");
  }

  // max_seats: >= 1; the plan's seat limit is checked last because exceeding it alone is
  // PLAN_LIMIT_EXCEEDED rather than a validation failure.
  std::optional<std::string> plan_limit_message;
  if (raw.max_seats && !check.has_type_error("settings.max_seats")) {
    const std::int64_t seats = *raw.max_seats;
    if (seats < max_seats_min) {
      check.add("settings.max_seats",
                "The settings.max seats must be at least " + std::to_string(max_seats_min) + ".");
    } else if (seats > max_seats_max) {
      check.add("settings.max_seats", "The settings.max seats may not be greater than " +
                                          std::to_string(max_seats_max) + ".");
    } else {
      v.profile.settings.max_seats = static_cast<std::uint32_t>(seats);
      const auto limit = plan ? rules.limits.seat_limit(*plan) : std::nullopt;
      if (limit && static_cast<std::uint64_t>(seats) > *limit)
        plan_limit_message = seat_limit_message(*limit, *plan);
    }
  }

  if (auto address = check.text("address", raw.address, text_max_length, false, ok))
    v.profile.address = std::move(address);
  if (auto city = check.text("city", raw.city, text_max_length, false, ok))
    v.profile.city = std::move(city);

  if (auto code = check.text("country_code", raw.country_code, text_max_length, false, ok)) {
    std::transform(code->begin(), code->end(), code->begin(), ascii_upper);
    if (is_valid_country_code(*code)) {
      v.country_name = country_name(*code);
      v.profile.country_code = std::move(*code);
    } else {
      check.add("country_code",
                "The country code field is invalid. It must be ISO 3166-1 alpha-2 country code.");
    }
  }

  if (auto post_code = check.text("post_code", raw.post_code, post_code_max_length, false, ok))
    v.profile.post_code = std::move(post_code);
  if (auto description =
          check.text("description", raw.description, description_max_length, false, ok))
    v.profile.description = std::move(description);
  if (auto group_id = check.text("group_id", raw.group_id, text_max_length, false, ok))
    v.profile.group_id = std::move(*group_id);
  if (auto group_name = check.text("group_name", raw.group_name, text_max_length, false, ok))
    v.profile.group_name = std::move(*group_name);

  if (plan_limit_message) {
    out.plan_limit_exceeded = errors.empty();
    errors["settings.max_seats"].push_back(std::move(*plan_limit_message));
  }
  if (errors.empty()) out.value = std::move(v);
  return out;
}

error to_error(const validation_outcome& o) {
  error e;
  e.code = o.plan_limit_exceeded ? errc::plan_limit_exceeded : errc::validation_failed;
  e.detail = o.plan_limit_exceeded ? "The plan's seat limit would be exceeded."
                                   : "The given data was invalid.";
  e.fields = o.errors;
  return e;
}

}  // namespace tenant::domain
