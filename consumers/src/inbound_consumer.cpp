// The inbound consumer loop (inbound.hpp): poll, handle, dead-letter or retry, store the offset
// of what is done; librdkafka's auto-commit writes only stored offsets, so a commit never covers
// a record that was not processed.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "rdkafka.hpp"
#include "tenant/consumers/inbound.hpp"

namespace tenant::consumers {

namespace {

class consumer_impl final : public inbound_consumer {
 public:
  consumer_impl(consumer_config c, message_handler h)
      : config_(std::move(c)), handler_(std::move(h)) {
    if (config_.dlq_topic.empty()) config_.dlq_topic = dlq_topic(config_.topic);
  }

  ~consumer_impl() override { stop(); }

  std::error_code init() {
    std::string error;
    client_properties cprops = {
        {"bootstrap.servers", config_.bootstrap_servers},
        {"client.id", "tenantd-" + config_.topic},
        {"group.id", config_.group_id},
        {"auto.offset.reset", "earliest"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", std::to_string(config_.commit_interval.count())},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        // A restarted member rejoins after about this long on the embedded broker (the mock
        // cluster waits one session timeout for the previous members); 45 s by default.
        {"session.timeout.ms", "10000"},
    };
    cprops.insert(cprops.end(), config_.consumer_properties.begin(),
                  config_.consumer_properties.end());
    auto conf = detail::make_conf(cprops, error);
    if (!conf) return fail(conf.error(), error);
    auto consumer = detail::make_consumer(std::move(*conf), error);
    if (!consumer) return fail(consumer.error(), error);
    consumer_ = std::move(*consumer);

    client_properties pprops = {
        {"bootstrap.servers", config_.bootstrap_servers},
        {"client.id", "tenantd-" + config_.dlq_topic},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.max.bytes", "4194304"},
    };
    pprops.insert(pprops.end(), config_.producer_properties.begin(),
                  config_.producer_properties.end());
    auto pconf = detail::make_conf(pprops, error);
    if (!pconf) return fail(pconf.error(), error);
    auto producer = detail::make_producer(std::move(*pconf), error);
    if (!producer) return fail(producer.error(), error);
    dlq_ = std::move(*producer);

    detail::partition_list_ptr topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), config_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const auto err = rd_kafka_subscribe(consumer_.get(), topics.get()))
      return fail(detail::to_error(err), rd_kafka_err2str(err));
    running_ = true;
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "kafka-inbound");
      run();
    });
    return {};
  }

  consumer_status status() const override {
    consumer_status s;
    s.topic = config_.topic;
    s.group_id = config_.group_id;
    s.running = running_.load();
    s.processed = processed_.load();
    s.dead_lettered = dead_lettered_.load();
    s.retries = retries_.load();
    std::lock_guard lk(error_mu_);
    s.last_error = last_error_;
    return s;
  }

  void stop() override {
    {
      std::lock_guard lk(wake_mu_);
      stop_requested_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    // Leaves the group; with auto-commit on, the stored offsets are committed first.
    consumer_.reset();
    dlq_.reset();
    running_ = false;
  }

 private:
  std::error_code fail(std::error_code ec, const std::string& detail) {
    spdlog::error("kafka consumer {}: {}", config_.topic, detail);
    set_error(detail);
    return ec;
  }

  void set_error(std::string e) {
    std::lock_guard lk(error_mu_);
    last_error_ = std::move(e);
  }

  bool stopping() {
    std::lock_guard lk(wake_mu_);
    return stop_requested_;
  }

  void sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lk(wake_mu_);
    wake_.wait_for(lk, d, [this] { return stop_requested_; });
  }

  void store_offset(const rd_kafka_message_t* m) {
    detail::partition_list_ptr l(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(l.get(), rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    if (const auto err = rd_kafka_offsets_store(consumer_.get(), l.get()))
      // The partition was revoked meanwhile: its new owner re-reads the record (at least once).
      spdlog::warn("kafka consumer {}: storing offset {}: {}", config_.topic, m->offset,
                   rd_kafka_err2str(err));
  }

  // Copies the record to the DLQ with the reason; true once the broker acknowledged it.
  bool dead_letter(const rd_kafka_message_t* m, const rejection& why) {
    if (!config_.dead_letters) return true;  // skipped (logged by the caller)
    rd_kafka_headers_t* original = nullptr;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &original) == RD_KAFKA_RESP_ERR_NO_ERROR && original)
      hdrs = rd_kafka_headers_copy(original);
    else
      hdrs = rd_kafka_headers_new(5);
    const auto add = [&](std::string_view name, const std::string& v) {
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    };
    add(dlq_reason_header, why.code);
    add(dlq_detail_header, why.detail.substr(0, 1024));
    add(dlq_topic_header, config_.topic);
    add(dlq_partition_header, std::to_string(m->partition));
    add(dlq_offset_header, std::to_string(m->offset));
    const auto key = detail::key_of(m);
    const auto value = detail::value_of(m);
    auto err = rd_kafka_producev(
        dlq_.get(), RD_KAFKA_V_TOPIC(config_.dlq_topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
        RD_KAFKA_V_VALUE(value.empty() ? nullptr : const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err) {
      rd_kafka_headers_destroy(hdrs);
      set_error(std::string("dead-letter produce: ") + rd_kafka_err2str(err));
      return false;
    }
    err = rd_kafka_flush(dlq_.get(), detail::to_ms(config_.dlq_timeout));
    if (err) {
      // Not acknowledged in time: the record stays queued and may still arrive; retrying may
      // copy it twice, which a DLQ reader tolerates better than a lost one.
      set_error(std::string("dead-letter delivery: ") + rd_kafka_err2str(err));
      return false;
    }
    return true;
  }

  // Handles one record until it is done, dead-lettered, or the consumer stops.
  void handle(const rd_kafka_message_t* m) {
    inbound_message msg;
    msg.topic = config_.topic;
    msg.key = detail::key_of(m);
    msg.value = detail::value_of(m);
    msg.partition = m->partition;
    msg.offset = m->offset;
    auto backoff = config_.retry_backoff;
    while (!stopping()) {
      handling h;
      try {
        h = handler_(msg);
      } catch (const std::exception& e) {
        // Handlers return errors as values; a throw is a bug that retrying will not fix.
        h = handling::dead_letter("internal_error", e.what());
      }
      if (h.result == handling::kind::done) {
        store_offset(m);
        processed_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (h.result == handling::kind::dead_letter) {
        if (dead_letter(m, h.why)) {
          spdlog::warn("kafka consumer {}: record {}/{} {}: {}: {}", config_.topic, m->partition,
                       m->offset, config_.dead_letters ? "dead-lettered" : "skipped", h.why.code,
                       h.why.detail);
          store_offset(m);
          dead_lettered_.fetch_add(1, std::memory_order_relaxed);
          return;
        }
      } else {
        set_error(h.why.detail);
      }
      retries_.fetch_add(1, std::memory_order_relaxed);
      sleep_for(backoff);
      backoff = std::min(backoff * 2, config_.retry_backoff_max);
    }
  }

  void run() {
    while (!stopping()) {
      detail::message_ptr m(rd_kafka_consumer_poll(consumer_.get(), 100));
      if (dlq_) rd_kafka_poll(dlq_.get(), 0);
      if (!m) continue;
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          spdlog::debug("kafka consumer {}: {}", config_.topic, rd_kafka_message_errstr(m.get()));
        }
        continue;
      }
      handle(m.get());
    }
  }

  consumer_config config_;
  message_handler handler_;
  detail::consumer_ptr consumer_;
  detail::producer_ptr dlq_;
  std::thread thread_;

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_requested_ = false;

  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> processed_{0};
  std::atomic<std::uint64_t> dead_lettered_{0};
  std::atomic<std::uint64_t> retries_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace

result<std::unique_ptr<inbound_consumer>> start_consumer(consumer_config config,
                                                         message_handler handler) {
  if (config.bootstrap_servers.empty() || config.topic.empty() || config.group_id.empty() ||
      !handler)
    return make_error_code(errc::invalid_argument);
  auto c = std::make_unique<consumer_impl>(std::move(config), std::move(handler));
  if (auto ec = c->init()) return ec;
  return std::unique_ptr<inbound_consumer>(std::move(c));
}

}  // namespace tenant::consumers
