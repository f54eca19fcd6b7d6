#include "upcasters.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace tenant::eventstore::codec::detail {

namespace {

namespace json = boost::json;

// TenantCreated / TenantUpdated v1 -> v2: the first layout carried the settings flat at the top
// of `data` ("timezone", "locale", "max_seats"); v2 nests them under "settings", as the API's
// tenant resource shows them. A v1 record that already has "settings" is not v1: refuse it.
bool nest_settings(json::object& data) {
  if (data.contains("settings")) return false;
  json::object settings;
  for (const char* key : {"timezone", "locale", "max_seats"}) {
    if (auto* v = data.if_contains(key)) {
      settings[key] = std::move(*v);
      data.erase(key);
    } else {
      settings[key] = nullptr;
    }
  }
  data["settings"] = std::move(settings);
  return true;
}

constexpr std::array<upcaster, 2> table{{
    {domain::event_type::tenant_created, 1, &nest_settings,
     "settings.{timezone,locale,max_seats} nested under \"settings\""},
    {domain::event_type::tenant_updated, 1, &nest_settings,
     "settings.{timezone,locale,max_seats} nested under \"settings\""},
}};

const upcaster* find(domain::event_type type, std::uint32_t from) {
  for (const auto& u : table)
    if (u.type == type && u.from == from) return &u;
  return nullptr;
}

}  // namespace

std::span<const upcaster> upcasters() {
  return table;
}

result<std::string> upcast(domain::event_type type, std::uint32_t from,
                           std::string_view data_json) {
  const auto invalid = make_error_code(errc::invalid_argument);
  const std::uint32_t current = domain::schema_version_of(type);
  if (from == 0 || from >= current) return invalid;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(data_json.data(), data_json.size()), ec);
  if (ec || !v.is_object()) return invalid;
  auto& data = v.as_object();
  for (std::uint32_t version = from; version < current; ++version) {
    const auto* step = find(type, version);
    if (!step || !step->apply(data)) return invalid;
  }
  return json::serialize(v);
}

}  // namespace tenant::eventstore::codec::detail
