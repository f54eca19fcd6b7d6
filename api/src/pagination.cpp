#include "tenant/api/pagination.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "tenant/api/json_body.hpp"
#include "tenant/api/tenant_json.hpp"

namespace tenant::api {

namespace {

// An integer as Laravel's `integer` rule accepts it: an optional sign and digits only ("1.0",
// "1e2" and " 1" are not integers). The magnitude saturates at UINT64_MAX.
struct parsed_int {
  bool negative = false;
  std::uint64_t magnitude = 0;
};
std::optional<parsed_int> parse_int(std::string_view s) {
  parsed_int out;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    out.negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out.magnitude);
  (void)end;
  if (ec == std::errc::result_out_of_range) out.magnitude = UINT64_MAX;
  return out;
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

std::optional<std::uint64_t> parse_positive_integer(std::string_view value, const std::string& key,
                                                    domain::field_errors& errors) {
  const auto v = parse_int(value);
  if (!v) {
    errors[key].push_back("The " + field_label(key) + " must be an integer.");
    return std::nullopt;
  }
  if (v->negative || v->magnitude < 1) {
    errors[key].push_back("The " + field_label(key) + " must be at least 1.");
    return std::nullopt;
  }
  return v->magnitude;
}

boost::system::result<page_request, problem> parse_page_request(
    const std::vector<std::pair<std::string, std::string>>& query) {
  page_request r;
  domain::field_errors errors;
  if (const auto* p = find_param(query, "page"); p && !p->empty()) {
    if (auto page = parse_positive_integer(*p, "page", errors)) r.page = *page;
  }
  if (const auto* p = find_param(query, "per_page"); p && !p->empty()) {
    const auto v = parse_int(*p);
    if (!v)
      errors["per_page"].push_back("The per page must be an integer.");
    else if (v->negative || v->magnitude < 1 || v->magnitude > max_per_page)
      errors["per_page"].push_back("The per page must be between 1 and " +
                                   std::to_string(max_per_page) + ".");
    else
      r.per_page = v->magnitude;
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
  bool per_page_named = false;
  for (const auto& [k, v] : query) {
    if (k == "page") continue;
    if (k == "per_page") {
      // The value in effect, once: an empty per_page= (the default) or a repeated one would
      // not page like this answer.
      if (per_page_named) continue;
      per_page_named = true;
      rest += "&per_page=";
      append_uint(rest, page.per_page);
      continue;
    }
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
