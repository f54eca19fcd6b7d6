#include "tenant/consumers/kafka.hpp"

namespace tenant::consumers {

std::string dlq_topic(std::string_view topic) {
  std::string out(topic);
  out += ".dlq";
  return out;
}

std::string_view event_key(const eventstore::recorded_event& e) {
  return e.tenant_id.empty() ? std::string_view(e.stream_id) : std::string_view(e.tenant_id);
}

std::vector<message_header> event_headers(const eventstore::recorded_event& e) {
  std::vector<message_header> h;
  h.reserve(9);
  h.push_back({"ce_specversion", "1.0"});
  h.push_back({"ce_id", e.event_id});
  h.push_back({"ce_type", e.type});
  h.push_back({"ce_source", "/tenants"});
  h.push_back({"ce_subject", std::string(event_key(e))});
  h.push_back({"ce_time", domain::format_time(e.occurred_at)});
  h.push_back({"content-type", "application/json"});
  h.push_back({"position", std::to_string(e.position)});
  h.push_back({"version", std::to_string(e.version)});
  return h;
}

}  // namespace tenant::consumers
