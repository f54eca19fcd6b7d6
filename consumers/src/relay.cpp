// The outbox relay (relay.hpp). One thread owns the producer, the subscription and the window
// of in-flight positions; delivery reports are served by rd_kafka_poll on that same thread, so
// the window needs no lock. status() reads atomics and a mutex-guarded error string.
#include "tenant/consumers/relay.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "rdkafka.hpp"

namespace tenant::consumers {

namespace {

using steady = std::chrono::steady_clock;

enum class slot : std::uint8_t { in_flight, acknowledged, failed };

// The relay's producer defaults; relay_config::producer_properties come after and win.
client_properties producer_defaults(const relay_config& c) {
  return {
      {"bootstrap.servers", c.bootstrap_servers},
      {"client.id", "tenantd-relay"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Records never expire: during an outage the backlog waits for the broker, it is not lost.
      {"message.timeout.ms", "0"},
      {"linger.ms", "5"},
      // Envelopes carry up to 1 MiB of data plus the envelope fields.
      {"message.max.bytes", "4194304"},
      // librdkafka's own queue bounds the window only as a backstop; max_in_flight is the bound.
      {"queue.buffering.max.messages", std::to_string(c.max_in_flight + 1024)},
      {"topic.metadata.refresh.interval.ms", "10000"},
  };
}

class relay_impl final : public relay {
 public:
  relay_impl(eventstore::event_store& store, relay_config config, std::uint64_t checkpoint)
      : store_(store), config_(std::move(config)) {
    base_ = checkpoint;
    acknowledged_ = checkpoint;
    stored_ = checkpoint;
  }

  ~relay_impl() override { stop(); }

  std::error_code init() {
    if (auto ec = make_producer()) return ec;
    sub_ = store_.subscribe(base_);
    running_ = true;
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "kafka-relay");
      run();
    });
    return {};
  }

  relay_status status() const override {
    relay_status s;
    s.bootstrap_servers = config_.bootstrap_servers;
    s.topic = config_.topic;
    s.running = running_.load();
    s.kafka_reachable = reachable_.load();
    s.head = store_.head();
    s.acknowledged = acknowledged_.load();
    s.checkpoint = stored_.load();
    s.lag = s.head > s.acknowledged ? s.head - s.acknowledged : 0;
    s.in_flight = in_flight_.load();
    s.published = published_.load();
    s.delivery_errors = delivery_errors_.load();
    s.restarts = restarts_.load();
    std::lock_guard lk(error_mu_);
    s.last_error = last_error_;
    return s;
  }

  void stop() override {
    {
      std::lock_guard lk(wake_mu_);
      stop_requested_ = true;
      if (sub_) sub_->cancel();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    running_ = false;
  }

 private:
  // ---- producer ----

  std::error_code make_producer() {
    auto props = producer_defaults(config_);
    props.insert(props.end(), config_.producer_properties.begin(),
                 config_.producer_properties.end());
    std::string error;
    auto conf = detail::make_conf(props, error);
    if (!conf) {
      spdlog::error("kafka relay: {}", error);
      set_error(error);
      return conf.error();
    }
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &relay_impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf->get(), &relay_impl::on_error);
    auto p = detail::make_producer(std::move(*conf), error);
    if (!p) {
      spdlog::error("kafka relay: {}", error);
      set_error(error);
      return p.error();
    }
    producer_ = std::move(*p);
    topic_.reset(rd_kafka_topic_new(producer_.get(), config_.topic.c_str(), nullptr));
    if (!topic_) {
      producer_.reset();
      return make_error_code(errc::invalid_argument);
    }
    return {};
  }

  // Purges what is queued or in flight, waits (bounded) for the purge reports, destroys.
  void destroy_producer() {
    if (!producer_) return;
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto deadline = steady::now() + config_.stop_timeout;
    while (rd_kafka_outq_len(producer_.get()) > 0 && steady::now() < deadline)
      poll(20);
    advance();
    topic_.reset();
    producer_.reset();
  }

  // Delivery reports, on the relay thread (inside rd_kafka_poll).
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<relay_impl*>(opaque)->delivered(m);
  }

  void delivered(const rd_kafka_message_t* m) {
    const auto pos = reinterpret_cast<std::uintptr_t>(m->_private);
    if (pos <= base_ || pos > base_ + window_.size()) return;  // a purged earlier generation
    auto& s = window_[pos - base_ - 1];
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      s = slot::acknowledged;
      ++delivered_;  // published_ and the reachability proof follow once per poll()
      return;
    }
    s = slot::failed;
    // Earlier successes of this poll first, as if each were accounted as it came: the error set
    // below must outlive the proof they bring, not be cleared by it at the end of the poll.
    account_deliveries();
    // A purge is ours (restart or stop): not a refusal by the cluster.
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
      return;
    delivery_errors_.fetch_add(1, std::memory_order_relaxed);
    const std::string what = "delivery of position " + std::to_string(pos) +
                             " failed: " + rd_kafka_err2name(m->err) + ": " +
                             rd_kafka_err2str(m->err);
    if (!restart_needed_) spdlog::warn("kafka relay: {}", what);
    set_error(what);
    restart_needed_ = true;
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<relay_impl*>(opaque);
    const auto e = static_cast<rd_kafka_resp_err_t>(err);
    if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->reachable_ = false;
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(rk, buf, sizeof buf);
      self->set_error(std::string("fatal producer error: ") + buf);
      self->restart_needed_ = true;  // atomic: error callbacks may come from another thread
      spdlog::error("kafka relay: fatal producer error: {}", buf);
      return;
    }
    spdlog::debug("kafka relay: {}: {}", rd_kafka_err2name(e), reason);
  }

  // rd_kafka_poll, then what the successful deliveries it served prove, once per poll rather than
  // once per record (a clock read and atomic stores per record showed in profiles).
  void poll(int timeout_ms) {
    rd_kafka_poll(producer_.get(), timeout_ms);
    account_deliveries();
  }

  void account_deliveries() {
    if (delivered_ == 0) return;
    published_.fetch_add(delivered_, std::memory_order_relaxed);
    delivered_ = 0;
    prove_reachable();
  }

  void prove_reachable() {
    reachable_ = true;
    last_proof_ = steady::now();
    if (had_error_.load(std::memory_order_relaxed)) {
      std::lock_guard lk(error_mu_);
      last_error_.clear();
      had_error_ = false;
    }
  }

  void set_error(std::string e) {
    std::lock_guard lk(error_mu_);
    last_error_ = std::move(e);
    had_error_ = true;
  }

  // ---- the window ----

  void advance() {
    while (!window_.empty() && window_.front() == slot::acknowledged) {
      window_.pop_front();
      ++base_;
    }
    acknowledged_ = base_;
    in_flight_ = window_.size();
  }

  void store_checkpoint(bool force) {
    if (base_ <= stored_) return;
    const auto now = steady::now();
    if (!force && now - last_store_ < config_.checkpoint_interval) return;
    last_store_ = now;
    if (auto ec = store_.store_checkpoint(config_.checkpoint_name, base_)) {
      set_error("storing the relay checkpoint failed: " + ec.message());
      return;
    }
    stored_ = base_;
  }

  void probe() {
    const auto now = steady::now();
    if (now - last_proof_ < config_.probe_interval || now - last_probe_ < config_.probe_interval)
      return;
    last_probe_ = now;
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(producer_.get(), 0, topic_.get(), &md, 500);
    if (md) rd_kafka_metadata_destroy(md);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      reachable_ = true;
      last_proof_ = steady::now();
    } else {
      reachable_ = false;
    }
  }

  // The headers of kafka.hpp's event_headers(), built without intermediate strings (this runs
  // once per record; the relay test checks what arrives on the wire).
  static rd_kafka_headers_t* make_headers(const eventstore::recorded_event& e,
                                          std::string_view key) {
    rd_kafka_headers_t* h = rd_kafka_headers_new(9);
    const auto add = [h](std::string_view name, std::string_view value) {
      rd_kafka_header_add(h, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    };
    char position[24], version[24], time[detail::ce_time_capacity];
    const auto p_end = std::to_chars(position, position + sizeof position, e.position).ptr;
    const auto v_end = std::to_chars(version, version + sizeof version, e.version).ptr;
    add("ce_specversion", "1.0");
    add("ce_id", e.event_id);
    add("ce_type", e.type);
    add("ce_source", "/tenants");
    add("ce_subject", key);
    add("ce_time", detail::format_ce_time(e.occurred_at, time));
    add("content-type", "application/json");
    add("position", std::string_view(position, static_cast<std::size_t>(p_end - position)));
    add("version", std::string_view(version, static_cast<std::size_t>(v_end - version)));
    return h;
  }

  // Produces pending events in order while the window has room. False when librdkafka's queue
  // is full (poll, then retry) or the record cannot be produced now.
  bool produce_pending() {
    while (next_pending_ < pending_.size() && window_.size() < config_.max_in_flight) {
      const auto& e = pending_[next_pending_];
      if (e.position != base_ + window_.size() + 1) {
        set_error("the log subscription skipped from " + std::to_string(base_ + window_.size()) +
                  " to " + std::to_string(e.position));
        restart_needed_ = true;
        return false;
      }
      const auto key = event_key(e);
      rd_kafka_headers_t* hdrs = make_headers(e, key);
      const auto ts = e.occurred_at.time_since_epoch().count();
      const auto err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_RKT(topic_.get()),
          RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(e.envelope_json.data()), e.envelope_json.size()),
          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(ts),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(e.position))),
          RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(hdrs);  // ownership passes only on success
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;
        const std::string what = "producing position " + std::to_string(e.position) +
                                 " failed: " + rd_kafka_err2name(err) + ": " +
                                 rd_kafka_err2str(err);
        spdlog::warn("kafka relay: {}", what);
        set_error(what);
        // A record too large (or any local refusal) is never skipped: retry after the backoff.
        restart_needed_ = true;
        return false;
      }
      window_.push_back(slot::in_flight);
      ++next_pending_;
    }
    in_flight_ = window_.size();
    if (next_pending_ == pending_.size()) {
      pending_.clear();
      next_pending_ = 0;
    }
    return true;
  }

  // Waits for `d` unless stop() is called.
  void sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lk(wake_mu_);
    wake_.wait_for(lk, d, [this] { return stop_requested_; });
  }

  bool stopping() {
    std::lock_guard lk(wake_mu_);
    return stop_requested_;
  }

  // After a refusal: drop the producer (purging what is in flight), resume from the
  // acknowledged prefix with a new producer and a new subscription.
  void restart() {
    destroy_producer();
    store_checkpoint(true);
    window_.clear();
    pending_.clear();
    next_pending_ = 0;
    in_flight_ = 0;
    restarts_.fetch_add(1, std::memory_order_relaxed);
    sleep_for(config_.retry_backoff);
    if (stopping()) return;
    if (make_producer()) return;  // retried after the next backoff
    restart_needed_ = false;
    std::lock_guard lk(wake_mu_);
    if (stop_requested_) return;
    sub_ = store_.subscribe(base_);
    spdlog::info("kafka relay: resuming after position {}", base_);
  }

  void run() {
    last_proof_ = steady::now() - config_.probe_interval;  // probe at once
    while (!stopping()) {
      if (restart_needed_ || !producer_) {
        restart();
        continue;
      }
      poll(0);
      advance();
      store_checkpoint(window_.empty());
      probe();
      if (restart_needed_) continue;

      if (next_pending_ < pending_.size()) {
        if (!produce_pending()) poll(10);
        continue;
      }
      if (window_.size() >= config_.max_in_flight) {
        poll(50);  // backpressure: the log waits
        continue;
      }
      // Idle: block on the log. With records in flight, wait briefly so that delivery reports
      // (served by rd_kafka_poll above) advance the checkpoint promptly.
      const auto wait =
          window_.empty() ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2);
      const std::size_t room = config_.max_in_flight - window_.size();
      auto batch = sub_->next(std::min(config_.read_batch, room), wait);
      if (!batch) {
        set_error("reading the log failed: " + batch.error().message());
        sleep_for(config_.retry_backoff);
        continue;
      }
      if (batch->empty()) continue;
      pending_ = std::move(*batch);
      next_pending_ = 0;
      if (!produce_pending()) poll(10);
    }
    // Stopping: let what is in flight complete (bounded; not at all when Kafka is known to be
    // away: the records are in the log and the next start re-sends them).
    if (producer_) {
      const auto deadline = steady::now() + config_.stop_timeout;
      while (!window_.empty() && reachable_ && steady::now() < deadline) {
        poll(20);
        advance();
        if (restart_needed_) break;
      }
      destroy_producer();
    }
    advance();
    store_checkpoint(true);
  }

  eventstore::event_store& store_;
  const relay_config config_;

  // Relay thread only.
  detail::producer_ptr producer_;
  detail::topic_ptr topic_;
  std::uint64_t base_ = 0;   // acknowledged prefix: window_[0] is position base_ + 1
  std::deque<slot> window_;  // produced positions base_+1 .. base_+size
  std::vector<eventstore::recorded_event> pending_;  // read from the log, not yet produced
  std::size_t next_pending_ = 0;
  std::uint64_t delivered_ = 0;  // successful deliveries served by the current poll()
  steady::time_point last_store_{};
  steady::time_point last_probe_{};
  steady::time_point last_proof_{};
  std::thread thread_;

  // Shared with stop().
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_requested_ = false;
  std::unique_ptr<eventstore::subscription> sub_;  // replaced under wake_mu_

  // Read by status().
  std::atomic<bool> running_{false};
  std::atomic<bool> reachable_{false};
  std::atomic<bool> restart_needed_{false};
  std::atomic<std::uint64_t> acknowledged_{0};
  std::atomic<std::uint64_t> stored_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> delivery_errors_{0};
  std::atomic<std::uint64_t> restarts_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
  std::atomic<bool> had_error_{false};  // written under error_mu_; read first without it
};

}  // namespace

result<std::unique_ptr<relay>> start_relay(eventstore::event_store& store, relay_config config) {
  if (config.bootstrap_servers.empty() || config.topic.empty() || config.checkpoint_name.empty() ||
      config.max_in_flight == 0 || config.read_batch == 0)
    return make_error_code(errc::invalid_argument);
  auto cp = store.load_checkpoint(config.checkpoint_name);
  if (!cp) return cp.error();
  auto r = std::make_unique<relay_impl>(store, std::move(config), cp->value_or(0));
  if (auto ec = r->init()) return ec;
  return std::unique_ptr<relay>(std::move(r));
}

}  // namespace tenant::consumers
