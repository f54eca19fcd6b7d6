// Fuzz target: a command's JSON body as the API reads it (api::parse_json_body, the typed
// reader, read_profile) and then validates it (domain::validate_profile, both dialects' rules).
// Any input must end in a value or a problem, never a crash, a leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tenant/api/json_body.hpp"
#include "tenant/domain/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace api = tenant::api;
  namespace domain = tenant::domain;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto reader = api::parse_json_body("application/json", body);
  if (!reader) return 0;

  // Every accessor on fields of every kind, as the handlers use them.
  for (const char* key : {"name", "status", "plan", "amount_cents", "reason", "settings", ""}) {
    (void)reader->kind(key);
    (void)reader->has(key);
    (void)reader->string(key);
    (void)reader->integer(key);
    (void)reader->number(key);
    (void)reader->boolean(key);
    if (auto nested = reader->object(key)) {
      (void)nested->string("timezone");
      (void)nested->integer("max_seats");
      (void)nested->path();
    }
  }
  (void)reader->take_errors();

  auto again = api::parse_json_body("application/json; charset=utf-8", body);
  if (!again) __builtin_trap();  // the same body cannot be refused the second time
  const auto raw = api::read_profile(*again);
  for (const bool v1 : {true, false}) {
    domain::validation_rules rules;
    rules.require_plan = v1;
    rules.require_admin_email = v1;
    const auto outcome = domain::validate_profile(raw, rules);
    // A result is either a value or a list of errors.
    if (outcome.value.has_value() == !outcome.errors.empty()) __builtin_trap();
  }
  return 0;
}
