#include "tenant/api/http.hpp"

#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdint>

namespace tenant::api {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A Host header we are willing to echo into links: host name or IP literal and optional port.
// Anything else (spaces, slashes, '@') could turn a link into someone else's URL.
bool is_safe_host(std::string_view h) {
  if (h.empty() || h.size() > 261) return false;
  for (char c : h) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']')
      return false;
  }
  return true;
}

// RFC 3986's pchar without '%' (unreserved, sub-delims, ':', '@'), plus '/'.
constexpr std::string_view path_chars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/";

constexpr std::array<bool, 256> char_set(std::string_view a, std::string_view b = {}) {
  std::array<bool, 256> set{};
  for (unsigned char c : a)
    set[c] = true;
  for (unsigned char c : b)
    set[c] = true;
  return set;
}

// An absolute path (RFC 3986 origin-form without a query) of pchars other than '%', and no
// segment starting with '.': valid as it is, and its decoded segments are its raw parts.
bool is_plain_path(std::string_view t) {
  static constexpr auto allowed = char_set(path_chars);
  if (t.empty() || t.front() != '/') return false;
  for (char c : t)
    if (!allowed[static_cast<unsigned char>(c)]) return false;
  return t.find("/.") == std::string_view::npos;
}

}  // namespace

std::optional<std::string> lenient_query(std::string_view target) {
  // RFC 3986's query characters: pchar, '/', '?', and '%' (whose escapes Boost.URL checks).
  static constexpr auto allowed = char_set(path_chars, "?%");
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = q + 1; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (allowed[c]) continue;
    // A fragment, a space or a control character: not a query a client meant to send.
    if (c <= 0x20 || c == 0x7f || c == '#') return std::nullopt;
    if (out.empty()) out.assign(target.substr(0, i));
    static constexpr char hex[] = "0123456789ABCDEF";
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 0xf];
    // Copy up to the next character to encode.
    std::size_t j = i + 1;
    while (j < target.size() && allowed[static_cast<unsigned char>(target[j])])
      ++j;
    out.append(target.substr(i + 1, j - i - 1));
    i = j - 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

boost::system::result<boost::urls::url_view> parse_target(std::string_view target,
                                                          std::string& storage) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (parsed) return parsed;
  if (auto fixed = lenient_query(target)) {
    storage = std::move(*fixed);
    return boost::urls::parse_origin_form(storage);
  }
  return parsed;
}

request_context::request_context(request req, peer_info peer)
    : req_(std::move(req)), peer_(std::move(peer)) {
  const std::string_view target = req_.target();
  if (is_plain_path(target)) {
    plain_path_ = true;
    if (target.size() > 1) {
      std::size_t start = 1;
      for (;;) {
        const auto slash = target.find('/', start);
        segments_.emplace_back(target.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
      }
    }
    return;
  }
  auto parsed = parse_target(target, lenient_target_);
  if (parsed) {
    url_ = *parsed;
    for (auto seg : url_->segments())
      segments_.push_back(std::string(seg));
  }
}

std::string_view request_context::path() const {
  if (plain_path_) return target();
  if (!url_) return {};
  auto p = url_->encoded_path();
  return {p.data(), p.size()};
}

std::optional<std::string> request_context::query(std::string_view key) const {
  if (!url_) return std::nullopt;
  for (auto param : url_->params()) {
    if (param.key == key) return param.has_value ? param.value : std::string{};
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> request_context::query_params() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!url_) return out;
  for (auto param : url_->params())
    out.emplace_back(param.key, param.has_value ? param.value : std::string{});
  return out;
}

std::string_view request_context::path_param(std::string_view name) const {
  for (const auto& [k, v] : path_params_) {
    if (k == name) return v;
  }
  return {};
}

// A request has a handful of fields, each holding the enum the parser resolved: a walk in
// arrival order compares integers, where the container's find() walks a tree comparing names
// without case (about 600 instructions a lookup). Both give the first occurrence.
std::string_view request_context::header(http::field f) const {
  if (f == http::field::unknown) return {};
  for (const auto& e : req_)
    if (e.name() == f) return e.value();
  return {};
}

// By name, known or not: the lengths rule out most fields before a case-insensitive compare
// (cheaper than resolving the name to its enum first, a hash of the folded name).
std::string_view request_context::header(std::string_view name) const {
  for (const auto& e : req_) {
    const auto n = e.name_string();
    if (n.size() == name.size() && boost::beast::iequals(n, name)) return e.value();
  }
  return {};
}

std::string request_context::base_url() const {
  if (!peer_.public_base_url.empty()) {
    std::string_view b = peer_.public_base_url;
    while (!b.empty() && b.back() == '/')
      b.remove_suffix(1);
    return std::string(b);
  }
  auto host = header(http::field::host);
  if (!is_safe_host(host)) return {};
  return std::string(peer_.secure ? "https://" : "http://") + std::string(host);
}

response json_response(http::status status, const boost::json::value& body) {
  response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

response text_response(http::status status, std::string body, std::string_view content_type) {
  response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool append_response_head(const response& res, std::string& out, std::string_view request_id) {
  if (res.chunked()) return false;
  const unsigned version = res.version();
  const unsigned code = res.result_int();
  const char line[] = {'H',
                       'T',
                       'T',
                       'P',
                       '/',
                       static_cast<char>('0' + version / 10),
                       '.',
                       static_cast<char>('0' + version % 10),
                       ' ',
                       static_cast<char>('0' + code / 100),
                       static_cast<char>('0' + code / 10 % 10),
                       static_cast<char>('0' + code % 10),
                       ' '};
  out.append(line, sizeof line);
  std::string_view reason = res.reason();
  if (reason.empty()) reason = http::obsolete_reason(res.result());
  out.append(reason);
  out.append("\r\n");
  for (const auto& f : res) {
    // The given request id replaces one the response holds, as set() would.
    if (!request_id.empty() && iequals(f.name_string(), "X-Request-Id")) continue;
    out.append(f.name_string());
    out.append(": ");
    out.append(f.value());
    out.append("\r\n");
  }
  if (!request_id.empty()) {
    out.append("X-Request-Id: ");
    out.append(request_id);
    out.append("\r\n");
  }
  out.append("\r\n");
  return true;
}

bool is_json_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semi)), "application/json")) return false;
  while (semi != std::string_view::npos) {
    auto rest = content_type.substr(semi + 1);
    auto next = rest.find(';');
    auto param = trim(rest.substr(0, next));
    semi = next == std::string_view::npos ? next : semi + 1 + next;
    if (param.empty()) continue;
    auto eq = param.find('=');
    if (eq == std::string_view::npos) return false;  // a parameter must be name=value
    auto name = trim(param.substr(0, eq));
    auto value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (iequals(name, "charset") && !iequals(value, "utf-8") && !iequals(value, "utf8"))
      return false;
  }
  return true;
}

namespace {

// The fields the API reads one value of (RFC 9112 §3.2 for Host; the others because the first
// occurrence would silently win: an Authorization a proxy checked, then another one read here),
// named as in the refusal. Transfer-Encoding too: only a single `chunked` is taken. Beast has no
// enum for the custom ones (`unknown`): those are told apart by name.
struct single_value_field {
  http::field field;
  std::string_view name;
};
constexpr std::array<single_value_field, 12> single_value_fields{{
    {http::field::host, "Host"},
    {http::field::authorization, "Authorization"},
    {http::field::unknown, "X-Tenant-Id"},
    {http::field::if_match, "If-Match"},
    {http::field::if_none_match, "If-None-Match"},
    {http::field::unknown, "Idempotency-Key"},
    {http::field::unknown, "X-Min-Position"},
    {http::field::content_type, "Content-Type"},
    {http::field::content_length, "Content-Length"},
    {http::field::content_encoding, "Content-Encoding"},
    {http::field::unknown, "X-Request-Id"},
    {http::field::transfer_encoding, "Transfer-Encoding"},
}};

constexpr std::uint32_t single_value_bit(http::field f) {
  for (std::size_t i = 0; i < single_value_fields.size(); ++i)
    if (single_value_fields[i].field == f) return 1u << i;
  return 0;
}

// Position of `f` in single_value_fields, or its size: enums compared first (the parser
// resolved them), names only for fields Beast does not know, and only of the same length.
std::size_t single_value_index(const http::fields::value_type& f) {
  const auto id = f.name();
  for (std::size_t i = 0; i < single_value_fields.size(); ++i) {
    const auto& s = single_value_fields[i];
    if (s.field != id) continue;
    if (id != http::field::unknown) return i;
    const auto name = f.name_string();
    if (name.size() == s.name.size() && iequals(name, s.name)) return i;
  }
  return single_value_fields.size();
}

}  // namespace

std::optional<std::string> malformed_request_head(const request& req) {
  // One walk over the fields, no allocation unless refusing: this runs for every request.
  constexpr auto host = single_value_bit(http::field::host);
  constexpr auto content_length = single_value_bit(http::field::content_length);
  constexpr auto transfer_encoding = single_value_bit(http::field::transfer_encoding);
  std::uint32_t seen = 0;
  std::string_view coding;
  for (const auto& f : req) {
    const std::size_t i = single_value_index(f);
    if (i == single_value_fields.size()) continue;
    if (seen & (1u << i))
      return "The " + std::string(single_value_fields[i].name) + " header must appear only once.";
    seen |= 1u << i;
    if ((1u << i) == transfer_encoding) coding = f.value();
  }
  if (req.version() >= 11 && !(seen & host))
    return std::string("An HTTP/1.1 request must have a Host header.");
  if (!(seen & transfer_encoding)) return std::nullopt;
  if (req.version() < 11) return "An HTTP/1.0 request must not have a Transfer-Encoding.";
  if (seen & content_length)
    return "A request must not have both Transfer-Encoding and Content-Length.";
  if (!iequals(trim(coding), "chunked")) {
    return "The Transfer-Encoding '" + detail::shorten(coding) +
           "' is not supported: send the body chunked or with a Content-Length.";
  }
  return std::nullopt;
}

namespace detail {
std::string shorten(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}
}  // namespace detail

}  // namespace tenant::api
