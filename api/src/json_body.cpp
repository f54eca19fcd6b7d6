#include "tenant/api/json_body.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace tenant::api {

namespace {

namespace dom = simdjson::dom;

// One parser per thread, reused across requests: simdjson keeps its tape and string buffers
// allocated, so steady-state parsing does not allocate. `generation` tells readers whether the
// document they view is still the current one.
struct parser_slot {
  dom::parser parser;
  std::vector<std::uint8_t> padded;  // body copy with SIMDJSON_PADDING zero bytes after it
  std::uint64_t generation = 0;

  parser_slot() {
    // The bound on depth is checked by simdjson while parsing; 64 KiB is the body limit.
    if (parser.allocate(64 * 1024, max_json_depth) != simdjson::SUCCESS) throw std::bad_alloc();
  }
};

parser_slot& thread_slot() {
  thread_local parser_slot slot;
  return slot;
}

// The first key that occurs twice in some object of the document, if any. simdjson's DOM keeps
// duplicates; JSON bodies with them are ambiguous (which "name" wins?) so they are refused.
std::optional<std::string_view> find_duplicate_key(dom::element e) {
  switch (e.type()) {
    case dom::element_type::OBJECT: {
      dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
      std::vector<std::string_view> keys;
      keys.reserve(obj.size());
      for (auto field : obj) {
        keys.push_back(field.key);
        if (auto d = find_duplicate_key(field.value)) return d;
      }
      if (keys.size() <= 8) {
        for (std::size_t i = 0; i < keys.size(); ++i)
          for (std::size_t j = i + 1; j < keys.size(); ++j)
            if (keys[i] == keys[j]) return keys[i];
      } else {
        std::sort(keys.begin(), keys.end());
        auto it = std::adjacent_find(keys.begin(), keys.end());
        if (it != keys.end()) return *it;
      }
      return std::nullopt;
    }
    case dom::element_type::ARRAY: {
      dom::array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) return std::nullopt;
      for (auto item : arr) {
        if (auto d = find_duplicate_key(item)) return d;
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::string parse_failure_detail(simdjson::error_code ec) {
  switch (ec) {
    case simdjson::UTF8_ERROR:
      return "The request body is not valid UTF-8.";
    case simdjson::DEPTH_ERROR:
      return "The JSON document is nested deeper than " + std::to_string(max_json_depth) +
             " levels.";
    case simdjson::EMPTY:
      return "The request body is empty; a JSON object is required.";
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "A number in the request body is malformed or out of range.";
    case simdjson::STRING_ERROR:
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING:
      return "A string in the request body is malformed.";
    default:
      return "The request body is not valid JSON.";
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Whether a number token is an integer (JSON's grammar: -?(0|[1-9][0-9]*)) beyond int64 below
// zero or beyond uint64 above it, the range of simdjson's DOM.
bool beyond_64_bits(std::string_view t) {
  const bool negative = !t.empty() && t.front() == '-';
  if (negative) t.remove_prefix(1);
  if (t.empty() || (t.front() == '0' && t.size() > 1) || !std::all_of(t.begin(), t.end(), is_digit))
    return false;
  const std::string_view bound = negative ? "9223372036854775808" : "18446744073709551615";
  return t.size() > bound.size() || (t.size() == bound.size() && t > bound);
}

// `body` with every integer beyond 64 bits replaced by the nearest 64-bit value (-2^63 or
// 2^64 - 1), out of every integer_range; nullopt when there is none. Numbers only occur outside
// strings, where a token of number characters starts with '-' or a digit.
std::optional<std::string> clamp_big_integers(std::string_view body) {
  std::string out;
  std::size_t copied = 0;
  std::size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (c == '"') {
      for (++i; i < body.size() && body[i] != '"'; ++i) {
        if (body[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c != '-' && !is_digit(c)) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < body.size() && (is_digit(body[i]) || body[i] == '-' || body[i] == '+' ||
                               body[i] == '.' || body[i] == 'e' || body[i] == 'E'))
      ++i;
    const auto token = body.substr(start, i - start);
    if (!beyond_64_bits(token)) continue;
    out.append(body.substr(copied, start - copied));
    out += token.front() == '-' ? "-9223372036854775808" : "18446744073709551615";
    copied = i;
  }
  if (copied == 0) return std::nullopt;
  out.append(body.substr(copied));
  return out;
}

simdjson::simdjson_result<dom::element> parse_in(parser_slot& slot, std::string_view body) {
  slot.padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  if (!body.empty()) std::memcpy(slot.padded.data(), body.data(), body.size());
  std::memset(slot.padded.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  return slot.parser.parse(slot.padded.data(), body.size(), false);
}

}  // namespace

std::string field_label(std::string_view path) {
  std::string out(path);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

struct document_state {
  const parser_slot* slot = nullptr;
  std::uint64_t generation = 0;
  domain::field_errors errors;
};

struct json_reader::impl {
  std::shared_ptr<document_state> doc;
  dom::object object;
  std::string path;

  void check_current() const {
    if (doc->slot != &thread_slot() || doc->generation != doc->slot->generation) {
      throw std::logic_error(
          "json_reader used after its document was replaced (read fields before co_await)");
    }
  }

  std::string full_path(std::string_view key) const {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  std::optional<dom::element> find(std::string_view key) const {
    check_current();
    auto r = object.at_key(key);
    if (r.error()) return std::nullopt;
    return r.value_unsafe();
  }

  void type_error(std::string_view key, std::string_view what) {
    auto p = full_path(key);
    doc->errors[p].push_back("The " + field_label(p) + " " + std::string(what));
  }
};

json_reader::json_reader(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
json_reader::json_reader(const json_reader& o) : impl_(std::make_unique<impl>(*o.impl_)) {}
json_reader& json_reader::operator=(const json_reader& o) {
  if (this != &o) impl_ = std::make_unique<impl>(*o.impl_);
  return *this;
}
json_reader::json_reader(json_reader&&) noexcept = default;
json_reader& json_reader::operator=(json_reader&&) noexcept = default;
json_reader::~json_reader() = default;

json_kind json_reader::kind(std::string_view key) const {
  auto e = impl_->find(key);
  if (!e) return json_kind::missing;
  switch (e->type()) {
    case dom::element_type::ARRAY:
      return json_kind::array;
    case dom::element_type::OBJECT:
      return json_kind::object;
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
      return json_kind::integer;
    case dom::element_type::DOUBLE:
      return json_kind::number;
    case dom::element_type::STRING:
      return json_kind::string;
    case dom::element_type::BOOL:
      return json_kind::boolean;
    case dom::element_type::NULL_VALUE:
      return json_kind::null;
  }
  return json_kind::missing;
}

bool json_reader::has(std::string_view key) const {
  auto k = kind(key);
  return k != json_kind::missing && k != json_kind::null;
}

std::optional<std::string> json_reader::string(std::string_view key) {
  auto e = impl_->find(key);
  if (!e || e->is_null()) return std::nullopt;
  if (!e->is_string()) {
    impl_->type_error(key, "must be a string.");
    return std::nullopt;
  }
  return std::string(e->get_string().value_unsafe());
}

std::optional<std::int64_t> json_reader::integer(std::string_view key, const integer_range& range) {
  auto e = impl_->find(key);
  if (!e || e->is_null()) return std::nullopt;
  const auto type = e->type();
  if (type != dom::element_type::INT64 && type != dom::element_type::UINT64) {
    impl_->type_error(key, "must be an integer.");
    return std::nullopt;
  }
  // A UINT64 element is above INT64_MAX, so above every range.
  const bool below = type == dom::element_type::INT64 && e->get_int64().value_unsafe() < range.min;
  const bool above = type == dom::element_type::UINT64 || e->get_int64().value_unsafe() > range.max;
  if (!below && !above) return e->get_int64().value_unsafe();
  if (!range.outside.empty())
    add_error(key, std::string(range.outside));
  else if (below)
    impl_->type_error(key, "must be at least " + std::to_string(range.min) + ".");
  else
    impl_->type_error(key, "may not be greater than " + std::to_string(range.max) + ".");
  return std::nullopt;
}

std::optional<double> json_reader::number(std::string_view key) {
  auto e = impl_->find(key);
  if (!e || e->is_null()) return std::nullopt;
  if (!e->is_number()) {
    impl_->type_error(key, "must be a number.");
    return std::nullopt;
  }
  auto d = e->get_double();
  if (d.error()) {
    impl_->type_error(key, "must be a number.");
    return std::nullopt;
  }
  return d.value_unsafe();
}

std::optional<bool> json_reader::boolean(std::string_view key) {
  auto e = impl_->find(key);
  if (!e || e->is_null()) return std::nullopt;
  if (!e->is_bool()) {
    impl_->type_error(key, "field must be true or false.");
    return std::nullopt;
  }
  return e->get_bool().value_unsafe();
}

std::optional<json_reader> json_reader::object(std::string_view key) {
  auto e = impl_->find(key);
  if (!e || e->is_null()) return std::nullopt;
  if (!e->is_object()) {
    impl_->type_error(key, "must be an object.");
    return std::nullopt;
  }
  auto nested = std::make_unique<impl>();
  nested->doc = impl_->doc;
  nested->object = e->get_object().value_unsafe();
  nested->path = impl_->full_path(key);
  return json_reader(std::move(nested));
}

const std::string& json_reader::path() const {
  return impl_->path;
}

const domain::field_errors& json_reader::errors() const {
  return impl_->doc->errors;
}

domain::field_errors json_reader::take_errors() {
  return std::exchange(impl_->doc->errors, {});
}

void json_reader::add_error(std::string_view key, std::string message) {
  impl_->doc->errors[impl_->full_path(key)].push_back(std::move(message));
}

boost::system::result<json_reader, problem> parse_json_body(std::string_view content_type,
                                                            std::string_view body) {
  if (!is_json_media_type(content_type)) {
    return make_problem(problem_code::unsupported_media_type,
                        "The request body must be sent as Content-Type: application/json.");
  }
  auto& slot = thread_slot();
  ++slot.generation;  // any reader of the previous document is now stale
  auto parsed = parse_in(slot, body);
  if (parsed.error() == simdjson::NUMBER_ERROR) {
    if (auto clamped = clamp_big_integers(body)) parsed = parse_in(slot, *clamped);
  }
  if (parsed.error()) {
    return make_problem(problem_code::bad_request, parse_failure_detail(parsed.error()));
  }
  dom::element root = parsed.value_unsafe();
  if (!root.is_object()) {
    return make_problem(problem_code::bad_request, "The request body must be a JSON object.");
  }
  if (auto dup = find_duplicate_key(root)) {
    return make_problem(problem_code::bad_request, "The request body has the key '" +
                                                       detail::shorten(*dup) + "' more than once.");
  }
  auto state = std::make_shared<document_state>();
  state->slot = &slot;
  state->generation = slot.generation;
  auto top = std::make_unique<json_reader::impl>();
  top->doc = std::move(state);
  top->object = root.get_object().value_unsafe();
  return json_reader(std::move(top));
}

boost::system::result<json_reader, problem> parse_json_body(const request& req) {
  auto it = req.find(http::field::content_type);
  std::string_view ct = it == req.end() ? std::string_view{} : std::string_view(it->value());
  return parse_json_body(ct, req.body());
}

domain::raw_profile read_profile(json_reader& body) {
  domain::raw_profile raw;
  raw.name = body.string("name");
  raw.plan = body.string("plan");
  raw.admin_email = body.string("admin_email");
  raw.domain = body.string("domain");
  raw.address = body.string("address");
  raw.city = body.string("city");
  raw.country_code = body.string("country_code");
  raw.post_code = body.string("post_code");
  raw.description = body.string("description");
  raw.group_id = body.string("group_id");
  raw.group_name = body.string("group_name");
  if (auto settings = body.object("settings")) {
    raw.timezone = settings->string("timezone");
    raw.locale = settings->string("locale");
    raw.max_seats = settings->integer("max_seats",
                                      {.min = domain::max_seats_min, .max = domain::max_seats_max});
  }
  raw.type_errors = body.take_errors();
  return raw;
}

boost::system::result<domain::raw_profile, problem> read_profile(const request& req) {
  auto body = parse_json_body(req);
  if (!body) return body.error();
  return read_profile(*body);
}

}  // namespace tenant::api
