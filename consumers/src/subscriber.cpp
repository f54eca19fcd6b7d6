#include "tenant/consumers/subscriber.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <random>

#include "rdkafka.hpp"
#include "seen_ids.hpp"

namespace tenant::consumers {

namespace {

std::uint64_t parse_u64(std::optional<std::string_view> s) {
  std::uint64_t v = 0;
  if (!s || s->empty()) return 0;
  const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) return 0;
  return v;
}

std::string throwaway_group() {
  std::random_device rd;
  return "tenantctl-subscribe-" + std::to_string(rd()) + std::to_string(rd());
}

}  // namespace

struct event_subscriber::impl {
  subscriber_config config;
  detail::consumer_ptr consumer;
  detail::seen_ids seen;
  std::uint64_t duplicates = 0;
  std::uint64_t filtered = 0;

  explicit impl(const subscriber_config& c) : config(c), seen(c.dedupe_window) {}

  bool wanted(std::string_view type) const {
    if (config.types.empty()) return true;
    return std::find(config.types.begin(), config.types.end(), type) != config.types.end();
  }

  // Marks the record processed: its offset is committed (when committing at all).
  void done(const rd_kafka_message_t* m) {
    if (config.group_id.empty()) return;
    detail::partition_list_ptr l(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(l.get(), rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    rd_kafka_offsets_store(consumer.get(), l.get());
  }
};

result<std::unique_ptr<event_subscriber>> event_subscriber::open(const subscriber_config& c) {
  if (c.bootstrap_servers.empty() || c.topic.empty())
    return make_error_code(errc::invalid_argument);
  auto p = std::make_unique<impl>(c);
  const bool commit = !c.group_id.empty();
  client_properties props = {
      {"bootstrap.servers", c.bootstrap_servers},
      {"client.id", "tenantd-subscriber"},
      {"group.id", commit ? c.group_id : throwaway_group()},
      {"auto.offset.reset", c.from_beginning ? "earliest" : "latest"},
      {"enable.auto.commit", commit ? "true" : "false"},
      // Offsets are stored only once an event has been handed out (at least once).
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
  };
  props.insert(props.end(), c.consumer_properties.begin(), c.consumer_properties.end());
  std::string error;
  auto conf = detail::make_conf(props, error);
  if (!conf) {
    spdlog::error("subscriber: {}", error);
    return conf.error();
  }
  auto consumer = detail::make_consumer(std::move(*conf), error);
  if (!consumer) {
    spdlog::error("subscriber: {}", error);
    return consumer.error();
  }
  p->consumer = std::move(*consumer);
  detail::partition_list_ptr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), c.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (const auto err = rd_kafka_subscribe(p->consumer.get(), topics.get())) {
    spdlog::error("subscriber: subscribe to {}: {}", c.topic, rd_kafka_err2str(err));
    return detail::to_error(err);
  }
  return std::unique_ptr<event_subscriber>(new event_subscriber(std::move(p)));
}

event_subscriber::event_subscriber(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

event_subscriber::~event_subscriber() {
  close();
}

result<std::optional<received_event>> event_subscriber::next(std::chrono::milliseconds timeout) {
  if (!impl_->consumer) return make_error_code(errc::closed);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::optional<received_event>();
    detail::message_ptr m(rd_kafka_consumer_poll(impl_->consumer.get(), detail::to_ms(left)));
    if (!m) return std::optional<received_event>();
    if (m->err) {
      // Transient consumer errors (a broker away, a rebalance) are retried by librdkafka.
      spdlog::debug("subscriber: {}", rd_kafka_message_errstr(m.get()));
      continue;
    }
    const auto id = detail::header(m.get(), "ce_id");
    const auto type = detail::header(m.get(), "ce_type").value_or("");
    if (!impl_->wanted(type)) {
      ++impl_->filtered;
      impl_->done(m.get());
      continue;
    }
    if (id && !impl_->seen.insert(*id)) {
      ++impl_->duplicates;
      impl_->done(m.get());
      continue;
    }
    received_event e;
    e.key = detail::key_of(m.get());
    e.envelope = detail::value_of(m.get());
    e.event_id = id.value_or("");
    e.type = type;
    e.position = parse_u64(detail::header(m.get(), "position"));
    e.version = parse_u64(detail::header(m.get(), "version"));
    e.partition = m->partition;
    e.offset = m->offset;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
      const char* name = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      for (std::size_t i = 0;
           rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i)
        e.headers.push_back(
            {name, value ? std::string(static_cast<const char*>(value), size) : std::string()});
    }
    impl_->done(m.get());
    return std::optional<received_event>(std::move(e));
  }
}

std::uint64_t event_subscriber::duplicates() const {
  return impl_->duplicates;
}
std::uint64_t event_subscriber::filtered() const {
  return impl_->filtered;
}

void event_subscriber::close() {
  if (impl_) impl_->consumer.reset();  // consumer_deleter: close (final commit), destroy
}

}  // namespace tenant::consumers
