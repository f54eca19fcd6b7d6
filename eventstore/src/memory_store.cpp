// The in-memory event store: the same append pipeline as RocksDB (pipeline.hpp) over vectors
// and maps, so the contract suite exercises one implementation of the append rules and the
// envelopes are byte-for-byte the ones RocksDB stores.
#include <map>
#include <set>

#include "log_reader.hpp"
#include "pipeline.hpp"

namespace tenant::eventstore {

namespace detail {

namespace {

domain::clock_time system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

class memory_store final : public event_store, private pipeline_backend {
 public:
  explicit memory_store(const memory_options& o) : options_(o) {
    if (!options_.clock) options_.clock = system_now;
    signal_ = std::make_shared<commit_signal>();
    signal_->reader = this;
    pipeline_options po;
    po.max_batch_events = std::max<std::size_t>(1, o.max_batch_events);
    po.recent_id_capacity = 0;  // every id stays in memory: the pipeline's cache is complete
    po.clock = options_.clock;
    pipeline_ = std::make_unique<append_pipeline>(static_cast<pipeline_backend&>(*this),
                                                  std::move(po), pipeline_state{});
  }

  ~memory_store() override {
    stop();
    std::unique_lock lk(signal_->reader_mu);
    signal_->reader = nullptr;
  }

  void append(append_request request, append_handler handler) override {
    if (!handler) handler = [](append_outcome) {};
    pipeline_->submit(std::move(request), std::move(handler));
  }

  result<std::vector<recorded_event>> read_stream(std::string_view stream_id,
                                                  std::uint64_t from_version, std::size_t limit,
                                                  direction dir) override {
    std::vector<recorded_event> out;
    std::shared_lock lk(log_mu_);
    const auto it = streams_.find(stream_id);
    if (limit == 0 || it == streams_.end()) return out;
    const auto& positions = it->second;
    const std::uint64_t n = positions.size();
    if (dir == direction::forward) {
      for (std::uint64_t v = std::max<std::uint64_t>(from_version, 1); v <= n && out.size() < limit;
           ++v)
        out.push_back(log_[positions[v - 1] - 1]);
    } else {
      for (std::uint64_t v = std::min(from_version, n); v >= 1 && out.size() < limit; --v)
        out.push_back(log_[positions[v - 1] - 1]);
    }
    return out;
  }

  result<std::vector<recorded_event>> read_all(std::uint64_t from_position,
                                               std::size_t limit) override {
    std::vector<recorded_event> out;
    std::shared_lock lk(log_mu_);
    for (std::uint64_t p = std::max<std::uint64_t>(from_position, 1);
         p <= log_.size() && out.size() < limit; ++p)
      out.push_back(log_[p - 1]);
    return out;
  }

  result<std::uint64_t> stream_version(std::string_view stream_id) override {
    return pipeline_->stream(stream_id).version;
  }

  result<stream_head> read_stream_head(std::string_view stream_id) override {
    const auto s = pipeline_->stream(stream_id);
    return stream_head{s.version, s.last_position};
  }

  result<std::optional<std::string>> unique_owner(std::string_view value) override {
    return pipeline_->claim_owner(value);
  }

  result<std::optional<recorded_event>> read_event(std::string_view event_id) override {
    const auto id = domain::uuid::parse(event_id);
    std::shared_lock lk(log_mu_);
    if (!id) return std::optional<recorded_event>();
    const auto it = ids_.find(id->bytes);
    if (it == ids_.end()) return std::optional<recorded_event>();
    return std::optional<recorded_event>(log_[it->second - 1]);
  }

  std::uint64_t head() const override { return signal_->head(); }

  std::unique_ptr<subscription> subscribe(std::uint64_t after_position) override {
    return std::make_unique<log_subscription>(signal_, after_position);
  }

  result<std::optional<std::uint64_t>> load_checkpoint(std::string_view name) override {
    std::lock_guard lk(kv_mu_);
    const auto it = checkpoints_.find(name);
    if (it == checkpoints_.end()) return std::optional<std::uint64_t>();
    return std::optional<std::uint64_t>(it->second);
  }

  std::error_code store_checkpoint(std::string_view name, std::uint64_t position) override {
    if (name.empty()) return make_error_code(errc::invalid_argument);
    std::lock_guard lk(kv_mu_);
    checkpoints_.insert_or_assign(std::string(name), position);
    return {};
  }

  result<std::optional<idempotency_record>> load_idempotency(std::string_view key) override {
    std::lock_guard lk(kv_mu_);
    const auto it = idempotency_.find(key);
    if (it == idempotency_.end() ||
        it->second.stored_at + options_.idempotency_ttl < options_.clock())
      return std::optional<idempotency_record>();
    return std::optional<idempotency_record>(it->second);
  }

  std::error_code store_idempotency(std::string_view key, idempotency_record record) override {
    if (key.empty()) return make_error_code(errc::invalid_argument);
    std::lock_guard lk(kv_mu_);
    const auto now = options_.clock();
    if (record.stored_at == domain::clock_time{}) record.stored_at = now;
    std::string k(key);
    if (const auto it = idempotency_.find(k); it != idempotency_.end())
      expiry_.erase({it->second.stored_at, k});
    expiry_.insert({record.stored_at, k});
    idempotency_.insert_or_assign(k, std::move(record));
    // Same eviction rule as RocksDB: expired ones, then the oldest over the bound; never the
    // record just stored.
    const auto cutoff = now - options_.idempotency_ttl;
    for (auto it = expiry_.begin(); it != expiry_.end();) {
      if (idempotency_.size() <= options_.idempotency_max_entries && it->first >= cutoff) break;
      if (it->second == k) {
        ++it;
        continue;
      }
      idempotency_.erase(it->second);
      it = expiry_.erase(it);
    }
    return {};
  }

  std::error_code store_snapshot(std::string_view stream_id, std::uint64_t version,
                                 std::string state) override {
    if (stream_id.empty()) return make_error_code(errc::invalid_argument);
    std::lock_guard lk(kv_mu_);
    snapshots_.insert_or_assign(std::string(stream_id), std::make_pair(version, std::move(state)));
    return {};
  }

  result<std::optional<std::pair<std::uint64_t, std::string>>> load_snapshot(
      std::string_view stream_id) override {
    using snap = std::pair<std::uint64_t, std::string>;
    std::lock_guard lk(kv_mu_);
    const auto it = snapshots_.find(stream_id);
    if (it == snapshots_.end()) return std::optional<snap>();
    return std::optional<snap>(it->second);
  }

  store_stats stats() const override { return pipeline_->stats(); }

  void set_commit_observer(commit_observer observer) override {
    pipeline_->set_commit_observer(std::move(observer));
  }

  void stop() override {
    pipeline_->stop();
    signal_->close();
  }

 private:
  result<std::optional<id_location>> find_event_id(const uuid_bytes&) override {
    return std::optional<id_location>();  // never asked: the pipeline's id cache is complete
  }

  std::error_code write(const commit_batch& b) override {
    std::unique_lock lk(log_mu_);
    for (std::size_t i = 0; i < b.events.size(); ++i) {
      const auto& e = b.events[i];
      log_.push_back(e);
      streams_[e.stream_id].push_back(e.position);
      ids_.emplace(b.event_uuids[i], e.position);
    }
    if (!b.checkpoints.empty()) {
      std::lock_guard kv(kv_mu_);
      for (const auto& [name, position] : b.checkpoints)
        checkpoints_.insert_or_assign(name, position);
    }
    return {};
  }

  void publish(commit_batch& b) override { signal_->publish(b.events.back().position); }

  // Writes to memory cannot fail, so there is never anything to recover from.
  result<pipeline_state> recover() override { return make_error_code(errc::storage_unavailable); }

  memory_options options_;
  std::shared_ptr<commit_signal> signal_;

  mutable std::shared_mutex log_mu_;
  std::vector<recorded_event> log_;                 // position p at index p - 1
  string_map<std::vector<std::uint64_t>> streams_;  // version v at index v - 1
  std::unordered_map<uuid_bytes, std::uint64_t, uuid_hash> ids_;

  std::mutex kv_mu_;
  string_map<std::uint64_t> checkpoints_;
  string_map<idempotency_record> idempotency_;
  std::set<std::pair<domain::clock_time, std::string>> expiry_;
  string_map<std::pair<std::uint64_t, std::string>> snapshots_;

  std::unique_ptr<append_pipeline> pipeline_;  // last: its writer thread uses the members above
};

}  // namespace detail

std::unique_ptr<event_store> make_memory_store(const memory_options& options) {
  return std::make_unique<detail::memory_store>(options);
}

std::unique_ptr<event_store> make_memory_store() {
  return make_memory_store(memory_options{});
}

}  // namespace tenant::eventstore
