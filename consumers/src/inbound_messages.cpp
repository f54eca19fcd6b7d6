// Parsing of the inbound records (billing.events, tenant.usage) and the handlers that turn them
// into commands and usage writes. Pure apart from the executor / writer they are given.
#include <simdjson.h>

#include <limits>
#include <stdexcept>

#include "tenant/consumers/inbound.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::consumers {

void throw_exception_from_error(const rejection& r, const boost::source_location&) {
  throw std::invalid_argument(r.code + ": " + r.detail);
}

namespace {

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

rejection invalid(std::string detail) {
  return {"invalid_message", std::move(detail)};
}

// The members of a JSON object value, with the type checks every message shares. Absent and
// null are the same for optional members.
class fields {
 public:
  explicit fields(simdjson::dom::object o) : obj_(o) {}

  // nullopt when absent or null; error text when of another type.
  std::optional<std::string> string(std::string_view key, std::string& error) const {
    simdjson::dom::element e;
    if (obj_[key].get(e) || e.is_null()) return std::nullopt;
    std::string_view v;
    if (e.get_string().get(v)) {
      error = std::string(key) + " must be a string";
      return std::nullopt;
    }
    return std::string(v);
  }

  std::optional<std::int64_t> integer(std::string_view key, std::string& error) const {
    simdjson::dom::element e;
    if (obj_[key].get(e) || e.is_null()) return std::nullopt;
    std::int64_t v = 0;
    if (e.get_int64().get(v)) {
      error = std::string(key) + " must be an integer";
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::uint64_t> unsigned_integer(std::string_view key, std::string& error) const {
    simdjson::dom::element e;
    if (obj_[key].get(e) || e.is_null()) return std::nullopt;
    std::uint64_t v = 0;
    if (e.get_uint64().get(v)) {
      error = std::string(key) + " must be a non-negative integer";
      return std::nullopt;
    }
    return v;
  }

 private:
  simdjson::dom::object obj_;
};

parse_result<simdjson::dom::object> parse_object(std::string_view value) {
  simdjson::dom::element root;
  if (thread_parser().parse(value.data(), value.size()).get(root))
    return rejection{"malformed_json", "the value is not valid JSON"};
  simdjson::dom::object obj;
  if (root.get_object().get(obj))
    return rejection{"malformed_json", "the value is not a JSON object"};
  return obj;
}

// tenant_id from the value (or the key when absent); the key, when given, must agree.
parse_result<domain::tenant_id> tenant_of(const fields& f, std::string_view key) {
  std::string error;
  auto text = f.string("tenant_id", error);
  if (!error.empty()) return invalid(error);
  if (!text) {
    if (key.empty()) return invalid("tenant_id is required");
    text = std::string(key);
  }
  auto id = domain::tenant_id::parse(*text);
  if (!id) return invalid("tenant_id is not a tenant id (tn_<uuid>): " + text->substr(0, 80));
  if (!key.empty()) {
    auto k = domain::tenant_id::parse(key);
    if (!k || *k != *id) return rejection{"key_mismatch", "the record key differs from tenant_id"};
  }
  return *id;
}

}  // namespace

parse_result<billing_message> parse_billing_message(std::string_view key, std::string_view value) {
  auto obj = parse_object(value);
  if (!obj) return obj.error();
  const fields f(*obj);
  std::string error;
  billing_message m;
  const auto type = f.string("type", error);
  if (!error.empty()) return invalid(error);
  if (!type) return invalid("type is required");
  if (*type == "payment_failed")
    m.type = billing_message::kind::payment_failed;
  else if (*type == "payment_succeeded")
    m.type = billing_message::kind::payment_succeeded;
  else if (*type == "subscription_cancelled")
    m.type = billing_message::kind::subscription_cancelled;
  else
    return invalid("unknown type: " + type->substr(0, 80));
  auto tenant = tenant_of(f, key);
  if (!tenant) return tenant.error();
  m.tenant = std::move(*tenant);
  m.payment_id = f.string("payment_id", error).value_or("");
  m.amount_cents = f.integer("amount_cents", error).value_or(0);
  m.currency = f.string("currency", error).value_or("");
  m.reason = f.string("reason", error).value_or("");
  const auto occurred = f.string("occurred_at", error);
  if (!error.empty()) return invalid(error);
  if (occurred) {
    m.occurred_at = domain::parse_time(*occurred);
    if (!m.occurred_at) return invalid("occurred_at is not an RFC 3339 time");
  }
  if (m.type != billing_message::kind::subscription_cancelled && m.payment_id.empty())
    return invalid("payment_id is required");
  return m;
}

domain::command to_command(const billing_message& m) {
  if (m.type == billing_message::kind::subscription_cancelled)
    return domain::cancel_subscription{m.reason};
  domain::record_payment p;
  p.succeeded = m.type == billing_message::kind::payment_succeeded;
  p.payment_id = m.payment_id;
  p.amount_cents = m.amount_cents;
  p.currency = m.currency;
  p.reason = m.reason;
  return p;
}

parse_result<usage_report> parse_usage_report(std::string_view key, std::string_view value) {
  auto obj = parse_object(value);
  if (!obj) return obj.error();
  const fields f(*obj);
  std::string error;
  usage_report r;
  auto tenant = tenant_of(f, key);
  if (!tenant) return tenant.error();
  r.tenant = std::move(*tenant);
  const auto seats = f.unsigned_integer("seats_in_use", error);
  const auto storage = f.unsigned_integer("storage_bytes", error);
  const auto observed = f.string("observed_at", error);
  if (!error.empty()) return invalid(error);
  if (seats && *seats > std::numeric_limits<std::uint32_t>::max())
    return invalid("seats_in_use is too large");
  r.seats_in_use = static_cast<std::uint32_t>(seats.value_or(0));
  r.storage_bytes = storage.value_or(0);
  if (!observed) return invalid("observed_at is required");
  const auto t = domain::parse_time(*observed);
  if (!t) return invalid("observed_at is not an RFC 3339 time");
  r.observed_at = *t;
  return r;
}

// ---- handlers ----

message_handler make_billing_handler(command_executor execute) {
  return [execute = std::move(execute)](const inbound_message& msg) -> handling {
    auto parsed = parse_billing_message(msg.key, msg.value);
    if (!parsed) return handling::dead_letter(parsed.error().code, parsed.error().detail);
    const std::string where = std::string(msg.topic) + "/" + std::to_string(msg.partition) + "/" +
                              std::to_string(msg.offset);
    eventstore::event_metadata meta;
    meta.correlation_id = parsed->payment_id.empty() ? where : parsed->payment_id;
    meta.causation_id = "kafka:" + where;
    meta.actor = "system:billing";
    const auto out = execute(parsed->tenant, to_command(*parsed), meta);
    switch (out.result) {
      case command_outcome::status::applied:
      case command_outcome::status::no_op:
        return handling::done();
      case command_outcome::status::unavailable:
        return handling::retry(out.detail);
      case command_outcome::status::refused:
        break;
    }
    if (!out.error) return handling::dead_letter("domain_refused", "refused");
    const auto& e = *out.error;
    std::string detail = std::string(domain::to_code(e.code)) + ": " + e.detail;
    for (const auto& [field, messages] : e.fields)
      for (const auto& m : messages)
        detail += "; " + field + ": " + m;
    if (e.code == domain::errc::tenant_not_found)
      return handling::dead_letter("unknown_tenant", detail);
    if (e.code == domain::errc::validation_failed)
      return handling::dead_letter("invalid_message", detail);
    return handling::dead_letter("domain_refused", detail);
  };
}

message_handler make_usage_handler(usage_writer write, tenant_lookup exists) {
  return [write = std::move(write), exists = std::move(exists)](const inbound_message& msg) {
    auto parsed = parse_usage_report(msg.key, msg.value);
    if (!parsed) return handling::dead_letter(parsed.error().code, parsed.error().detail);
    if (exists) {
      auto found = exists(parsed->tenant);
      if (!found) return handling::retry("tenant lookup: " + found.error().message());
      if (!*found) return handling::dead_letter("unknown_tenant", parsed->tenant.str());
    }
    auto stored = write(*parsed);
    if (!stored) return handling::retry("usage write: " + stored.error().message());
    return handling::done();
  };
}

message_handler make_usage_handler(projections::read_model& model, eventstore::event_store& store) {
  return make_usage_handler(
      [&model](const usage_report& r) -> eventstore::result<bool> {
        auto ok = model.apply_usage(r.tenant, r.seats_in_use, r.storage_bytes, r.observed_at);
        if (!ok) return {boost::system::in_place_error, ok.error()};
        return {boost::system::in_place_value, *ok};
      },
      [&store](const domain::tenant_id& id) -> eventstore::result<bool> {
        auto v = store.stream_version(id.str());
        if (!v) return {boost::system::in_place_error, v.error()};
        return {boost::system::in_place_value, *v > 0};
      });
}

}  // namespace tenant::consumers
