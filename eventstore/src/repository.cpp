// The aggregate repository (repository.hpp). One command is an `attempt` on the pool: load
// (cache or snapshot + events), decide, then a non-blocking append whose handler (on the store's
// writer thread) either completes the command or posts a retry back to the pool.
#include "tenant/eventstore/repository.hpp"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "tenant/eventstore/codec.hpp"

namespace tenant::eventstore {

namespace {

constexpr std::size_t read_page = 512;

domain::clock_time system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string new_v7_id(domain::clock_time now) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 10> r{};
  const std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i)
    r[i] = static_cast<std::uint8_t>(a >> (8 * i));
  r[8] = static_cast<std::uint8_t>(b);
  r[9] = static_cast<std::uint8_t>(b >> 8);
  return domain::uuid::v7(now, r).to_string();
}

std::string seeded_id(const std::string& seed, std::size_t index) {
  return domain::uuid::derived(seed + "/" + std::to_string(index)).to_string();
}

execute_error store_failure(std::error_code ec, std::string detail = {}) {
  execute_error e;
  e.k = execute_error::kind::store;
  e.store_error = ec;
  e.detail = detail.empty() ? ec.message() : std::move(detail);
  return e;
}

execute_error domain_failure(domain::error err) {
  execute_error e;
  e.k = execute_error::kind::domain;
  e.detail = err.detail;
  e.domain_error = std::move(err);
  return e;
}

execute_error precondition_failure(std::uint64_t current) {
  execute_error e;
  e.k = execute_error::kind::precondition_failed;
  e.current_version = current;
  e.detail = "the tenant is at version " + std::to_string(current);
  return e;
}

/// A fixed pool of threads running posted tasks in order of posting. The queue lives in a
/// shared block each thread also holds, so that the pool may be destroyed by one of its own
/// tasks (the last reference to the repository released on a pool thread): that thread is
/// detached and exits on its own.
class task_pool {
 public:
  explicit task_pool(std::size_t threads) : q_(std::make_shared<queue>()) {
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
      threads_.emplace_back([q = q_] {
        pthread_setname_np(pthread_self(), "repository");
        run(*q);
      });
  }
  ~task_pool() { stop(); }

  /// False once stopping: the caller completes the work itself (with errc::closed).
  bool post(std::function<void()> task) {
    {
      std::lock_guard lk(q_->mu);
      if (q_->stopping) return false;
      q_->tasks.push_back(std::move(task));
    }
    q_->cv.notify_one();
    return true;
  }

  /// Whether stop() was called (without the queue's lock: for a quick check before work).
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

  /// Runs what is queued, then joins. Tasks posted meanwhile by running tasks are refused.
  void stop() {
    {
      std::lock_guard lk(q_->mu);
      q_->stopping = true;
      stopped_.store(true, std::memory_order_relaxed);
    }
    q_->cv.notify_all();
    for (auto& t : threads_) {
      if (!t.joinable()) continue;
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();
      } else {
        t.join();
      }
    }
  }

 private:
  struct queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
  };

  static void run(queue& q) {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lk(q.mu);
        q.cv.wait(lk, [&] { return q.stopping || !q.tasks.empty(); });
        if (q.tasks.empty()) return;
        task = std::move(q.tasks.front());
        q.tasks.pop_front();
      }
      task();
    }
  }

  std::shared_ptr<queue> q_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
};

/// Set on the caller's thread while execute() submits an append there (attempt, on_caller).
thread_local bool caller_appending = false;

/// A loaded tenant as the cache holds it: shared, never changed once cached, so a hit costs a
/// reference count instead of a copy of the state's strings.
using shared_tenant = std::shared_ptr<const loaded_tenant>;

/// LRU of loaded tenants, keyed by stream id (the map's keys view the list's strings).
class state_cache {
 public:
  explicit state_cache(std::size_t capacity) : capacity_(capacity) {}

  shared_tenant get(const std::string& id) {
    std::lock_guard lk(mu_);
    const auto it = index_.find(id);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void put(const std::string& id, shared_tenant t) {
    if (capacity_ == 0) return;
    std::lock_guard lk(mu_);
    if (const auto it = index_.find(id); it != index_.end()) {
      // Never move a cached state backwards (a slower completion of an older append).
      if (it->second->second->version > t->version) return;
      it->second->second = std::move(t);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(id, std::move(t));
    index_.emplace(order_.front().first, order_.begin());
    while (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::list<std::pair<std::string, shared_tenant>> order_;
  std::unordered_map<std::string_view, std::list<std::pair<std::string, shared_tenant>>::iterator>
      index_;
};

}  // namespace

struct repository::impl : std::enable_shared_from_this<repository::impl> {
  impl(event_store& s, repository_options o)
      : store(s), options(std::move(o)), cache(options.cache_entries), pool(options.threads) {
    if (!options.clock) options.clock = system_now;
  }

  event_store& store;
  repository_options options;
  state_cache cache;
  std::atomic<std::uint64_t> executed{0}, hits{0}, misses{0}, retries{0}, snapshots{0};
  std::mutex snapshot_mu;
  task_pool pool;  // last: its threads use the members above

  struct command_run {
    domain::tenant_id id;
    domain::command cmd;
    execute_options opts;
    execute_handler handler;
    std::size_t attempt = 0;
    bool bypass_cache = false;
    bool replay_first = false;  // look for the Idempotency-Key's earlier run before loading
    // The attempt's append in flight, for its completion: the decided events, the state after
    // them and the version they were decided on. Kept here so the append's handler holds only
    // the run.
    std::vector<domain::event> events;
    domain::tenant_state after;
    std::uint64_t before_version = 0;
  };

  // Commands on one tenant run one at a time per repository: a second command waits for the
  // first instead of deciding against the same version and losing the append race (it then
  // starts from the cached new state). Conflicts remain possible only between repositories, or
  // with writers beside them, and are retried.
  std::mutex inflight_mu;
  std::unordered_map<std::string, std::list<std::shared_ptr<command_run>>> inflight;

  void start(std::shared_ptr<command_run> run) {
    {
      std::lock_guard lk(inflight_mu);
      const auto [it, first] = inflight.try_emplace(run->id.str());
      if (!first) {
        it->second.push_back(std::move(run));
        return;
      }
    }
    // On the caller's thread as far as the append when the tenant is in memory (cached, or a
    // new stream): a command saves a hop through the pool. Anything that would read the store
    // or answer without an append goes to the pool (see attempt).
    attempt(std::move(run), true);
  }

  void complete(command_run& run, execute_outcome outcome) {
    executed.fetch_add(1, std::memory_order_relaxed);
    const std::string& id = run.id.str();  // the caller holds `run` until this returns
    // The tenant's next command is taken (or the tenant released) before the handler runs: a
    // caller that sends its next command from the handler finds the tenant free, not queued
    // behind a command that has finished.
    auto next = take_next(id);
    run.handler(std::move(outcome));
    while (next) {
      auto self = shared_from_this();
      if (pool.post([self, next] { self->attempt(next); })) return;
      executed.fetch_add(1, std::memory_order_relaxed);
      next->handler(store_failure(make_error_code(errc::closed)));
      next = take_next(id);
    }
  }

  /// The tenant's next queued command, now its running one; or null, the tenant released.
  std::shared_ptr<command_run> take_next(const std::string& id) {
    std::lock_guard lk(inflight_mu);
    const auto it = inflight.find(id);
    if (it == inflight.end()) return nullptr;
    if (it->second.empty()) {
      inflight.erase(it);
      return nullptr;
    }
    auto next = std::move(it->second.front());
    it->second.pop_front();
    return next;
  }

  void post_attempt(std::shared_ptr<command_run> run) {
    auto self = shared_from_this();
    if (!pool.post([self, run] { self->attempt(run); }))
      complete(*run, store_failure(make_error_code(errc::closed)));
  }

  // ---- loading ----

  result<std::vector<domain::event>> decode_all(const std::vector<recorded_event>& events) {
    std::vector<domain::event> out;
    out.reserve(events.size());
    for (const auto& e : events) {
      auto d = codec::decode_event(e);
      if (!d) return make_error_code(errc::corruption);
      out.push_back(std::move(*d));
    }
    return out;
  }

  /// Folds the stream up to version `upto` (inclusive) from `start` (a cached state), else from
  /// the newest usable snapshot, stopping before the first event that occurred after `until`
  /// when given.
  result<loaded_tenant> fold_stream(const std::string& id, std::uint64_t upto,
                                    std::optional<domain::clock_time> until,
                                    std::optional<loaded_tenant> start = std::nullopt) {
    loaded_tenant out;
    if (upto == 0) return out;
    if (start && start->version <= upto) {
      out = std::move(*start);
    } else if (!until) {
      auto snap = store.load_snapshot(id);
      if (!snap) return snap.error();
      if (*snap && (*snap)->first <= upto && (*snap)->first > 0) {
        // An undecodable snapshot (an older layout) is ignored: the events are the truth.
        if (auto st = codec::decode_state((*snap)->second);
            st && st->version.value == (*snap)->first) {
          out.state = std::move(*st);
          out.version = (*snap)->first;
        }
      }
    }
    while (out.version < upto) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(read_page, upto - out.version));
      auto page = store.read_stream(id, out.version + 1, n);
      if (!page) return page.error();
      if (page->empty()) break;
      for (const auto& rec : *page) {
        if (rec.version != out.version + 1) return make_error_code(errc::corruption);
        auto ev = codec::decode_event(rec);
        if (!ev) return make_error_code(errc::corruption);
        if (until && ev->occurred_at > *until) return out;
        out.state = domain::evolve(std::move(out.state), *ev);
        out.version = rec.version;
        out.last_position = rec.position;
      }
      if (page->size() < n) break;
    }
    if (out.last_position == 0 && out.version > 0) {
      // Everything came from the snapshot: the position of its last event.
      auto last = store.read_stream(id, out.version, 1);
      if (!last) return last.error();
      if (!last->empty()) out.last_position = last->front().position;
    }
    return out;
  }

  /// The current state: the cache when it matches the store's head, else a fold (then cached).
  /// With `may_block` false, a state that needs a fold (a read of the store) comes back null.
  result<shared_tenant> load_current(const std::string& id, bool bypass_cache,
                                     bool may_block = true) {
    static const shared_tenant no_stream = std::make_shared<const loaded_tenant>();
    auto head = store.read_stream_head(id);
    if (!head) return head.error();
    std::optional<loaded_tenant> start;
    if (!bypass_cache) {
      if (auto cached = cache.get(id)) {
        if (cached->version == head->version && cached->last_position == head->last_position) {
          hits.fetch_add(1, std::memory_order_relaxed);
          return cached;
        }
        // Behind the head (appends beside this repository): fold only the missing events.
        if (cached->version < head->version && cached->last_position < head->last_position)
          start = *cached;
      }
    }
    if (head->version == 0) {
      misses.fetch_add(1, std::memory_order_relaxed);
      return no_stream;
    }
    if (!may_block) return shared_tenant{};
    misses.fetch_add(1, std::memory_order_relaxed);
    auto loaded = fold_stream(id, head->version, std::nullopt, std::move(start));
    if (!loaded) return loaded.error();
    auto shared = std::make_shared<const loaded_tenant>(std::move(*loaded));
    if (shared->version > 0) cache.put(id, shared);
    return shared;
  }

  // ---- executing ----

  /// The Idempotency-Key's events, when an earlier run of this request stored them.
  result<std::optional<execute_success>> find_replay(const std::string& id,
                                                     const std::string& seed) {
    auto first = store.read_event(seeded_id(seed, 0));
    if (!first) return first.error();
    if (!*first) return std::optional<execute_success>();
    if ((*first)->stream_id != id)
      return make_error_code(errc::duplicate_event_id);  // the key was used on another tenant
    auto stored = store.read_stream(id, (*first)->version, 1024);
    if (!stored) return stored.error();
    std::vector<recorded_event> mine;
    for (auto& rec : *stored) {
      if (rec.event_id != seeded_id(seed, mine.size())) break;
      mine.push_back(std::move(rec));
    }
    if (mine.empty()) return make_error_code(errc::corruption);
    auto events = decode_all(mine);
    if (!events) return events.error();
    auto state = fold_stream(id, mine.back().version, std::nullopt);
    if (!state) return state.error();
    execute_success s;
    s.after = std::make_shared<const loaded_tenant>(std::move(*state));
    s.events = std::move(*events);
    s.append = append_result{mine.front().position, mine.back().position, mine.front().version,
                             mine.back().version, true};
    s.position = mine.back().position;
    return std::optional<execute_success>(std::move(s));
  }

  /// `on_caller`: running inside execute() on the caller's thread (an io_context thread, say).
  /// There it must not block and never runs the handler: it only goes on while the tenant is
  /// in memory and the command appends; every other path starts again from the pool.
  void attempt(std::shared_ptr<command_run> run, bool on_caller = false) {
    // A stopped repository answers `closed` (post_attempt), even where the store is still open.
    if (on_caller && (run->replay_first || run->bypass_cache || pool.stopped()))
      return post_attempt(std::move(run));
    const std::string& id = run->id.str();
    // An Idempotency-Key's earlier run is looked for first only once this run met its traces
    // (its append found the key's event ids stored). Otherwise only before an answer other
    // than an append (412, a domain error, a no-op): an append of the key's events is refused
    // by the store's event-id idempotency when an earlier run stored them, and then comes back
    // here with replay_first. A keyed command thus costs no event-id read on its way to an
    // append.
    if (run->opts.event_id_seed && run->replay_first) {
      auto replay = find_replay(id, *run->opts.event_id_seed);
      if (!replay) return complete(*run, store_failure(replay.error()));
      if (*replay) return complete(*run, std::move(**replay));
    }
    auto answer = [&](execute_outcome outcome) {
      if (on_caller) return post_attempt(std::move(run));
      if (run->opts.event_id_seed && !run->replay_first) {
        auto replay = find_replay(id, *run->opts.event_id_seed);
        if (!replay) return complete(*run, store_failure(replay.error()));
        if (*replay) return complete(*run, std::move(**replay));
      }
      complete(*run, std::move(outcome));
    };

    auto loaded = load_current(id, run->bypass_cache, !on_caller);
    if (on_caller && (!loaded || !*loaded)) return post_attempt(std::move(run));
    if (!loaded) return complete(*run, store_failure(loaded.error()));
    const loaded_tenant& current = **loaded;
    if (run->opts.expected_version && *run->opts.expected_version != current.version)
      return answer(precondition_failure(current.version));

    const domain::decide_context ctx{options.clock(), options.limits,
                                     options.payment_failures_before_suspension};
    auto decision = domain::decide(current.state, run->cmd, ctx);
    if (!decision) return answer(domain_failure(decision.error()));
    if (decision->empty()) {
      execute_success s;
      s.position = current.last_position;
      s.after = std::move(*loaded);  // last: `current` refers to it
      return answer(std::move(s));
    }

    run->events.clear();
    run->events.reserve(decision->size());
    run->after = current.state;
    for (auto& d : *decision) {
      run->events.push_back(domain::event{std::move(d), ctx.now});
      domain::apply_in_place(run->after, run->events.back());
    }
    run->before_version = current.version;

    append_request req;
    req.stream_id = id;
    req.tenant_id = id;
    req.expected = current.version == 0 ? expected_version::no_stream()
                                        : expected_version::exact(current.version);
    req.metadata = run->opts.metadata;
    req.events.reserve(run->events.size());
    for (std::size_t i = 0; i < run->events.size(); ++i)
      req.events.push_back(codec::to_proposed(
          run->events[i],
          run->opts.event_id_seed ? seeded_id(*run->opts.event_id_seed, i) : new_v7_id(ctx.now)));
    // The unique-domain reservation changes in the same batch as the events.
    const auto claims = domain::claims_for(current.state, run->after);
    if (claims.release) req.claims.push_back({unique_claim::op::release, *claims.release});
    if (claims.claim) req.claims.push_back({unique_claim::op::claim, *claims.claim});

    // A store may answer at once (stopped, say): on the caller's thread that answer is finished
    // on the pool, so that the handler does not run inside execute() (unless the pool stopped
    // meanwhile: see the header's Lifecycle).
    caller_appending = on_caller;
    store.append(std::move(req), [self = shared_from_this(), run](append_outcome o) mutable {
      if (caller_appending) {
        caller_appending = false;
        if (self->pool.post([self, run, o] { self->appended(run, o); })) return;
      }
      self->appended(std::move(run), std::move(o));
    });
    caller_appending = false;
  }

  // On the store's writer thread: quick work only; anything blocking goes back to the pool.
  void appended(std::shared_ptr<command_run> run, append_outcome o) {
    const std::string& id = run->id.str();
    if (o.has_value()) {
      if (o->replayed) {
        // Another run of the same Idempotency-Key stored its events first: answer with those.
        run->bypass_cache = true;
        run->replay_first = true;
        return post_attempt(std::move(run));
      }
      auto after = std::make_shared<const loaded_tenant>(
          loaded_tenant{std::move(run->after), o->last_version, o->last_position});
      cache.put(id, after);
      maybe_snapshot(id, run->before_version, o->last_version, after->state);
      execute_success s;
      s.after = std::move(after);
      s.events = std::move(run->events);
      s.append = *o;
      s.position = o->last_position;
      return complete(*run, std::move(s));
    }
    const auto& err = o.error();
    switch (err.code) {
      case errc::wrong_expected_version:
        if (run->opts.expected_version)
          return complete(*run, precondition_failure(err.actual_version));
        if (run->attempt >= options.max_retries)
          return complete(*run, store_failure(make_error_code(errc::wrong_expected_version),
                                              "still conflicting after " +
                                                  std::to_string(run->attempt) + " retries"));
        ++run->attempt;
        retries.fetch_add(1, std::memory_order_relaxed);
        return post_attempt(std::move(run));
      case errc::duplicate_domain:
        return complete(
            *run, domain_failure(domain::error{
                      domain::errc::duplicate_domain, "the domain is held by another tenant", {}}));
      case errc::duplicate_event_id:
        // Some of the key's event ids are stored (an earlier run decided other events), or in
        // another stream: the earlier run's answer, or the error, comes from find_replay.
        if (run->opts.event_id_seed && !run->replay_first) {
          run->replay_first = true;
          return post_attempt(std::move(run));
        }
        [[fallthrough]];
      default:
        return complete(*run, store_failure(make_error_code(err.code), err.detail));
    }
  }

  void maybe_snapshot(const std::string& id, std::uint64_t before, std::uint64_t after_version,
                      const domain::tenant_state& state) {
    const auto every = options.snapshot_every;
    if (every == 0 || after_version / every == before / every) return;
    auto self = shared_from_this();
    pool.post([self, id, after_version, state] { self->write_snapshot(id, after_version, state); });
  }

  // Snapshot tasks may run out of order on the pool: never replace a newer snapshot.
  void write_snapshot(const std::string& id, std::uint64_t version,
                      const domain::tenant_state& state) {
    std::lock_guard lk(snapshot_mu);
    auto existing = store.load_snapshot(id);
    if (!existing || (*existing && (*existing)->first >= version)) return;
    if (!store.store_snapshot(id, version, codec::encode_state(state)))
      snapshots.fetch_add(1, std::memory_order_relaxed);
  }
};

repository::repository(event_store& store, repository_options options)
    : impl_(std::make_shared<impl>(store, std::move(options))) {}

repository::~repository() {
  stop();
}

void repository::execute(const domain::tenant_id& id, domain::command cmd, execute_options options,
                         execute_handler handler) {
  if (!handler) handler = [](execute_outcome) {};
  auto run = std::make_shared<impl::command_run>();
  run->id = id;
  run->cmd = std::move(cmd);
  run->opts = std::move(options);
  run->handler = std::move(handler);
  impl_->start(std::move(run));
}

result<loaded_tenant> repository::load(const domain::tenant_id& id) {
  auto loaded = impl_->load_current(id.str(), false);
  if (!loaded) return loaded.error();
  return **loaded;
}

result<loaded_tenant> repository::load_as_of(const domain::tenant_id& id, std::uint64_t version) {
  auto head = impl_->store.read_stream_head(id.str());
  if (!head) return head.error();
  return impl_->fold_stream(id.str(), std::min(version, head->version), std::nullopt);
}

result<loaded_tenant> repository::load_as_of(const domain::tenant_id& id, domain::clock_time at) {
  auto head = impl_->store.read_stream_head(id.str());
  if (!head) return head.error();
  return impl_->fold_stream(id.str(), head->version, at);
}

repository_stats repository::stats() const {
  return repository_stats{impl_->executed.load(), impl_->hits.load(), impl_->misses.load(),
                          impl_->retries.load(), impl_->snapshots.load()};
}

void repository::stop() {
  impl_->pool.stop();
}

}  // namespace tenant::eventstore
