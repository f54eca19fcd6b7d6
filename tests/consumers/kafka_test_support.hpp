#pragma once
// Helpers of the Kafka tests: an embedded broker per test, synchronous appends, bounded waits,
// and a raw librdkafka reader that returns every record of a topic (duplicates included) so the
// tests check what is on the wire independently of the module's own consumers.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tenant/consumers/embedded_broker.hpp"
#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::consumers::test {

/// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("tenant-kafka-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// Polls `pred` every 10 ms until it holds or `limit` passes (a liveness bound, not a timing
/// assertion: generous on purpose).
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

inline std::unique_ptr<embedded_broker> start_broker(int brokers = 1) {
  embedded_broker_options o;
  o.brokers = brokers;
  auto b = embedded_broker::start(o);
  if (!b) return nullptr;
  return std::move(*b);
}

inline std::string tenant_of(int i) {
  return domain::tenant_id::from_uuid(domain::uuid::derived("tenant-" + std::to_string(i))).str();
}

inline std::string unique_event_id() {
  static std::atomic<std::uint64_t> n{0};
  std::random_device rd;
  return domain::uuid::derived("event-" + std::to_string(rd()) + "-" + std::to_string(++n))
      .to_string();
}

/// Appends one event of `type` to `stream` and waits for the outcome.
inline eventstore::append_outcome append_one(eventstore::event_store& s, const std::string& stream,
                                             std::string type = "TenantUpdated",
                                             std::string data = R"({"n":1})") {
  eventstore::append_request r;
  r.stream_id = stream;
  r.tenant_id = stream;
  r.expected = eventstore::expected_version::any();
  eventstore::proposed_event e;
  e.event_id = unique_event_id();
  e.type = std::move(type);
  e.data_json = std::move(data);
  e.occurred_at = domain::clock_time(std::chrono::milliseconds(1'767'000'000'123));
  r.events.push_back(std::move(e));
  r.metadata.correlation_id = "corr";
  r.metadata.actor = "tester";
  std::promise<eventstore::append_outcome> p;
  auto f = p.get_future();
  s.append(std::move(r), [&p](eventstore::append_outcome o) { p.set_value(std::move(o)); });
  return f.get();
}

/// Appends `per_tenant` events to each of `tenants` tenants, interleaved.
inline void append_interleaved(eventstore::event_store& s, int tenants, int per_tenant) {
  for (int v = 0; v < per_tenant; ++v)
    for (int t = 0; t < tenants; ++t)
      append_one(s, tenant_of(t));
}

struct record {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp = 0;
};

/// Every record of `topic` (all partitions, from the beginning), in partition-then-offset order,
/// read until `count` records arrived or `limit` passed.
inline std::vector<record> read_topic(const std::string& bootstrap, const std::string& topic,
                                      std::size_t count,
                                      std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  std::vector<record> out;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) return out;
  rd_kafka_poll_set_consumer(rk);
  // Manual assignment of every partition from the beginning: no group rebalance to wait for.
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  int partitions = 0;
  if (rd_kafka_metadata(rk, 0, t, &md, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i)
      if (topic == md->topics[i].topic) partitions = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(t);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      record r;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      r.partition = m->partition;
      r.offset = m->offset;
      r.timestamp = rd_kafka_message_timestamp(m, nullptr);
      rd_kafka_headers_t* h = nullptr;
      if (!rd_kafka_message_headers(m, &h) && h) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &size); ++i)
          r.headers[name] = val ? std::string(static_cast<const char*>(val), size) : "";
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::stable_sort(out.begin(), out.end(), [](const record& a, const record& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return out;
}

/// Produces one record with a plain librdkafka producer (test input for the consumers).
inline bool produce(const std::string& bootstrap, const std::string& topic, const std::string& key,
                    const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) return false;
  rd_kafka_headers_t* h = rd_kafka_headers_new(headers.size() + 1);
  for (const auto& [n, v] : headers)
    rd_kafka_header_add(h, n.c_str(), -1, v.data(), v.size());
  auto e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key.data(), key.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                             RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
  if (e) rd_kafka_headers_destroy(h);
  const bool ok = !e && rd_kafka_flush(rk, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_destroy(rk);
  return ok;
}

}  // namespace tenant::consumers::test
