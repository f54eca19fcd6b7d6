#include "tenant/api/pagination.hpp"

#include <charconv>
#include <optional>

#include "tenant/api/tenant_json.hpp"

namespace tenant::api {

namespace {

enum class int_parse : std::uint8_t { ok, not_integer, too_large };

// Laravel's `integer` rule accepts an optional sign and digits only ("1.0", "1e2" and " 1" are
// not integers). Negative values parse so that "-1" reads "at least 1", not "an integer".
int_parse parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return int_parse::not_integer;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return int_parse::not_integer;
  for (char c : s) {
    if (c < '0' || c > '9') return int_parse::not_integer;
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range || v > static_cast<std::uint64_t>(INT64_MAX)) {
    out = negative ? INT64_MIN : INT64_MAX;
    return negative ? int_parse::ok : int_parse::too_large;
  }
  (void)end;
  out = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return int_parse::ok;
}

const std::string* find_param(const std::vector<std::pair<std::string, std::string>>& query,
                              std::string_view key) {
  for (const auto& [k, v] : query) {
    if (k == key) return &v;
  }
  return nullptr;
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

void append_link(std::string& out, std::string_view path_url, std::uint64_t page,
                 const std::string& rest) {
  std::string url(path_url);
  url += "?page=";
  append_uint(url, page);
  url += rest;
  append_json_string(out, url);
}

}  // namespace

boost::system::result<page_request, problem> parse_page_request(
    const std::vector<std::pair<std::string, std::string>>& query) {
  page_request r;
  domain::field_errors errors;
  if (const auto* p = find_param(query, "page"); p && !p->empty()) {
    std::int64_t v = 0;
    switch (parse_int(*p, v)) {
      case int_parse::not_integer:
        errors["page"].push_back("The page must be an integer.");
        break;
      case int_parse::too_large:
        errors["page"].push_back("The page may not be greater than " + std::to_string(max_page) +
                                 ".");
        break;
      case int_parse::ok:
        if (v < 1)
          errors["page"].push_back("The page must be at least 1.");
        else if (static_cast<std::uint64_t>(v) > max_page)
          errors["page"].push_back("The page may not be greater than " + std::to_string(max_page) +
                                   ".");
        else
          r.page = static_cast<std::uint64_t>(v);
        break;
    }
  }
  if (const auto* p = find_param(query, "per_page"); p && !p->empty()) {
    std::int64_t v = 0;
    switch (parse_int(*p, v)) {
      case int_parse::not_integer:
        errors["per_page"].push_back("The per page must be an integer.");
        break;
      case int_parse::too_large:
      case int_parse::ok:
        if (v < 1 || static_cast<std::uint64_t>(v) > max_per_page)
          errors["per_page"].push_back("The per page must be between 1 and " +
                                       std::to_string(max_per_page) + ".");
        else
          r.per_page = static_cast<std::uint64_t>(v);
        break;
    }
  }
  if (!errors.empty()) return validation_problem(std::move(errors));
  return r;
}

std::string encode_query_component(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

void append_page_links_meta(std::string& out, const page_request& page, std::uint64_t total,
                            std::uint64_t items, std::string_view path_url,
                            const std::vector<std::pair<std::string, std::string>>& query) {
  const std::uint64_t last_page =
      total == 0 ? 1 : (total / page.per_page) + (total % page.per_page != 0 ? 1 : 0);
  std::string rest;  // the other parameters, in request order, encoded again
  for (const auto& [k, v] : query) {
    if (k == "page") continue;
    rest += '&';
    rest += encode_query_component(k);
    rest += '=';
    rest += encode_query_component(v);
  }

  out += "\"links\":{\"first\":";
  append_link(out, path_url, 1, rest);
  out += ",\"last\":";
  append_link(out, path_url, last_page, rest);
  out += ",\"prev\":";
  if (page.page > 1)
    append_link(out, path_url, page.page - 1, rest);
  else
    out += "null";
  out += ",\"next\":";
  if (page.page < last_page)
    append_link(out, path_url, page.page + 1, rest);
  else
    out += "null";
  out += "},\"meta\":{\"current_page\":";
  append_uint(out, page.page);
  out += ",\"from\":";
  if (items > 0)
    append_uint(out, page.offset() + 1);
  else
    out += "null";
  out += ",\"last_page\":";
  append_uint(out, last_page);
  out += ",\"path\":";
  append_json_string(out, path_url);
  out += ",\"per_page\":";
  append_uint(out, page.per_page);
  out += ",\"to\":";
  if (items > 0)
    append_uint(out, page.offset() + items);
  else
    out += "null";
  out += ",\"total\":";
  append_uint(out, total);
  out += '}';
}

}  // namespace tenant::api
