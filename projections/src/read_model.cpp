// The read model: opening, the projector thread, queries, usage, memberships, waiters and the
// online rebuild. Layout of the database: db.hpp; folding: fold.hpp and sets.hpp.
#include <pthread.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "read_model_impl.hpp"
#include "row_codec.hpp"
#include "tenant/projections/search_text.hpp"

namespace tenant::projections {

std::vector<std::string> projection_names() {
  return {"tenants", "memberships"};
}

result<std::unique_ptr<read_model>> read_model::open(eventstore::event_store& store,
                                                     read_model_options options) {
  auto impl = std::make_unique<detail::read_model_impl>(store, std::move(options));
  if (auto ec = impl->open(); ec) return ec;
  return std::unique_ptr<read_model>(std::move(impl));
}

namespace {

// A page from memory: each id's view by a non-blocking `find`, nullopt as soon as one would
// block (the caller then lists with the blocking call); a tenant gone in between is left out.
template <class Ids, class Find>
std::optional<view_page> page_from_memory(std::uint64_t total, const Ids& ids, Find find) {
  view_page out;
  out.total = total;
  out.items.reserve(ids.size());
  for (const auto& id : ids) {
    auto l = find(id);
    if (l.status == lookup_status::would_block) return std::nullopt;
    if (l.status == lookup_status::found && l.view) out.items.push_back(std::move(l.view));
  }
  return out;
}

}  // namespace

std::optional<view_page> read_model::try_list(const list_query& q) const {
  const auto ids = list_ids(q);
  return page_from_memory(ids.total, ids.ids,
                          [this](const domain::tenant_id& id) { return try_find(id); });
}

namespace detail {

namespace {

using namespace std::chrono;

std::uint32_t day_of(domain::clock_time t) {
  return static_cast<std::uint32_t>(floor<days>(t).time_since_epoch().count());
}
std::uint32_t month_of(domain::clock_time t) {
  const year_month_day ymd{floor<days>(t)};
  return static_cast<std::uint32_t>(static_cast<int>(ymd.year()) * 12 +
                                    static_cast<int>(static_cast<unsigned>(ymd.month())) - 1);
}

std::string encode_usage(std::uint32_t seats, std::uint64_t storage, std::int64_t observed_ms) {
  std::string v;
  put_varint(v, seats);
  put_varint(v, storage);
  put_u64(v, static_cast<std::uint64_t>(observed_ms));
  return v;
}

std::vector<std::string> names_of(std::string_view name) {
  if (name == "all") return projection_names();
  return {std::string(name)};
}

}  // namespace

read_model_impl::read_model_impl(eventstore::event_store& store, read_model_options options)
    : store_(store), options_(std::move(options)) {
  std::random_device rd;
  hash_seed_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  if (options_.batch_events == 0) options_.batch_events = 1;
}

read_model_impl::~read_model_impl() {
  stop();
  // Sets hold generations (column family handles) of db_: release them first.
  tenants_.reset();
  members_.reset();
  jobs_.clear();
}

domain::clock_time read_model_impl::now() const {
  if (options_.clock) return options_.clock();
  return time_point_cast<milliseconds>(system_clock::now());
}

std::error_code read_model_impl::open() {
  if (options_.path.empty()) return make_error_code(errc::invalid_argument);
  auto db = projections_db::open({.path = options_.path,
                                  .block_cache_bytes = options_.block_cache_bytes,
                                  .read_only = options_.read_only,
                                  .fault = options_.fault});
  if (!db) return db.error();
  db_ = std::move(*db);
  auto tg = db_->active("tenants");
  if (!tg) return tg.error();
  auto ts = load_tenants(*db_, *tg, options_.view_cache_entries, hash_seed_);
  if (!ts) return ts.error();
  auto mg = db_->active("memberships");
  if (!mg) return mg.error();
  auto ms = load_members(*db_, *mg);
  if (!ms) return ms.error();
  tenants_ = std::move(*ts);
  members_ = std::move(*ms);

  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->usage()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 16) return make_error_code(errc::corruption);
      reader r{it->value().ToStringView()};
      usage_row u;
      const auto seats = r.varint();
      u.storage = r.varint();
      u.observed_ms = static_cast<std::int64_t>(r.u64());
      if (!r.ok || seats > UINT32_MAX) return make_error_code(errc::corruption);
      u.seats = static_cast<std::uint32_t>(seats);
      usage_[to_uuid16(it->key().ToStringView())] = u;
    }
    if (!it->status().ok()) return to_error(it->status());
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->api_calls()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 16) return make_error_code(errc::corruption);
      const auto id = to_uuid16(it->key().ToStringView());
      reader r{it->value().ToStringView()};
      api_counter c;
      c.day = static_cast<std::uint32_t>(r.varint());
      c.today = r.varint();
      c.month = static_cast<std::uint32_t>(r.varint());
      c.month_count = r.varint();
      if (!r.ok) return make_error_code(errc::corruption);
      counters_[uuid16_hash{}(id) % 16].counters[id] = c;
    }
    if (!it->status().ok()) return to_error(it->status());
  }
  return {};
}

std::shared_ptr<tenants_set> read_model_impl::tenants() const {
  std::lock_guard lk(sets_mu_);
  return tenants_;
}

std::shared_ptr<members_set> read_model_impl::members() const {
  std::lock_guard lk(sets_mu_);
  return members_;
}

// ---- lifecycle ----

void read_model_impl::start() {
  if (options_.read_only || started_.exchange(true)) return;
  last_flush_ = steady_clock::now();
  projector_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "projector");
    run_projector();
  });
  std::vector<std::string> interrupted;
  for (const auto& p : projection_names())
    if (db_->shadow(p)) interrupted.push_back(p);
  if (!interrupted.empty()) {
    std::lock_guard lk(rebuild_mu_);
    if (auto ec = start_rebuild_locked(interrupted, true); ec)
      set_error(interrupted.front(), "resuming the interrupted rebuild failed: " + ec.message());
  }
}

void read_model_impl::stop() {
  {
    std::lock_guard lk(wait_mu_);
    if (stopping_.exchange(true)) return;
  }
  {
    std::lock_guard lk(sub_mu_);
    if (sub_) sub_->cancel();
  }
  sleep_cv_.notify_all();
  {
    std::lock_guard lk(rebuild_mu_);
    for (auto& j : jobs_) {
      j->cancel = true;
      j->cv.notify_all();
    }
  }
  if (projector_.joinable()) projector_.join();
  std::vector<std::unique_ptr<rebuild_job>> jobs;
  {
    std::lock_guard lk(rebuild_mu_);
    jobs.swap(jobs_);
  }
  for (auto& j : jobs)
    if (j->thread.joinable()) j->thread.join();
  if (!options_.read_only && db_) flush_counters(true);
  complete_waiters(true);
}

// ---- the projector ----

void read_model_impl::set_error(const std::string& projection, std::string message) {
  std::lock_guard lk(error_mu_);
  if (message.empty()) {
    errors_.erase(projection);
  } else {
    errors_[projection] = std::move(message);
  }
}

result<std::vector<decoded_event>> read_model_impl::decode_all(
    std::vector<eventstore::recorded_event>& events) {
  std::vector<decoded_event> out;
  out.reserve(events.size());
  for (const auto& r : events) {
    // In place when the envelope is in the encoder's form (decode_stored), else the codec.
    if (auto ec = decode_recorded(r, false, out.emplace_back()); ec) {
      set_error("tenants", "the event at position " + std::to_string(r.position) + " (" + r.type +
                               ") does not decode; the projection waits");
      return ec;
    }
  }
  return out;
}

void read_model_impl::run_projector() {
  const auto backoff = milliseconds(500);
  auto pause = [&] {
    // Waiters whose deadline passed are answered (false) while the projection is stuck, e.g.
    // on a full disk: a read that waits for a position must not hang until space returns.
    complete_waiters(false);
    std::unique_lock lk(sleep_mu_);
    sleep_cv_.wait_for(lk, backoff, [&] { return stopping_.load(); });
    std::lock_guard slk(sub_mu_);
    sub_.reset();  // re-read from the checkpoints
  };
  // After a failed write of the projections database RocksDB refuses every write until it is
  // resumed (a full disk that frees up again does not clear it by itself): the projector
  // resumes it before its next fold.
  bool db_failed = false;
  bool resume_logged = false;  // one line per outage, not one per retry
  while (!stopping_) {
    if (db_failed) {
      if (auto why = db_->try_resume(); !why.empty()) {
        set_error("tenants", "writing the projections failed, waiting for storage: " + why);
        if (!resume_logged) spdlog::error("projections: cannot resume yet: {}", why);
        resume_logged = true;
        pause();
        continue;
      }
      db_failed = false;
      spdlog::warn("projections: storage recovered, the projector continues");
    }
    eventstore::subscription* sub = nullptr;
    {
      std::lock_guard lk(sub_mu_);
      if (stopping_) break;
      if (!sub_) sub_ = store_.subscribe(position());
      sub = sub_.get();
    }
    auto batch = sub->next(options_.batch_events, options_.idle_tick);
    if (stopping_) break;
    if (swap_pending_.exchange(false)) {
      if (auto ec = swap_ready_jobs(); ec) set_error("rebuild", "swap failed: " + ec.message());
    }
    if (!batch) {
      set_error("tenants", "reading the event log failed: " + batch.error().message());
      pause();
      continue;
    }
    if (!batch->empty()) {
      auto decoded = decode_all(*batch);
      if (!decoded) {
        pause();
        continue;
      }
      auto t = tenants();
      auto m = members();
      if (auto ec = fold_into(*db_, *decoded, t.get(), m.get(), false); ec) {
        set_error("tenants", "writing the projections failed: " + ec.message());
        if (ec == errc::storage_unavailable && !db_failed) {
          spdlog::error(
              "projections: writing the projections failed ({}); the projector "
              "resumes when the data directory takes writes again",
              ec.message());
          db_failed = true;
          resume_logged = false;
        }
        pause();
        continue;
      }
      set_error("tenants", "");
    }
    complete_waiters(false);
    flush_counters(false);
  }
}

void read_model_impl::complete_waiters(bool all_false) {
  const auto pos = position();
  const auto now_t = steady_clock::now();
  std::vector<std::pair<position_handler, bool>> fire;
  {
    std::lock_guard lk(wait_mu_);
    auto keep = waiters_.begin();
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if (pos >= it->position) {
        fire.emplace_back(std::move(it->done), true);
      } else if (all_false || it->deadline <= now_t) {
        fire.emplace_back(std::move(it->done), false);
      } else {
        if (keep != it) *keep = std::move(*it);
        ++keep;
      }
    }
    waiters_.erase(keep, waiters_.end());
  }
  for (auto& [done, ok] : fire)
    done(ok);
}

void read_model_impl::flush_counters(bool force) {
  const auto t = steady_clock::now();
  if (!force && t - last_flush_ < options_.counters_flush_interval) return;
  last_flush_ = t;
  rocksdb::WriteBatch wb;
  std::vector<std::pair<counter_shard*, uuid16>> written;
  for (auto& shard : counters_) {
    std::lock_guard lk(shard.mu);
    for (const auto& id : shard.dirty) {
      auto& c = shard.counters[id];
      c.dirty = false;
      std::string v;
      put_varint(v, c.day);
      put_varint(v, c.today);
      put_varint(v, c.month);
      put_varint(v, c.month_count);
      wb.Put(db_->api_calls(), as_view(id), v);
      written.emplace_back(&shard, id);
    }
    shard.dirty.clear();
  }
  if (written.empty()) return;
  auto s = db_->db()->Write(rocksdb::WriteOptions(), &wb);
  if (!s.ok()) {  // keep them dirty: the next flush retries
    for (auto& [shard, id] : written) {
      std::lock_guard lk(shard->mu);
      auto& c = shard->counters[id];
      if (!c.dirty) {
        c.dirty = true;
        shard->dirty.push_back(id);
      }
    }
  }
}

// ---- tenant views ----

lookup read_model_impl::try_find(const domain::tenant_id& id) const {
  const auto key = tenant_key(id);
  if (!key) return {lookup_status::not_found, nullptr};
  return try_find_key(*tenants(), *key);
}

lookup read_model_impl::try_find_key(tenants_set& set, const uuid16& key) const {
  if (auto v = set.cache->get(key); v && v->state.exists())
    return {lookup_status::found, std::move(v)};
  {
    std::shared_lock lk(set.mu);
    if (set.index.find(key) == tenant_index::npos) return {lookup_status::not_found, nullptr};
  }
  auto r = read_row_ptr(set, key, true);
  if (!r) return {lookup_status::would_block, nullptr};
  if (!*r || !(*r)->state.exists()) return {lookup_status::not_found, nullptr};
  return {lookup_status::found, std::move(*r)};
}

result<tenant_view_ptr> read_model_impl::find(const domain::tenant_id& id) const {
  const auto key = tenant_key(id);
  if (!key) return tenant_view_ptr();
  const auto set = tenants();
  {
    std::shared_lock lk(set->mu);
    if (set->index.find(*key) == tenant_index::npos) return tenant_view_ptr();
  }
  auto r = read_row_ptr(*set, *key, false);
  if (!r) return r.error();
  if (*r && !(*r)->state.exists()) return tenant_view_ptr();
  return r;
}

bool read_model_impl::exists(const domain::tenant_id& id) const {
  const auto key = tenant_key(id);
  if (!key) return false;
  const auto set = tenants();
  std::shared_lock lk(set->mu);
  return set->index.find(*key) != tenant_index::npos;
}

// ---- lists ----

tenant_index::filter read_model_impl::make_filter(const list_query& q) const {
  tenant_index::filter f;
  f.buckets = tenant_index::bucket_mask(q.status, q.plan);
  if (q.name) f.folded_name = fold_name(*q.name);
  if (q.description) f.words = fold_words(*q.description);
  return f;
}

id_page read_model_impl::query_ids(const list_query& q) const {
  auto keys = query_keys(*tenants(), q);
  id_page out;
  out.total = keys.total;
  out.ids.reserve(keys.keys.size());
  for (const auto& k : keys.keys)
    out.ids.push_back(tenant_of(k));
  return out;
}

std::optional<view_page> read_model_impl::try_list(const list_query& q) const {
  // One snapshot of the tenants set for the ids and the views, and no id strings: the ids go
  // from the index to the view cache as keys (formatting and parsing each id back was a tenth
  // of a list page's CPU once the items' JSON was kept with the views).
  const auto set = tenants();
  const auto keys = query_keys(*set, q);
  return page_from_memory(keys.total, keys.keys,
                          [&](const uuid16& k) { return try_find_key(*set, k); });
}

read_model_impl::key_page read_model_impl::query_keys(tenants_set& set, const list_query& q) const {
  auto f = make_filter(q);  // ICU work outside the lock
  std::vector<uuid16> visible;
  if (q.visible) {
    visible.reserve(q.visible->size());
    for (const auto& id : *q.visible)
      if (auto k = tenant_key(id)) visible.push_back(*k);
  }
  const std::uint64_t per_page = std::clamp<std::uint64_t>(q.per_page, 1, 100);
  const std::uint64_t page = std::max<std::uint64_t>(q.page, 1);
  const std::uint64_t offset =
      (page - 1) > UINT64_MAX / per_page ? UINT64_MAX : (page - 1) * per_page;
  key_page out;
  auto& ids = out.keys;
  {
    std::shared_lock lk(set.mu);
    if (q.visible) {
      std::vector<tenant_index::ordinal> ords;
      ords.reserve(visible.size());
      for (const auto& k : visible) {
        const auto o = set.index.find(k);
        if (o != tenant_index::npos) ords.push_back(o);
      }
      std::sort(ords.begin(), ords.end());
      ords.erase(std::unique(ords.begin(), ords.end()), ords.end());
      f.visible = std::move(ords);
    }
    const auto page_result = set.index.query(f, offset, per_page);
    out.total = page_result.total;
    ids.reserve(page_result.ordinals.size());
    for (auto o : page_result.ordinals)
      ids.push_back(set.index.id_at(o));
  }
  return out;
}

std::uint64_t read_model_impl::count(const list_query& q) const {
  list_query c = q;
  c.page = 1;
  c.per_page = 1;
  return query_ids(c).total;
}

id_page read_model_impl::list_ids(const list_query& q) const {
  return query_ids(q);
}

result<view_page> read_model_impl::list(const list_query& q) const {
  auto ids = query_ids(q);
  view_page out;
  out.total = ids.total;
  out.items.reserve(ids.ids.size());
  for (const auto& id : ids.ids) {
    auto v = find(id);
    if (!v) return v.error();
    if (*v) out.items.push_back(std::move(*v));
  }
  return out;
}

// ---- usage ----

result<std::optional<usage_view>> read_model_impl::usage(const domain::tenant_id& id) const {
  auto v = find(id);
  if (!v) return v.error();
  if (!*v) return std::optional<usage_view>();
  const auto key = *tenant_key(id);
  usage_view u;
  u.tenant_id = (*v)->state.id;
  u.plan = (*v)->state.subscription.plan;
  u.seat_limit = options_.limits.seat_limit(u.plan);
  u.events_recorded = (*v)->state.version.value;
  {
    std::lock_guard lk(usage_mu_);
    if (auto it = usage_.find(key); it != usage_.end()) {
      u.seats_in_use = it->second.seats;
      u.storage_bytes = it->second.storage;
      u.observed_at = domain::clock_time(milliseconds(it->second.observed_ms));
    }
  }
  const auto t = now();
  {
    auto& shard = counters_[uuid16_hash{}(key) % 16];
    std::lock_guard lk(shard.mu);
    if (auto it = shard.counters.find(key); it != shard.counters.end()) {
      if (it->second.day == day_of(t)) u.api_calls_today = it->second.today;
      if (it->second.month == month_of(t)) u.api_calls_month = it->second.month_count;
    }
  }
  if (u.seat_limit && *u.seat_limit > 0)
    u.seats_percent_used = static_cast<double>(u.seats_in_use) * 100.0 / *u.seat_limit;
  return std::optional<usage_view>(std::move(u));
}

std::uint32_t read_model_impl::seats_in_use(const domain::tenant_id& id) const {
  const auto key = tenant_key(id);
  if (!key) return 0;
  std::lock_guard lk(usage_mu_);
  auto it = usage_.find(*key);
  return it == usage_.end() ? 0 : it->second.seats;
}

result<bool> read_model_impl::apply_usage(const domain::tenant_id& id, std::uint32_t seats,
                                          std::uint64_t storage, domain::clock_time observed_at) {
  // result<bool> cannot be built from an error_code implicitly (bool converts from it).
  auto fail = [](std::error_code ec) { return result<bool>(boost::system::in_place_error, ec); };
  if (options_.read_only) return fail(make_error_code(errc::read_only));
  const auto key = tenant_key(id);
  if (!key) return fail(make_error_code(errc::invalid_argument));
  const auto ms = observed_at.time_since_epoch().count();
  // One writer at a time: the compare and the write must not interleave with another report.
  std::lock_guard lk(usage_mu_);
  if (auto it = usage_.find(*key); it != usage_.end() && it->second.observed_ms > ms) return false;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->db()->Put(wo, db_->usage(), as_view(*key), encode_usage(seats, storage, ms));
  if (!s.ok()) return fail(to_error(s));
  usage_[*key] = usage_row{seats, storage, ms};
  return true;
}

void read_model_impl::record_api_call(const domain::tenant_id& id) {
  const auto key = tenant_key(id);
  if (!key) return;
  const auto t = now();
  const auto day = day_of(t);
  const auto month = month_of(t);
  auto& shard = counters_[uuid16_hash{}(*key) % 16];
  std::lock_guard lk(shard.mu);
  auto [it, inserted] = shard.counters.try_emplace(*key);
  auto& c = it->second;
  if (c.day != day) {
    c.day = day;
    c.today = 0;
  }
  if (c.month != month) {
    c.month = month;
    c.month_count = 0;
  }
  ++c.today;
  ++c.month_count;
  if (!c.dirty) {
    c.dirty = true;
    shard.dirty.push_back(*key);
  }
}

// ---- memberships ----

bool read_model_impl::may_touch(const domain::user_id& user,
                                const domain::tenant_id& tenant) const {
  const auto key = tenant_key(tenant);
  if (!key) return false;
  const auto set = members();
  std::shared_lock lk(set->mu);
  return set->index.contains(user.str(), *key);
}

std::vector<domain::tenant_id> read_model_impl::tenants_of(const domain::user_id& user) const {
  std::vector<domain::tenant_id> out;
  const auto set = members();
  std::shared_lock lk(set->mu);
  if (const auto* e = set->index.find(user.str()))
    for (const auto& t : e->tenants)
      out.push_back(tenant_of(t));
  return out;
}

std::optional<domain::tenant_id> read_model_impl::current_tenant(
    const domain::user_id& user) const {
  const auto set = members();
  std::shared_lock lk(set->mu);
  const auto* e = set->index.find(user.str());
  if (!e || !e->current) return std::nullopt;
  return tenant_of(*e->current);
}

// ---- read-your-writes ----

std::uint64_t read_model_impl::position() const {
  std::lock_guard lk(sets_mu_);
  if (!tenants_ || !members_) return 0;  // open() failed
  return std::min(tenants_->checkpoint.load(), members_->checkpoint.load());
}

void read_model_impl::wait_for_position(std::uint64_t n, steady_clock::time_point deadline,
                                        position_handler done) {
  if (position() >= n) {
    done(true);
    return;
  }
  {
    std::unique_lock lk(wait_mu_);
    // Re-checked under the lock: the projector publishes, then takes this lock to fire.
    if (position() >= n) {
      lk.unlock();
      done(true);
      return;
    }
    if (!stopping_ && started_) {
      waiters_.push_back({n, deadline, std::move(done)});
      return;
    }
  }
  done(false);  // no projector: the position cannot move
}

// ---- operations ----

std::vector<projection_status> read_model_impl::status() const {
  const std::uint64_t head = store_.head();
  std::vector<projection_status> out;
  auto add = [&](const std::string& name, std::uint64_t cp, std::uint64_t gen) {
    projection_status s;
    s.name = name;
    s.kind = "projection";
    s.checkpoint = cp;
    s.head = head;
    s.lag = head > cp ? head - cp : 0;
    s.generation = gen;
    {
      std::lock_guard lk(rebuild_mu_);
      for (const auto& j : jobs_) {
        if (j->done) continue;
        if (name == "tenants" && j->tenants)
          s.rebuild = rebuild_status{j->tenants->gen->number, j->tenants->checkpoint.load(), true};
        if (name == "memberships" && j->members)
          s.rebuild = rebuild_status{j->members->gen->number, j->members->checkpoint.load(), true};
      }
    }
    if (!s.rebuild) {
      if (auto sh = db_->shadow(name)) s.rebuild = rebuild_status{sh->number, 0, sh->online};
    }
    std::lock_guard lk(error_mu_);
    if (auto it = errors_.find(name); it != errors_.end()) s.error = it->second;
    if (auto it = errors_.find("rebuild"); it != errors_.end() && s.error.empty())
      s.error = it->second;
    out.push_back(std::move(s));
  };
  const auto t = tenants();
  const auto m = members();
  add("tenants", t->checkpoint.load(), t->gen->number);
  add("memberships", m->checkpoint.load(), m->gen->number);
  return out;
}

bool read_model_impl::caught_up(std::uint64_t max_lag) const {
  const auto head = store_.head();
  const auto pos = position();
  return pos >= head || head - pos <= max_lag;
}

// ---- online rebuild ----

std::error_code read_model_impl::rebuild(std::string_view name) {
  if (options_.read_only) return make_error_code(errc::read_only);
  if (name != "all" && !is_projection(name)) return make_error_code(errc::unknown_projection);
  if (stopping_) return make_error_code(errc::closed);
  std::lock_guard lk(rebuild_mu_);
  const auto names = names_of(name);
  for (const auto& j : jobs_) {
    if (j->done) continue;
    for (const auto& p : j->projections)
      if (std::find(names.begin(), names.end(), p) != names.end())
        return make_error_code(errc::busy);
  }
  return start_rebuild_locked(names, true);
}

std::error_code read_model_impl::start_rebuild_locked(std::vector<std::string> names, bool online) {
  // Reap finished jobs.
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if ((*it)->done) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  auto job = std::make_unique<rebuild_job>();
  job->projections = names;
  for (const auto& p : names) {
    auto gen = db_->begin_shadow(p, online);
    if (!gen) return gen.error();
    if (p == "tenants") {
      auto set = load_tenants(*db_, *gen, options_.view_cache_entries, hash_seed_);
      if (!set) return set.error();
      job->tenants = std::move(*set);
    } else {
      auto set = load_members(*db_, *gen);
      if (!set) return set.error();
      job->members = std::move(*set);
    }
  }
  auto* raw = job.get();
  job->thread = std::thread([this, raw] { run_rebuild(raw); });
  jobs_.push_back(std::move(job));
  return {};
}

void read_model_impl::run_rebuild(rebuild_job* job) {
  auto shadow_cp = [job] {
    std::uint64_t cp = UINT64_MAX;
    if (job->tenants) cp = std::min(cp, job->tenants->checkpoint.load());
    if (job->members) cp = std::min(cp, job->members->checkpoint.load());
    return cp;
  };
  auto fail = [&](const std::string& message) {
    set_error("rebuild", message);
    std::unique_lock lk(job->mu);
    job->cv.wait_for(lk, milliseconds(500), [&] { return job->cancel.load(); });
  };
  while (!job->cancel) {
    const auto cp = shadow_cp();
    const auto live = position();
    auto events = store_.read_all(cp + 1, options_.batch_events);
    if (!events) {
      fail("rebuild: reading the event log failed: " + events.error().message());
      continue;
    }
    if (events->empty() || cp + options_.batch_events >= live) {
      // Close enough: the projector folds the rest and swaps at its next batch boundary.
      job->ready = true;
      swap_pending_ = true;
      std::unique_lock lk(job->mu);
      job->cv.wait(lk, [&] { return job->cancel || job->done || !job->ready; });
      if (job->done || job->cancel) return;
      continue;  // the swap failed: keep folding, ask again
    }
    auto decoded = decode_all(*events);
    if (!decoded) {
      fail("rebuild: an event does not decode");
      continue;
    }
    if (auto ec = fold_into(*db_, *decoded, job->tenants.get(), job->members.get(), false); ec) {
      fail("rebuild: writing the shadow copy failed: " + ec.message());
      continue;
    }
    set_error("rebuild", "");
  }
}

std::error_code read_model_impl::catch_up(rebuild_job& job, std::uint64_t to) {
  while (true) {
    std::uint64_t cp = UINT64_MAX;
    if (job.tenants) cp = std::min(cp, job.tenants->checkpoint.load());
    if (job.members) cp = std::min(cp, job.members->checkpoint.load());
    if (cp >= to) return {};
    const auto n = std::min<std::uint64_t>(options_.batch_events, to - cp);
    auto events = store_.read_all(cp + 1, static_cast<std::size_t>(n));
    if (!events) return events.error();
    if (events->empty()) return make_error_code(errc::corruption);  // the log is shorter
    auto decoded = decode_all(*events);
    if (!decoded) return decoded.error();
    if (auto ec = fold_into(*db_, *decoded, job.tenants.get(), job.members.get(), false); ec)
      return ec;
  }
}

std::error_code read_model_impl::swap_ready_jobs() {
  std::vector<rebuild_job*> ready;
  {
    std::lock_guard lk(rebuild_mu_);
    for (auto& j : jobs_)
      if (j->ready && !j->done) ready.push_back(j.get());
  }
  std::error_code result;
  for (auto* job : ready) {
    std::uint64_t target = 0;
    {
      std::lock_guard lk(sets_mu_);
      if (job->tenants) target = std::max(target, tenants_->checkpoint.load());
      if (job->members) target = std::max(target, members_->checkpoint.load());
    }
    std::error_code ec = catch_up(*job, target);
    if (!ec && job->tenants) {
      ec = db_->swap_in(tenants()->gen, job->tenants->gen);
      if (!ec) {
        std::lock_guard lk(sets_mu_);
        tenants_ = job->tenants;
      }
    }
    if (!ec && job->members) {
      ec = db_->swap_in(members()->gen, job->members->gen);
      if (!ec) {
        std::lock_guard lk(sets_mu_);
        members_ = job->members;
      }
    }
    {
      std::lock_guard lk(job->mu);
      if (ec) {
        job->ready = false;
        result = ec;
      } else {
        job->done = true;
      }
    }
    job->cv.notify_all();
  }
  return result;
}

}  // namespace detail
}  // namespace tenant::projections
