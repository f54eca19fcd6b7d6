#pragma once
// RAII over librdkafka's C API. Every handle is a unique_ptr with the matching destroy function,
// so an early return never leaks a handle, and a consumer is closed (leaves its group, commits
// nothing implicitly) before it is destroyed.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenant/consumers/errors.hpp"
#include "tenant/consumers/kafka.hpp"
#include "tenant/domain/types.hpp"

namespace tenant::consumers::detail {

struct conf_deleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct producer_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
/// A high-level consumer must leave its group before it is destroyed.
struct consumer_deleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
struct topic_deleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct message_deleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct headers_deleter {
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};

using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using producer_ptr = std::unique_ptr<rd_kafka_t, producer_deleter>;
using consumer_ptr = std::unique_ptr<rd_kafka_t, consumer_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, headers_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;

/// A configuration with librdkafka's log routed to spdlog (logger "kafka" when registered, else
/// the default logger) and `props` applied in order; the first refused property makes it fail
/// (errc::invalid_config, the reason in `error`).
result<conf_ptr> make_conf(const client_properties& props, std::string& error);

/// rd_kafka_new for a producer; takes the configuration (also on failure).
result<producer_ptr> make_producer(conf_ptr conf, std::string& error);
/// rd_kafka_new for a high-level consumer with its queue redirected to the consumer queue.
result<consumer_ptr> make_consumer(conf_ptr conf, std::string& error);

/// The value of the last header called `name`, if any.
std::optional<std::string_view> header(const rd_kafka_message_t* m, const char* name);

std::string_view key_of(const rd_kafka_message_t* m);
std::string_view value_of(const rd_kafka_message_t* m);

/// Partition count of `topic`, asking the cluster (blocking up to `timeout`).
result<int> partition_count(rd_kafka_t* rk, const std::string& topic,
                            std::chrono::milliseconds timeout);

/// Maps a librdkafka error to this module's errc.
std::error_code to_error(rd_kafka_resp_err_t err);

/// Milliseconds as librdkafka wants them (saturating int).
int to_ms(std::chrono::milliseconds d);

/// Room for ce_time: 24 characters for years 0000-9999, up to 26 for any other year.
inline constexpr std::size_t ce_time_capacity = 32;

/// The ce_time header value (kafka.hpp event_headers()): domain::format_time's text
/// ("2026-01-15T09:30:00.123Z"), written into `out` without snprintf or an allocation; it runs
/// once per published record. Returns the written part of `out`.
std::string_view format_ce_time(domain::clock_time t, char (&out)[ce_time_capacity]);

}  // namespace tenant::consumers::detail
