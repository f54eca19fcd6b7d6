#include "pipeline.hpp"

#include <pthread.h>
#include <simdjson.h>

#include <algorithm>
#include <unordered_set>

#include "tenant/eventstore/codec.hpp"

namespace tenant::eventstore::detail {

namespace {

constexpr std::size_t max_stream_id_bytes = 255;  // u8 length prefix of stream_index keys
constexpr std::size_t max_events_per_append = 10'000;
constexpr std::size_t max_data_bytes = 1u << 20;

append_error invalid(std::string detail) {
  return append_error{errc::invalid_argument, 0, std::move(detail)};
}

bool is_json_object(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return false;
  return root.is_object();
}

}  // namespace

append_pipeline::append_pipeline(pipeline_backend& backend, pipeline_options options,
                                 pipeline_state state)
    : backend_(backend), options_(std::move(options)), sync_stage_(backend.needs_sync()) {
  reset_state(std::move(state));
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "es-writer");
    run_writer();
  });
  if (sync_stage_)
    syncer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "es-sync");
      run_syncer();
    });
}

append_pipeline::~append_pipeline() {
  stop();
}

std::optional<append_error> append_pipeline::validate(append_request& r,
                                                      std::vector<uuid_bytes>& ids) {
  if (r.stream_id.empty() || r.stream_id.size() > max_stream_id_bytes)
    return invalid("stream_id must have 1 to 255 bytes");
  if (r.stream_id.find('\0') != std::string::npos) return invalid("stream_id contains NUL");
  if (r.tenant_id.empty()) r.tenant_id = r.stream_id;
  if (r.events.empty()) return invalid("an append needs at least one event");
  if (r.events.size() > max_events_per_append) return invalid("too many events in one append");
  ids.clear();
  ids.reserve(r.events.size());
  for (auto& e : r.events) {
    const auto id = domain::uuid::parse(e.event_id);
    if (!id) return invalid("event_id is not a UUID: " + e.event_id.substr(0, 64));
    if (std::find(ids.begin(), ids.end(), id->bytes) != ids.end())
      return invalid("event_id repeated in one append: " + e.event_id);
    ids.push_back(id->bytes);
    e.event_id = id->to_string();
    if (e.type.empty()) return invalid("event type is empty");
    if (e.schema_version == 0) return invalid("schema_version must be >= 1");
    if (e.data_json.size() > max_data_bytes) return invalid("event data over 1 MiB");
    if (!e.data_json.empty() && !is_json_object(e.data_json))
      return invalid("event data is not a JSON object");
  }
  for (const auto& c : r.claims)
    if (c.value.empty()) return invalid("unique claim value is empty");
  for (const auto& c : r.checkpoints)
    if (c.first.empty()) return invalid("checkpoint name is empty");
  return std::nullopt;
}

void append_pipeline::submit(append_request request, append_handler handler) {
  pending p{std::move(request), std::move(handler), {}, std::nullopt};
  p.invalid = validate(p.request, p.ids);
  {
    std::lock_guard lk(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(p));
      queue_cv_.notify_one();
      return;
    }
  }
  failed_.fetch_add(1, std::memory_order_relaxed);
  p.handler(append_error{errc::closed, 0, "event store stopped"});
}

void append_pipeline::stop() {
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  // The writer handed its last batches over; the sync stage drains them.
  {
    std::lock_guard lk(sync_mu_);
    sync_stopping_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

stream_state append_pipeline::stream(std::string_view stream_id) const {
  std::shared_lock lk(state_mu_);
  const auto it = published_streams_.find(stream_id);
  return it == published_streams_.end() ? stream_state{} : it->second;
}

std::optional<std::string> append_pipeline::claim_owner(std::string_view value) const {
  std::shared_lock lk(state_mu_);
  const auto it = published_claims_.find(value);
  if (it == published_claims_.end()) return std::nullopt;
  return it->second;
}

store_stats append_pipeline::stats() const {
  return store_stats{
      appends_.load(std::memory_order_relaxed), events_.load(std::memory_order_relaxed),
      batches_.load(std::memory_order_relaxed), failed_.load(std::memory_order_relaxed)};
}

void append_pipeline::set_commit_observer(commit_observer observer) {
  auto p = std::make_shared<const commit_observer>(std::move(observer));
  std::lock_guard lk(observer_mu_);
  observer_ = std::move(p);
}

domain::clock_time append_pipeline::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

void append_pipeline::reset_state(pipeline_state state) {
  {
    std::unique_lock lk(state_mu_);
    durable_head_ = state.head;
    published_streams_ = state.streams;
    published_claims_ = state.claims;
  }
  head_ = state.head;
  streams_ = std::move(state.streams);
  claims_ = std::move(state.claims);
  filter_ = std::move(state.filter);
  recent_ids_.clear();
  recent_order_.clear();
}

void append_pipeline::mark_broken() {
  broken_.store(true);
  std::lock_guard lk(queue_mu_);
  queue_cv_.notify_one();  // starts the idle retries
}

void append_pipeline::run_writer() {
  std::vector<pending> batch;
  auto retry = options_.recovery_retry;
  for (;;) {
    {
      std::unique_lock lk(queue_mu_);
      const auto ready = [&] { return !queue_.empty() || stopping_; };
      if (!broken_.load()) {
        queue_cv_.wait(lk, [&] { return ready() || broken_.load(); });
        retry = options_.recovery_retry;
        if (!ready()) continue;  // broken meanwhile (mark_broken): wait with retries
      } else if (!queue_cv_.wait_for(lk, retry, ready)) {
        // Broken and idle: try again (a probe first, see pipeline_backend::recover), backing
        // off while the storage still refuses.
        lk.unlock();
        if (!recover_if_broken(batch)) retry = std::min(2 * retry, options_.recovery_retry_max);
        continue;
      }
      if (queue_.empty()) return;  // stopping and drained
      std::size_t events = 0;
      while (!queue_.empty()) {
        const std::size_t n = queue_.front().request.events.size();
        if (!batch.empty() && events + n > options_.max_batch_events) break;
        events += n;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    process(batch);
    batch.clear();
  }
}

void append_pipeline::run_syncer() {
  std::deque<stage_item> items;
  for (;;) {
    {
      std::unique_lock lk(sync_mu_);
      sync_cv_.wait(lk, [&] { return !sync_queue_.empty() || sync_stopping_; });
      if (sync_queue_.empty()) return;  // stopping and drained
      items.swap(sync_queue_);
      sync_busy_ = true;
    }
    // ONE sync covers every batch written so far (a batch being written meanwhile may be covered
    // too; it is then synced again with the next group, which is harmless).
    bool any_written = false;
    for (const auto& item : items)
      any_written = any_written || item.written;
    bool durable = !broken_.load();
    if (durable && any_written && backend_.sync()) {
      broken_.store(true);
      durable = false;
    }
    for (auto& item : items)
      complete(item, durable);
    items.clear();
    {
      std::lock_guard lk(sync_mu_);
      sync_busy_ = false;
    }
    sync_cv_.notify_all();
  }
}

result<std::optional<id_location>> append_pipeline::locate(const uuid_bytes& id,
                                                           const overlay& ov) {
  if (const auto it = ov.ids.find(id); it != ov.ids.end())
    return std::optional<id_location>(it->second);
  if (const auto it = recent_ids_.find(id); it != recent_ids_.end())
    return std::optional<id_location>(it->second);
  if (options_.recent_id_capacity == 0) return std::optional<id_location>();
  if (!filter_.may_contain(id)) return std::optional<id_location>();
  return backend_.find_event_id(id);
}

append_outcome append_pipeline::apply(pending& p, overlay& ov, commit_batch& out,
                                      std::uint64_t& next_position, domain::clock_time now) {
  if (p.invalid) return *p.invalid;
  auto& r = p.request;

  // 1. Event-id idempotency, before the expected version: a retry of a stored append gets the
  // original result whatever it expected.
  std::size_t found_here = 0;
  append_result replay{UINT64_MAX, 0, UINT64_MAX, 0, true};
  for (std::size_t i = 0; i < p.ids.size(); ++i) {
    auto loc = locate(p.ids[i], ov);
    if (!loc) return append_error{errc::storage_unavailable, 0, "event id lookup failed"};
    if (!*loc) continue;
    if ((*loc)->stream_id != r.stream_id)
      return append_error{errc::duplicate_event_id, 0,
                          "event " + r.events[i].event_id + " is stored in another stream"};
    ++found_here;
    replay.first_position = std::min(replay.first_position, (*loc)->position);
    replay.last_position = std::max(replay.last_position, (*loc)->position);
    replay.first_version = std::min(replay.first_version, (*loc)->version);
    replay.last_version = std::max(replay.last_version, (*loc)->version);
  }
  if (found_here == p.ids.size()) return replay;
  if (found_here > 0)
    return append_error{errc::duplicate_event_id, 0,
                        "some event ids of this append are already stored in the stream"};

  // Replication: the events must land at the positions they have on the writer.
  if (r.expected_position && *r.expected_position != next_position)
    return append_error{errc::wrong_expected_position, next_position - 1,
                        "the log is at position " + std::to_string(next_position - 1) + ", not " +
                            std::to_string(*r.expected_position - 1)};

  // 2. Expected version against the head as of this point of the batch.
  stream_state cur;
  if (const auto it = ov.streams.find(r.stream_id); it != ov.streams.end()) {
    cur = it->second;
  } else if (const auto jt = streams_.find(r.stream_id); jt != streams_.end()) {
    cur = jt->second;
  }
  bool ok = true;
  switch (r.expected.k) {
    case expected_version::kind::any:
      break;
    case expected_version::kind::no_stream:
      ok = cur.version == 0;
      break;
    case expected_version::kind::stream_exists:
      ok = cur.version > 0;
      break;
    case expected_version::kind::exact:
      ok = cur.version == r.expected.version;
      break;
  }
  if (!ok)
    return append_error{errc::wrong_expected_version, cur.version,
                        "stream " + r.stream_id + " is at version " + std::to_string(cur.version)};

  // 3. Unique claims: all checked before any is applied.
  const auto owner_of = [&](const std::string& value) -> std::optional<std::string> {
    if (const auto it = ov.claims.find(value); it != ov.claims.end()) return it->second;
    if (const auto it = claims_.find(value); it != claims_.end()) return it->second;
    return std::nullopt;
  };
  for (const auto& c : r.claims) {
    if (c.action != unique_claim::op::claim) continue;
    const auto owner = owner_of(c.value);
    if (owner && *owner != r.stream_id)
      return append_error{errc::duplicate_domain, 0, "'" + c.value + "' is held by " + *owner};
  }
  for (const auto& c : r.claims) {
    const auto owner = owner_of(c.value);
    if (c.action == unique_claim::op::claim) {
      if (!owner) ov.claims[c.value] = r.stream_id;
    } else if (owner && *owner == r.stream_id) {
      ov.claims[c.value] = std::nullopt;
    }
  }

  // 4. Versions and positions.
  append_result res;
  res.first_position = next_position;
  res.first_version = cur.version + 1;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    auto& e = r.events[i];
    if (e.occurred_at == domain::clock_time{}) e.occurred_at = now;
    recorded_event rec;
    rec.position = next_position++;
    rec.version = ++cur.version;
    rec.stream_id = r.stream_id;
    rec.tenant_id = r.tenant_id;
    rec.event_id = e.event_id;
    rec.type = e.type;
    rec.schema_version = e.schema_version;
    rec.occurred_at = e.occurred_at;
    rec.envelope_json =
        codec::encode_envelope(e, r.stream_id, r.tenant_id, rec.version, rec.position, r.metadata);
    ov.ids[p.ids[i]] = id_location{r.stream_id, rec.position, rec.version};
    out.events.push_back(std::move(rec));
    out.event_uuids.push_back(p.ids[i]);
  }
  cur.last_position = next_position - 1;
  ov.streams[r.stream_id] = cur;
  for (auto& c : r.checkpoints)
    out.checkpoints.push_back(std::move(c));
  res.last_position = cur.last_position;
  res.last_version = cur.version;
  return res;
}

void append_pipeline::merge_written(overlay& ov, const commit_batch& out) {
  for (auto& [id, st] : ov.streams)
    streams_[id] = st;
  for (auto& [value, owner] : ov.claims) {
    if (owner) {
      claims_[value] = *owner;
    } else if (const auto it = claims_.find(value); it != claims_.end()) {
      claims_.erase(it);
    }
  }
  head_ = out.events.back().position;
  const bool authoritative = options_.recent_id_capacity == 0;
  for (std::size_t i = 0; i < out.events.size(); ++i) {
    const auto& id = out.event_uuids[i];
    auto it = ov.ids.find(id);
    if (!authoritative) {
      filter_.insert(id);
      recent_order_.push_back(id);
    }
    recent_ids_.insert_or_assign(id, std::move(it->second));
  }
  if (!authoritative) {
    while (recent_order_.size() > options_.recent_id_capacity) {
      recent_ids_.erase(recent_order_.front());
      recent_order_.pop_front();
    }
  }
}

// After a failed write or sync: wait until every batch in flight has been answered, then let the
// backend restore the storage and reload the state. False: still broken; `batch` was failed.
bool append_pipeline::recover_if_broken(std::vector<pending>& batch) {
  if (!broken_.load()) return true;
  {
    std::unique_lock lk(sync_mu_);
    sync_cv_.wait(lk, [&] { return sync_queue_.empty() && !sync_busy_; });
  }
  auto state = backend_.recover();
  if (!state) {
    for (auto& p : batch) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      p.handler(append_error{errc::storage_unavailable, 0, "the event store is recovering"});
    }
    return false;
  }
  reset_state(std::move(*state));
  broken_.store(false);
  return true;
}

void append_pipeline::process(std::vector<pending>& batch) {
  if (!recover_if_broken(batch)) return;
  stage_item item;
  overlay ov;
  item.outcomes.reserve(batch.size());
  std::uint64_t next_position = head_ + 1;
  const auto t = now();
  for (auto& p : batch)
    item.outcomes.push_back(apply(p, ov, item.out, next_position, t));

  if (!item.out.events.empty()) {
    for (auto& [id, st] : ov.streams)
      item.out.streams.emplace_back(id, st);
    for (auto& [value, owner] : ov.claims)
      item.out.claims.emplace_back(value, owner);
    if (backend_.write(item.out)) {
      broken_.store(true);  // nothing of it was written; the next batch recovers first
    } else {
      item.written = true;
      merge_written(ov, item.out);
      batches_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  item.requests = std::move(batch);
  batch.clear();
  if (!sync_stage_) return complete(item, item.written);
  {
    std::lock_guard lk(sync_mu_);
    sync_queue_.push_back(std::move(item));
  }
  sync_cv_.notify_one();
}

// Publishes a batch once durable and answers its appends. A success referring to positions that
// are not durable (its write failed, or a sync covering it did) becomes storage_unavailable:
// nothing is acknowledged before it is durable.
void append_pipeline::complete(stage_item& item, bool durable) {
  std::size_t written_appends = 0;
  if (item.written && durable) {
    {
      std::unique_lock lk(state_mu_);
      for (const auto& [id, st] : item.out.streams)
        published_streams_[id] = st;
      for (const auto& [value, owner] : item.out.claims) {
        if (owner) {
          published_claims_[value] = *owner;
        } else if (const auto it = published_claims_.find(value); it != published_claims_.end()) {
          published_claims_.erase(it);
        }
      }
      durable_head_ = item.out.events.back().position;
    }
    const std::size_t events = item.out.events.size();
    backend_.publish(item.out);
    events_.fetch_add(events, std::memory_order_relaxed);
    for (const auto& o : item.outcomes)
      if (o && !o->replayed) ++written_appends;
    std::shared_ptr<const commit_observer> obs;
    {
      std::lock_guard lk(observer_mu_);
      obs = observer_;
    }
    // The observer first: metrics count a commit before any client hears of it.
    if (obs && *obs) (*obs)(events, written_appends);
  }
  std::uint64_t durable_head;
  {
    std::shared_lock lk(state_mu_);
    durable_head = durable_head_;
  }
  for (std::size_t i = 0; i < item.requests.size(); ++i) {
    auto& o = item.outcomes[i];
    if (o && o->last_position > durable_head)
      o = append_error{errc::storage_unavailable, 0, "the write did not reach storage"};
    (o ? appends_ : failed_).fetch_add(1, std::memory_order_relaxed);
    item.requests[i].handler(std::move(o));
  }
}

}  // namespace tenant::eventstore::detail
