// The read-replica projector (replica.hpp). One thread: poll, buffer by position, append the
// contiguous prefix with the consumed offsets in the same batch.
#include "tenant/consumers/replica.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "rdkafka.hpp"
#include "tenant/eventstore/codec.hpp"

namespace tenant::consumers {

namespace {

struct held {
  eventstore::codec::envelope env;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

bool same_metadata(const eventstore::event_metadata& a, const eventstore::event_metadata& b) {
  return a.correlation_id == b.correlation_id && a.causation_id == b.causation_id &&
         a.actor == b.actor && a.traceparent == b.traceparent;
}

// Completion of a group of appends submitted together (handlers run on the store's writer).
struct completion {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t pending = 0;
  std::optional<eventstore::append_error> first_error;

  void done(const eventstore::append_outcome& o) {
    std::lock_guard lk(mu);
    if (!o && !first_error) first_error = o.error();
    if (--pending == 0) cv.notify_all();
  }
  void wait() {
    std::unique_lock lk(mu);
    cv.wait(lk, [this] { return pending == 0; });
  }
};

class replica_impl final : public replica {
 public:
  replica_impl(eventstore::event_store& store, replica_config c)
      : store_(store), config_(std::move(c)) {}

  ~replica_impl() override { stop(); }

  std::error_code init() {
    client_properties props = {
        {"bootstrap.servers", config_.bootstrap_servers},
        {"client.id", "tenantd-replica"},
        {"group.id", config_.group_id},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"auto.offset.reset", "earliest"},
    };
    props.insert(props.end(), config_.consumer_properties.begin(),
                 config_.consumer_properties.end());
    std::string error;
    auto conf = detail::make_conf(props, error);
    if (!conf) {
      spdlog::error("kafka replica: {}", error);
      return conf.error();
    }
    auto consumer = detail::make_consumer(std::move(*conf), error);
    if (!consumer) {
      spdlog::error("kafka replica: {}", error);
      return consumer.error();
    }
    consumer_ = std::move(*consumer);
    head_ = store_.head();
    position_ = head_;
    running_ = true;
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "replica");
      run();
    });
    return {};
  }

  replica_status status() const override {
    replica_status s;
    s.bootstrap_servers = config_.bootstrap_servers;
    s.topic = config_.topic;
    s.running = running_.load();
    s.kafka_reachable = reachable_.load();
    s.partitions = partitions_.load();
    s.position = position_.load();
    s.applied = applied_.load();
    s.duplicates = duplicates_.load();
    s.buffered = buffered_.load();
    s.waiting_for = s.buffered > 0 ? s.position + 1 : 0;
    s.invalid = invalid_.load();
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
    consumer_.reset();
    running_ = false;
  }

 private:
  void set_error(std::string e) {
    std::lock_guard lk(error_mu_);
    last_error_ = std::move(e);
  }
  void clear_error() {
    std::lock_guard lk(error_mu_);
    last_error_.clear();
  }
  bool stopping() {
    std::lock_guard lk(wake_mu_);
    return stop_requested_;
  }
  void sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lk(wake_mu_);
    wake_.wait_for(lk, d, [this] { return stop_requested_; });
  }

  // Assigns every partition at its stored offset (the beginning when none is stored).
  bool assign() {
    auto n = detail::partition_count(consumer_.get(), config_.topic, std::chrono::seconds(5));
    if (!n) {
      reachable_ = n.error() != make_error_code(errc::unavailable) &&
                   n.error() != make_error_code(errc::timed_out);
      set_error("topic " + config_.topic + " metadata: " + n.error().message());
      return false;
    }
    reachable_ = true;
    detail::partition_list_ptr list(rd_kafka_topic_partition_list_new(*n));
    last_seen_.assign(static_cast<std::size_t>(*n), -1);
    held_offsets_.assign(static_cast<std::size_t>(*n), {});
    for (std::int32_t p = 0; p < *n; ++p) {
      auto stored = store_.load_checkpoint(replica_checkpoint_name(config_, p));
      if (!stored) {
        set_error("loading offsets: " + stored.error().message());
        return false;
      }
      auto* e = rd_kafka_topic_partition_list_add(list.get(), config_.topic.c_str(), p);
      if (*stored) {
        e->offset = static_cast<std::int64_t>(**stored);
        last_seen_[static_cast<std::size_t>(p)] = e->offset - 1;
      } else {
        e->offset = RD_KAFKA_OFFSET_BEGINNING;
      }
    }
    if (const auto err = rd_kafka_assign(consumer_.get(), list.get())) {
      set_error(std::string("assign: ") + rd_kafka_err2str(err));
      return false;
    }
    partitions_ = *n;
    spdlog::info("kafka replica: following {} ({} partitions) from position {}", config_.topic, *n,
                 head_);
    return true;
  }

  void receive(const rd_kafka_message_t* m) {
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) reachable_ = false;
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        spdlog::debug("kafka replica: {}", rd_kafka_message_errstr(m));
      return;
    }
    reachable_ = true;
    const auto p = static_cast<std::size_t>(m->partition);
    if (p >= last_seen_.size()) return;  // a partition added after assignment: not followed
    last_seen_[p] = std::max(last_seen_[p], m->offset);
    auto env = eventstore::codec::decode_envelope(detail::value_of(m));
    if (!env) {
      // The relay only publishes envelopes; anything else on the topic is not ours to apply.
      invalid_.fetch_add(1, std::memory_order_relaxed);
      skipped_unstored_ = true;
      spdlog::warn("kafka replica: record {}/{} is not an envelope: skipped", m->partition,
                   m->offset);
      return;
    }
    const auto pos = env->position;
    if (pos <= head_ || buffer_.contains(pos)) {
      duplicates_.fetch_add(1, std::memory_order_relaxed);
      skipped_unstored_ = true;
      return;
    }
    held_offsets_[p].insert(m->offset);
    buffer_.emplace(pos, held{std::move(*env), m->partition, m->offset});
    buffered_ = buffer_.size();
  }

  // Next offset to read per partition once `applied_through` is applied: the first offset
  // still held in the buffer, else the one after the last seen.
  std::vector<std::pair<std::string, std::uint64_t>> checkpoints_after(
      std::uint64_t applied_through) const {
    std::vector<std::multiset<std::int64_t>> held = held_offsets_;
    for (auto it = buffer_.begin(); it != buffer_.end() && it->first <= applied_through; ++it) {
      auto& s = held[static_cast<std::size_t>(it->second.partition)];
      s.erase(s.find(it->second.offset));
    }
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (std::size_t p = 0; p < held.size(); ++p) {
      std::int64_t next = held[p].empty() ? last_seen_[p] + 1 : *held[p].begin();
      if (next <= 0) continue;  // nothing consumed from this partition yet
      out.emplace_back(replica_checkpoint_name(config_, static_cast<std::int32_t>(p)),
                       static_cast<std::uint64_t>(next));
    }
    return out;
  }

  // Appends the contiguous prefix (head + 1, ...) in groups of at most max_batch events.
  void drain() {
    while (!buffer_.empty() && buffer_.begin()->first == head_ + 1 && !stopping()) {
      std::vector<eventstore::append_request> requests;
      std::uint64_t last = head_;
      for (auto it = buffer_.begin();
           it != buffer_.end() && it->first == last + 1 && last - head_ < config_.max_batch;
           ++it, ++last) {
        const auto& env = it->second.env;
        auto* r = requests.empty() ? nullptr : &requests.back();
        if (!r || r->stream_id != env.stream_id || r->tenant_id != env.tenant_id ||
            !same_metadata(r->metadata, env.metadata) ||
            r->events.size() + r->expected.version + 1 != env.version) {
          eventstore::append_request next;
          next.stream_id = env.stream_id;
          next.tenant_id = env.tenant_id;
          next.expected = eventstore::expected_version::exact(env.version - 1);
          next.expected_position = env.position;
          next.metadata = env.metadata;
          requests.push_back(std::move(next));
          r = &requests.back();
        }
        eventstore::proposed_event e;
        e.event_id = env.event_id;
        e.type = env.type;
        e.schema_version = env.schema_version;
        e.data_json = env.data_json;
        e.occurred_at = env.occurred_at;
        r->events.push_back(std::move(e));
      }
      requests.back().checkpoints = checkpoints_after(last);

      completion c;
      c.pending = requests.size();
      for (auto& r : requests)
        store_.append(std::move(r), [&c](eventstore::append_outcome o) { c.done(o); });
      c.wait();

      if (c.first_error) {
        // Whatever part was written is in the log: continue from the log's real head.
        const auto& e = *c.first_error;
        set_error("mirroring positions " + std::to_string(head_ + 1) + ".." + std::to_string(last) +
                  " failed: " + e.detail);
        spdlog::warn("kafka replica: {}", e.detail);
        head_ = std::max(head_, store_.head());
        forget_through(head_);
        sleep_for(config_.retry_backoff);
        return;
      }
      applied_.fetch_add(last - head_, std::memory_order_relaxed);
      head_ = last;
      forget_through(head_);
      clear_error();
      commit_offsets();
    }
  }

  void forget_through(std::uint64_t pos) {
    while (!buffer_.empty() && buffer_.begin()->first <= pos) {
      const auto& h = buffer_.begin()->second;
      auto& s = held_offsets_[static_cast<std::size_t>(h.partition)];
      s.erase(s.find(h.offset));
      buffer_.erase(buffer_.begin());
    }
    position_ = head_;
    buffered_ = buffer_.size();
  }

  // The same offsets to the consumer group, for lag monitoring (the local ones are the truth).
  void commit_offsets() {
    detail::partition_list_ptr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(held_offsets_.size())));
    for (std::size_t p = 0; p < held_offsets_.size(); ++p) {
      const std::int64_t next =
          held_offsets_[p].empty() ? last_seen_[p] + 1 : *held_offsets_[p].begin();
      if (next <= 0) continue;
      rd_kafka_topic_partition_list_add(list.get(), config_.topic.c_str(),
                                        static_cast<std::int32_t>(p))
          ->offset = next;
    }
    if (list->cnt > 0) rd_kafka_commit(consumer_.get(), list.get(), 1);
  }

  // Backpressure: with the buffer full, stop fetching partitions that already have records
  // waiting (the missing position can only come from one that has none).
  void throttle() {
    const bool full = buffer_.size() >= config_.max_buffered;
    if (full == paused_) return;
    detail::partition_list_ptr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(held_offsets_.size())));
    for (std::size_t p = 0; p < held_offsets_.size(); ++p)
      if (!full || !held_offsets_[p].empty())
        rd_kafka_topic_partition_list_add(list.get(), config_.topic.c_str(),
                                          static_cast<std::int32_t>(p));
    if (full)
      rd_kafka_pause_partitions(consumer_.get(), list.get());
    else if (buffer_.size() < config_.max_buffered / 2 + 1)
      rd_kafka_resume_partitions(consumer_.get(), list.get());
    else
      return;
    paused_ = full;
  }

  void run() {
    while (!stopping()) {
      if (partitions_ == 0) {
        if (!assign()) sleep_for(config_.retry_backoff);
        continue;
      }
      // Take what librdkafka has fetched, then apply: fewer, larger appends under load.
      for (int i = 0; i < 1024 && !stopping(); ++i) {
        detail::message_ptr m(rd_kafka_consumer_poll(consumer_.get(), i == 0 ? 100 : 0));
        if (!m) break;
        receive(m.get());
      }
      drain();
      store_skipped_offsets();
      throttle();
    }
  }

  // Records that append nothing (duplicates, foreign records) still advance the offsets; store
  // them, or a restart would read and drop them all again.
  void store_skipped_offsets() {
    if (!skipped_unstored_) return;
    for (const auto& [name, next] : checkpoints_after(head_)) {
      if (const auto ec = store_.store_checkpoint(name, next)) {
        spdlog::warn("kafka replica: storing offset {}: {}", name, ec.message());
        return;  // kept dirty: retried after the next poll
      }
    }
    skipped_unstored_ = false;
  }

  eventstore::event_store& store_;
  const replica_config config_;
  detail::consumer_ptr consumer_;
  std::thread thread_;

  // Replica thread only.
  std::uint64_t head_ = 0;
  std::map<std::uint64_t, held> buffer_;
  std::vector<std::int64_t> last_seen_;                    // per partition, -1 = none
  std::vector<std::multiset<std::int64_t>> held_offsets_;  // per partition, in the buffer
  bool paused_ = false;
  bool skipped_unstored_ = false;  // skipped records past the stored offsets

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_requested_ = false;

  std::atomic<bool> running_{false};
  std::atomic<bool> reachable_{false};
  std::atomic<std::int32_t> partitions_{0};
  std::atomic<std::uint64_t> position_{0};
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> buffered_{0};
  std::atomic<std::uint64_t> invalid_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace

std::string replica_checkpoint_name(const replica_config& c, std::int32_t partition) {
  return c.checkpoint_prefix + "/" + c.topic + "/" + std::to_string(partition);
}

result<std::unique_ptr<replica>> start_replica(eventstore::event_store& local,
                                               replica_config config) {
  if (config.bootstrap_servers.empty() || config.topic.empty() || config.group_id.empty() ||
      config.checkpoint_prefix.empty() || config.max_buffered == 0 || config.max_batch == 0)
    return make_error_code(errc::invalid_argument);
  auto r = std::make_unique<replica_impl>(local, std::move(config));
  if (auto ec = r->init()) return ec;
  return std::unique_ptr<replica>(std::move(r));
}

}  // namespace tenant::consumers
