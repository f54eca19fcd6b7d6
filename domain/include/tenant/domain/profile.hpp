#pragma once
/// The editable fields of a tenant, shared by both APIs (seed 001 and seed 002), and their
/// validation. Validation reports every field's errors at once, like seed 001's 422 body.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tenant/domain/types.hpp"

namespace tenant::domain {

struct tenant_settings {
  std::optional<std::string> timezone;     ///< IANA zone, e.g. "America/New_York"
  std::optional<std::string> locale;       ///< BCP 47 tag, e.g. "en-US"
  std::optional<std::uint32_t> max_seats;  ///< >= 1 and within the plan's seat limit
  friend bool operator==(const tenant_settings&, const tenant_settings&) = default;
};

/// `settings.max_seats` is an integer within [max_seats_min, max_seats_max] (it is stored as a
/// uint32), and within the plan's seat limit.
inline constexpr std::int64_t max_seats_min = 1;
inline constexpr std::int64_t max_seats_max = UINT32_MAX;

/// Everything PUT /tenants/{id} replaces. Absent optional = field not set.
struct tenant_profile {
  std::string name;  ///< trimmed, 5..255 characters
  std::optional<std::string> admin_email;
  std::optional<std::string> domain;  ///< lowercase host name, unique among live tenants
  tenant_settings settings;
  std::optional<std::string> address;
  std::optional<std::string> city;
  std::optional<std::string> country_code;  ///< ISO 3166-1 alpha-2, uppercase
  std::optional<std::string> post_code;
  std::optional<std::string> description;
  std::string group_id = "0";  ///< seed 001: "0" = no group
  std::string group_name;
  friend bool operator==(const tenant_profile&, const tenant_profile&) = default;
};

/// field name -> messages; nested fields are keyed with dots ("settings.max_seats").
/// Ordered so that the 422 body is deterministic.
using field_errors = std::map<std::string, std::vector<std::string>>;

/// A create/update body after JSON decoding but before validation: every field as the client
/// sent it. `present` flags distinguish absent from wrong-typed; the API's JSON adapter fills
/// `type_errors` for fields of the wrong JSON type.
struct raw_profile {
  std::optional<std::string> name;
  std::optional<std::string> plan;
  std::optional<std::string> admin_email;
  std::optional<std::string> domain;
  std::optional<std::string> timezone;
  std::optional<std::string> locale;
  std::optional<std::int64_t> max_seats;
  std::optional<std::string> address;
  std::optional<std::string> city;
  std::optional<std::string> country_code;
  std::optional<std::string> post_code;
  std::optional<std::string> description;
  std::optional<std::string> group_id;
  std::optional<std::string> group_name;
  field_errors type_errors;  ///< e.g. {"settings.max_seats": ["The settings.max seats must be an
                             ///< integer."]}
};

/// Which fields a dialect requires. Seed 002 (/api/v1) requires name, plan, admin_email;
/// seed 001 (TMS) requires only name, defaults plan to starter.
struct validation_rules {
  bool require_plan = true;
  bool require_admin_email = true;
  plan_tier default_plan = plan_tier::starter;
  plan_limits limits{};
};

struct validated_profile {
  tenant_profile profile;
  plan_tier plan = plan_tier::starter;
  std::string country_name;  ///< English name derived from country_code (ICU), "" when absent
};

/// Validates and normalises (trims, lowercases domain, uppercases country code).
/// Returns every field error, or the validated profile. Every string is trimmed of Unicode
/// White_Space first, and an empty string counts as absent (what Laravel's TrimStrings and
/// ConvertEmptyStringsToNull do before seed 001's rules run). Lengths count code points.
/// A field listed in `raw.type_errors` keeps only those messages (no "required" on top).
///
/// `settings.max_seats` above the plan's seat limit is PLAN_LIMIT_EXCEEDED, not a validation
/// failure, when it is the only problem: then `plan_limit_exceeded` is true and `errors` holds
/// just that message under "settings.max_seats". When other fields are invalid too, the flag is
/// false and `errors` lists everything (VALIDATION_FAILED). `to_error` (errors.hpp) turns a
/// failed outcome into the domain error.
struct validation_outcome {
  std::optional<validated_profile> value;
  field_errors errors;
  bool plan_limit_exceeded = false;
};
validation_outcome validate_profile(const raw_profile& raw, const validation_rules& rules);

/// The message of `settings.max_seats` above `plan`'s seat limit (validation and decide).
std::string seat_limit_message(std::uint32_t limit, plan_tier plan);

/// Single-field checks, reusable by other modules.
bool is_valid_country_code(std::string_view code);
std::string country_name(std::string_view code);  ///< "" for unknown
bool is_valid_timezone(std::string_view tz);
bool is_valid_locale(std::string_view tag);
bool is_valid_email(std::string_view email);
bool is_valid_domain_name(std::string_view domain);

/// Length limits on free-text fields (characters, after trimming).
inline constexpr std::size_t name_min_length = 5;
inline constexpr std::size_t name_max_length = 255;
inline constexpr std::size_t text_max_length = 255;          ///< address, city, group_name...
inline constexpr std::size_t description_max_length = 2000;  ///< description
inline constexpr std::size_t post_code_max_length = 20;
inline constexpr std::size_t email_max_length = 254;
inline constexpr std::size_t domain_max_length = 253;

}  // namespace tenant::domain
