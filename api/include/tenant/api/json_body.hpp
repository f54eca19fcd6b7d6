#pragma once
/// The one JSON request adapter: checks the content type, parses the body with simdjson (one
/// reused parser per thread), refuses what is not plain JSON, and gives typed access to fields
/// that collects per-field type errors for the 422 body.
///
///   auto body = parse_json_body(ctx.req());
///   if (!body) co_return to_response(body.error());        // 415 or 400
///   auto status = body->string("status");
///   auto amount = body->integer("amount_cents", {.min = 0});
///   if (!body->errors().empty()) co_return to_response(validation_problem(body->take_errors()));
///
/// Refused with 400 BAD_REQUEST: malformed JSON, invalid UTF-8, a duplicate key in any object,
/// nesting deeper than `max_json_depth`, a top level that is not an object, an empty body.
/// Integers beyond 64 bits are valid JSON (simdjson's DOM refuses them): they are read as out of
/// range of every integer field, a 422 message for that field.
/// Floating-point numbers beyond double's range stay a 400.
/// Refused with 415 UNSUPPORTED_MEDIA_TYPE: a Content-Type other than application/json.
///
/// Lifetime: a json_reader views the calling thread's parser. Read every field before the next
/// `co_await` (another request on this thread reuses the parser); a reader used after its
/// document was replaced throws std::logic_error (a programmer error, surfaced as a 500).
/// Threading: a reader belongs to the thread that parsed it.

#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tenant/api/http.hpp"
#include "tenant/api/problem.hpp"
#include "tenant/domain/profile.hpp"

namespace tenant::api {

/// Deepest nesting accepted (objects and arrays); request bodies here are two levels deep.
inline constexpr std::size_t max_json_depth = 32;

enum class json_kind : std::uint8_t {
  missing,
  null,
  boolean,
  integer,  ///< no fraction or exponent, of any size
  number,   ///< has a fraction or exponent
  string,
  array,
  object,
};

/// The values an integer field takes. Outside them: "The <label> must be at least <min>." or
/// "The <label> may not be greater than <max>.", or `outside` instead when given (Laravel's
/// `in` rule: "The selected user status is invalid."). The default range is int64's, without
/// its lowest value: integers beyond 64 bits read as -2^63 or as 2^64 - 1, so no range holds
/// them.
struct integer_range {
  std::int64_t min = -INT64_MAX;
  std::int64_t max = INT64_MAX;
  std::string_view outside = {};
};

/// "The name must be a string." style label: underscores read as spaces, as Laravel (seed 001)
/// writes them ("country_code" -> "country code", "settings.max_seats" -> "settings.max seats").
std::string field_label(std::string_view path);

/// Typed, error-collecting access to one JSON object. Accessors return nullopt when the field is
/// absent or null; when it has another type they also record "<path>: The <label> must be ..."
/// in errors(). Nested readers (`object("settings")`) share the error map and prefix paths.
class json_reader {
 public:
  json_reader(const json_reader&);
  json_reader& operator=(const json_reader&);
  json_reader(json_reader&&) noexcept;
  json_reader& operator=(json_reader&&) noexcept;
  ~json_reader();

  json_kind kind(std::string_view key) const;
  /// Present and not null.
  bool has(std::string_view key) const;

  std::optional<std::string> string(std::string_view key);
  /// An integral number ("5"; "5.0" and "1e3" are not integers: "The <label> must be an
  /// integer.") within `range` (see integer_range for its messages).
  std::optional<std::int64_t> integer(std::string_view key, const integer_range& range = {});
  std::optional<double> number(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<json_reader> object(std::string_view key);

  /// Dotted path of this object ("" at the top, "settings" inside settings).
  const std::string& path() const;
  const domain::field_errors& errors() const;
  domain::field_errors take_errors();
  /// Records a message for a field of this object (for checks beyond types).
  void add_error(std::string_view key, std::string message);

  struct impl;

 private:
  friend boost::system::result<json_reader, problem> parse_json_body(std::string_view,
                                                                     std::string_view);
  explicit json_reader(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Checks the content type and parses the body. The error is a ready 415 or 400 problem.
boost::system::result<json_reader, problem> parse_json_body(const request& req);
boost::system::result<json_reader, problem> parse_json_body(std::string_view content_type,
                                                            std::string_view body);

/// A tenant create/update body (both APIs) as the client sent it: top-level name, plan,
/// admin_email, domain, address, city, country_code, post_code, description, group_id,
/// group_name and settings.{timezone, locale, max_seats}. Unknown fields are ignored; fields of
/// the wrong type land in `type_errors` ("name": ["The name must be a string."]). The error is
/// a 415/400 problem for a body that is not a JSON object.
boost::system::result<domain::raw_profile, problem> read_profile(const request& req);
/// The same from a reader (when a handler also reads other fields of the body).
domain::raw_profile read_profile(json_reader& body);

}  // namespace tenant::api
