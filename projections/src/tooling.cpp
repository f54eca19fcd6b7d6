// Offline tooling: replay into a shadow generation, export/import of the log as NDJSON, and the
// comparison of the projections with a fresh in-memory fold (verify).
#include "tenant/projections/tooling.hpp"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <istream>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "db.hpp"
#include "fold.hpp"
#include "row_codec.hpp"
#include "sets.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::projections {

namespace {

using namespace detail;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

result<std::vector<std::string>> resolve_names(const std::vector<std::string>& in) {
  std::set<std::string> out;
  for (const auto& n : in) {
    if (n == "all") {
      for (const auto& p : projection_names())
        out.insert(p);
    } else if (is_projection(n)) {
      out.insert(n);
    } else {
      return make_error_code(errc::unknown_projection);
    }
  }
  if (out.empty()) return make_error_code(errc::unknown_projection);
  return std::vector<std::string>(out.begin(), out.end());
}

// Decoded batches handed from the reading thread to the writing one; at most `capacity` of
// them wait, so memory is bounded by batch size.
class batch_queue {
 public:
  explicit batch_queue(std::size_t capacity) : capacity_(capacity) {}
  bool push(std::vector<decoded_event> b) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return q_.size() < capacity_ || closed_; });
    if (closed_) return false;
    q_.push_back(std::move(b));
    cv_.notify_all();
    return true;
  }
  // Empty optional: the producer finished (or failed: see error()).
  std::optional<std::vector<decoded_event>> pop() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !q_.empty() || done_ || closed_; });
    if (q_.empty()) return std::nullopt;
    auto b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return b;
  }
  void finish(std::error_code ec) {
    std::lock_guard lk(mu_);
    done_ = true;
    error_ = ec;
    cv_.notify_all();
  }
  void close() {
    std::lock_guard lk(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  std::error_code error() {
    std::lock_guard lk(mu_);
    return error_;
  }

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<decoded_event>> q_;
  bool done_ = false;
  bool closed_ = false;
  std::error_code error_;
};

// Tenant rows kept between batches, bounded in bytes; evicted rows are read back from the
// shadow copy (they were written at the end of their batch).
class row_cache {
 public:
  explicit row_cache(std::size_t budget) : budget_(budget) {}
  tenant_view_ptr get(const uuid16& id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? nullptr : it->second;
  }
  void put(const uuid16& id, tenant_view_ptr v) {
    const auto b = view_bytes(*v) + 64;
    auto [it, inserted] = rows_.try_emplace(id, nullptr);
    if (!inserted) bytes_ -= view_bytes(*it->second) + 64;
    it->second = std::move(v);
    bytes_ += b;
    if (bytes_ > budget_) {
      for (auto e = rows_.begin(); e != rows_.end() && bytes_ > budget_ / 4 * 3;) {
        bytes_ -= view_bytes(*e->second) + 64;
        e = rows_.erase(e);
      }
    }
  }

 private:
  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::unordered_map<uuid16, tenant_view_ptr, uuid16_hash> rows_;
};

result<replay_summary> run_replay(eventstore::event_store& store, const replay_options& options,
                                  std::uint64_t stop_at) {
  const auto started = clock_type::now();
  auto names = resolve_names(options.projections);
  if (!names) return names.error();
  auto opened = projections_db::open({options.path, options.block_cache_bytes, false});
  if (!opened) return opened.error();
  auto& db = **opened;
  const std::size_t batch = std::max<std::size_t>(options.batch_events, 1);
  const std::uint64_t target = store.head();

  struct target_set {
    std::string name;
    generation_ptr old_active;
    generation_ptr shadow;
    std::uint64_t checkpoint = 0;
  };
  std::vector<target_set> sets;
  for (const auto& n : *names) {
    target_set t;
    t.name = n;
    auto a = db.active(n);
    if (!a) return a.error();
    t.old_active = *a;
    auto s = db.begin_shadow(n, false);
    if (!s) return s.error();
    t.shadow = *s;
    auto cp = db.load_checkpoint(t.shadow->checkpoint_key());
    if (!cp) return cp.error();
    t.checkpoint = *cp;
    sets.push_back(std::move(t));
  }
  std::uint64_t from = UINT64_MAX;
  for (const auto& t : sets)
    from = std::min(from, t.checkpoint);
  replay_summary summary;
  summary.resumed_from = from;

  target_set* tenants = nullptr;
  target_set* members = nullptr;
  for (auto& t : sets)
    (t.name == "tenants" ? tenants : members) = &t;

  // Reader: the log, decoded (and text folded) off the writer's thread.
  batch_queue queue(4);
  std::thread reader([&] {
    std::uint64_t next = from + 1;
    while (next <= target) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(batch, target - next + 1));
      auto events = store.read_all(next, n);
      if (!events) return queue.finish(make_error_code(errc::storage_unavailable));
      if (events->empty()) return queue.finish(make_error_code(errc::corruption));
      std::vector<decoded_event> out;
      out.reserve(events->size());
      for (const auto& r : *events) {
        auto d = decode(r, tenants != nullptr);
        if (!d) return queue.finish(d.error());
        out.push_back(std::move(*d));
      }
      next = events->back().position + 1;
      if (!queue.push(std::move(out))) return;
    }
    queue.finish({});
  });
  struct join_guard {
    batch_queue& q;
    std::thread& t;
    ~join_guard() {
      q.close();
      if (t.joinable()) t.join();
    }
  } guard{queue, reader};

  row_cache cache(options.row_cache_bytes);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // durability comes from the periodic atomic flush below
  rocksdb::FlushOptions fo;
  fo.wait = true;
  auto persist = [&]() -> std::error_code {
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    for (const auto& t : sets)
      cfs.insert(cfs.end(), t.shadow->cfs.begin(), t.shadow->cfs.end());
    cfs.push_back(db.checkpoints());
    auto s = db.db()->Flush(fo, cfs);
    return s.ok() ? std::error_code() : to_error(s);
  };
  std::uint64_t position = from;
  std::uint64_t since_persist = 0;
  auto last_progress = clock_type::now();
  auto report = [&](bool force) {
    if (!options.progress) return;
    if (!force && clock_type::now() - last_progress < std::chrono::milliseconds(100)) return;
    last_progress = clock_type::now();
    replay_progress p;
    for (const auto& t : sets)
      p.projection += (p.projection.empty() ? "" : "+") + t.name;
    p.position = position;
    p.target = target;
    p.seconds = seconds_since(started);
    p.events_per_second = p.seconds > 0 ? static_cast<double>(position - from) / p.seconds : 0;
    options.progress(p);
  };

  while (auto events = queue.pop()) {
    if (events->empty()) continue;
    const std::uint64_t last = events->back().position;
    rocksdb::WriteBatch wb;
    std::vector<tenant_change> changes;
    if (tenants && tenants->checkpoint < last) {
      auto* rows_cf = tenants->shadow->cfs[0];
      tenants_fold tf([&](const uuid16& id) -> result<std::optional<tenant_view>> {
        if (auto v = cache.get(id)) return std::optional<tenant_view>(*v);
        std::string value;
        auto s = db.db()->Get(rocksdb::ReadOptions(), rows_cf, as_view(id), &value);
        if (s.IsNotFound()) return std::optional<tenant_view>();
        if (!s.ok()) return to_error(s);
        auto v = decode_view(value);
        if (!v) return make_error_code(errc::corruption);
        return std::optional<tenant_view>(std::move(*v));
      });
      for (const auto& e : *events)
        if (e.position > tenants->checkpoint)
          if (auto ec = tf.apply(e); ec) return ec;
      changes = tf.write(wb, rows_cf, tenants->shadow->cfs[1]);
      db.put_checkpoint(wb, tenants->shadow->checkpoint_key(), last);
    }
    if (members && members->checkpoint < last) {
      members_fold mf;
      for (const auto& e : *events)
        if (e.position > members->checkpoint) mf.apply(e);
      mf.write(wb, members->shadow->cfs[0]);
      db.put_checkpoint(wb, members->shadow->checkpoint_key(), last);
    }
    auto s = db.db()->Write(wo, &wb);
    if (!s.ok()) return to_error(s);
    for (auto& c : changes)
      cache.put(c.id, std::move(c.view));
    for (auto& t : sets)
      t.checkpoint = std::max(t.checkpoint, last);
    since_persist += events->size();
    position = last;
    if (since_persist >= options.persist_every_events) {
      if (auto ec = persist(); ec) return ec;
      since_persist = 0;
    }
    report(false);
    if (options.after_batch) options.after_batch(position);
    if (position >= stop_at) {
      if (auto ec = persist(); ec) return ec;
      return make_error_code(errc::closed);
    }
  }
  if (auto ec = queue.error(); ec) return ec;
  if (position < target) return make_error_code(errc::corruption);
  if (auto ec = persist(); ec) return ec;
  for (auto& t : sets)
    if (auto ec = db.swap_in(t.old_active, t.shadow); ec) return ec;
  report(true);
  summary.position = target;
  summary.events = target - from;
  summary.seconds = seconds_since(started);
  summary.events_per_second =
      summary.seconds > 0 ? static_cast<double>(summary.events) / summary.seconds : 0;
  return summary;
}

}  // namespace

result<replay_summary> replay(eventstore::event_store& store, const replay_options& options) {
  return run_replay(store, options, UINT64_MAX);
}

result<replay_summary> replay_until(eventstore::event_store& store, const replay_options& options,
                                    std::uint64_t position) {
  return run_replay(store, options, position);
}

// ---- export / import ----

result<std::uint64_t> export_log(eventstore::event_store& store, std::ostream& out) {
  const std::uint64_t head = store.head();
  std::uint64_t next = 1;
  while (next <= head) {
    auto events = store.read_all(next, 4'096);
    if (!events) return make_error_code(errc::storage_unavailable);
    if (events->empty()) return make_error_code(errc::corruption);
    for (const auto& e : *events) {
      if (e.position != next) return make_error_code(errc::corruption);
      out << e.envelope_json << '\n';
      ++next;
      if (next > head) break;
    }
    if (!out) return make_error_code(errc::storage_unavailable);
  }
  out.flush();
  if (!out) return make_error_code(errc::storage_unavailable);
  return head;
}

namespace {

import_error line_error(std::uint64_t line, std::string message) {
  return import_error{make_error_code(errc::invalid_argument), line,
                      "line " + std::to_string(line) + ": " + std::move(message)};
}

bool same_metadata(const eventstore::event_metadata& a, const eventstore::event_metadata& b) {
  return a.correlation_id == b.correlation_id && a.causation_id == b.causation_id &&
         a.actor == b.actor && a.traceparent == b.traceparent;
}

}  // namespace

import_outcome import_log(eventstore::event_store& store, std::istream& in) {
  if (store.head() != 0)
    return import_error{make_error_code(errc::invalid_argument), 0,
                        "the event store is not empty (head " + std::to_string(store.head()) +
                            "): import only into an empty store"};
  const auto start = in.tellg();
  if (start == std::istream::pos_type(-1))
    return import_error{make_error_code(errc::invalid_argument), 0,
                        "the input must be seekable (validated fully before anything is written)"};

  // Pass 1: every line is a well-formed envelope, positions 1..n without gaps, versions
  // contiguous per stream, event ids unique. Nothing is written unless all of it holds.
  std::string line;
  std::uint64_t lineno = 0;
  std::uint64_t expected = 1;
  std::unordered_map<std::string, std::uint64_t> versions;
  std::unordered_set<std::string> ids;
  while (std::getline(in, line)) {
    ++lineno;
    auto env = eventstore::codec::decode_envelope(line);
    if (!env) return line_error(lineno, "not a valid event envelope");
    if (env->position != expected)
      return line_error(lineno, "position " + std::to_string(expected) + " expected, got " +
                                    std::to_string(env->position));
    auto& v = versions[env->stream_id];
    if (env->version != v + 1)
      return line_error(lineno, "version " + std::to_string(v + 1) + " of stream " +
                                    env->stream_id + " expected, got " +
                                    std::to_string(env->version));
    v = env->version;
    if (!ids.insert(env->event_id).second)
      return line_error(lineno, "duplicate event id " + env->event_id);
    ++expected;
  }
  if (in.bad())
    return import_error{make_error_code(errc::storage_unavailable), lineno, "read error"};
  ids.clear();
  versions.clear();
  in.clear();
  in.seekg(start);
  if (!in) return import_error{make_error_code(errc::storage_unavailable), 0, "cannot rewind"};

  // Pass 2: append, grouping consecutive events of one stream with the same metadata into one
  // atomic append (as they were most likely written). The single writer keeps submission order,
  // so positions come out as in the file; each result is checked anyway.
  struct state_t {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t in_flight = 0;
    std::optional<import_error> error;
  } st;
  auto submit = [&](eventstore::append_request r, std::uint64_t first_position,
                    std::uint64_t first_line) {
    {
      std::unique_lock lk(st.mu);
      st.cv.wait(lk, [&] { return st.in_flight < 256; });
      ++st.in_flight;
    }
    store.append(std::move(r), [&st, first_position, first_line](eventstore::append_outcome o) {
      std::lock_guard lk(st.mu);
      --st.in_flight;
      if (!st.error) {
        if (!o) {
          st.error = line_error(first_line, "append refused: " + o.error().detail);
        } else if (o->first_position != first_position || o->replayed) {
          st.error =
              line_error(first_line, "appended at position " + std::to_string(o->first_position) +
                                         " instead of " + std::to_string(first_position));
        }
      }
      st.cv.notify_all();
    });
  };
  std::optional<eventstore::append_request> pending;
  std::uint64_t pending_pos = 0, pending_line = 0, count = 0;
  lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto env = eventstore::codec::decode_envelope(line);
    if (!env) return line_error(lineno, "not a valid event envelope");  // changed under us
    {
      std::lock_guard lk(st.mu);
      if (st.error) break;
    }
    if (pending &&
        (pending->stream_id != env->stream_id || pending->tenant_id != env->tenant_id ||
         !same_metadata(pending->metadata, env->metadata) || pending->events.size() >= 1'000)) {
      submit(std::move(*pending), pending_pos, pending_line);
      pending.reset();
    }
    if (!pending) {
      pending.emplace();
      pending->stream_id = env->stream_id;
      pending->tenant_id = env->tenant_id;
      pending->metadata = env->metadata;
      pending->expected = env->version == 1 ? eventstore::expected_version::no_stream()
                                            : eventstore::expected_version::exact(env->version - 1);
      pending_pos = env->position;
      pending_line = lineno;
    }
    eventstore::proposed_event p;
    p.event_id = env->event_id;
    p.type = env->type;
    p.schema_version = env->schema_version;
    p.data_json = std::move(env->data_json);
    p.occurred_at = env->occurred_at;
    pending->events.push_back(std::move(p));
    ++count;
  }
  if (pending) submit(std::move(*pending), pending_pos, pending_line);
  std::unique_lock lk(st.mu);
  st.cv.wait(lk, [&] { return st.in_flight == 0; });
  if (st.error) return *st.error;
  return count;
}

// ---- verify ----

result<verify_report> verify_against_replay(eventstore::event_store& store,
                                            const std::string& path) {
  auto opened = projections_db::open({path, 16u << 20, true});
  if (!opened) return opened.error();
  auto& db = **opened;
  auto tg = db.active("tenants");
  if (!tg) return tg.error();
  auto mg = db.active("memberships");
  if (!mg) return mg.error();
  auto tcp = db.load_checkpoint((*tg)->checkpoint_key());
  if (!tcp) return tcp.error();
  auto mcp = db.load_checkpoint((*mg)->checkpoint_key());
  if (!mcp) return mcp.error();

  verify_report report;
  constexpr std::size_t max_problems = 100;
  std::size_t dropped = 0;
  auto problem = [&](std::string p) {
    if (report.problems.size() < max_problems) {
      report.problems.push_back(std::move(p));
    } else {
      ++dropped;
    }
  };
  const std::uint64_t upto = std::max(*tcp, *mcp);
  report.position = std::min(*tcp, *mcp);
  if (upto > store.head()) {
    problem("the projections (checkpoint " + std::to_string(upto) +
            ") are ahead of the log as read (head " + std::to_string(store.head()) +
            "): tenantd kept writing; run verify again");
    return report;
  }

  // The fresh fold, in memory.
  std::unordered_map<uuid16, tenant_view, uuid16_hash> views;
  std::map<std::string, membership_index::entry> members;
  {
    tenants_fold tf([&](const uuid16& id) -> result<std::optional<tenant_view>> {
      auto it = views.find(id);
      if (it == views.end()) return std::optional<tenant_view>();
      return std::optional<tenant_view>(it->second);
    });
    std::uint64_t next = 1;
    while (next <= upto) {
      auto events = store.read_all(
          next, static_cast<std::size_t>(std::min<std::uint64_t>(4'096, upto - next + 1)));
      if (!events) return make_error_code(errc::storage_unavailable);
      if (events->empty()) return make_error_code(errc::corruption);
      for (const auto& r : *events) {
        auto d = decode(r, false);
        if (!d) {
          problem("event " + std::to_string(r.position) + " does not decode");
          return report;
        }
        if (r.position <= *tcp) {
          if (auto ec = tf.apply(*d); ec) return ec;
          rocksdb::WriteBatch scratch;  // tenants_fold writes rows; only the views matter here
          for (auto& c : tf.write(scratch, nullptr, nullptr))
            views[c.id] = *c.view;
        }
        if (r.position <= *mcp) {
          members_fold mf;
          mf.apply(*d);
          rocksdb::WriteBatch scratch;
          for (const auto& c : mf.write(scratch, nullptr)) {
            auto& e = members[c.user];
            auto pos = std::lower_bound(e.tenants.begin(), e.tenants.end(), c.tenant);
            if (pos == e.tenants.end() || *pos != c.tenant) e.tenants.insert(pos, c.tenant);
            e.current = c.tenant;
          }
        }
      }
      next = events->back().position + 1;
    }
  }

  // Tenant rows.
  std::unordered_set<uuid16, uuid16_hash> seen;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db.db()->NewIterator(rocksdb::ReadOptions(), (*tg)->cfs[0]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 16) {
        problem("tenants: malformed key");
        continue;
      }
      const auto id = to_uuid16(it->key().ToStringView());
      seen.insert(id);
      auto v = decode_view(it->value().ToStringView());
      auto expect = views.find(id);
      const auto name = tenant_of(id).str();
      if (!v) {
        problem(name + ": the stored view does not decode");
      } else if (expect == views.end()) {
        problem(name + ": stored but not in the log");
      } else if (!(*v == expect->second)) {
        problem(name + ": the stored view differs from the replay (stored version " +
                std::to_string(v->state.version.value) + ", replayed " +
                std::to_string(expect->second.state.version.value) + ")");
      }
    }
    if (!it->status().ok()) return to_error(it->status());
    for (const auto& [id, v] : views)
      if (!seen.contains(id)) problem(tenant_of(id).str() + ": in the log but not stored");
    report.tenants = views.size();
  }

  // Index entries: exactly one pair per existing tenant, at its creation position.
  {
    std::map<std::string, std::string> expect;
    for (const auto& [id, v] : views) {
      if (!v.state.exists() || v.created_position == 0) continue;
      expect[index_key(v.created_position, index_tag_bucket)] =
          index_bucket_value(id, v.state.status, v.state.subscription.plan);
      expect[index_key(v.created_position, index_tag_text)] =
          index_text_value(fold_text(v.state.profile));
    }
    std::unique_ptr<rocksdb::Iterator> it(
        db.db()->NewIterator(rocksdb::ReadOptions(), (*tg)->cfs[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string k = it->key().ToString();
      auto e = expect.find(k);
      const std::string where =
          k.size() == 9 ? "index entry at position " + std::to_string(get_u64(k)) : "index entry";
      if (e == expect.end()) {
        problem(where + ": not expected");
        continue;
      }
      if (e->second != it->value().ToStringView()) problem(where + ": differs from the replay");
      expect.erase(e);
    }
    if (!it->status().ok()) return to_error(it->status());
    for (const auto& [k, v] : expect)
      problem("index entry at position " + std::to_string(get_u64(k)) + ": missing");
  }

  // Memberships.
  {
    auto loaded = load_members(db, *mg);
    if (!loaded) return loaded.error();
    const auto& stored = (*loaded)->index.all();
    for (const auto& [user, e] : members) {
      auto it = stored.find(user);
      if (it == stored.end()) {
        problem("membership of " + user + ": missing");
      } else if (!(it->second == e)) {
        problem("membership of " + user + ": differs from the replay");
      }
    }
    for (const auto& [user, e] : stored)
      if (!members.contains(user)) problem("membership of " + user + ": not in the log");
    report.users = members.size();
  }
  if (dropped > 0) report.problems.push_back("... and " + std::to_string(dropped) + " more");
  return report;
}

}  // namespace tenant::projections
