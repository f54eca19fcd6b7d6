// The provisioning process manager. Its checkpoint ("pm/provisioning") lives in the projections
// database but outside every projection generation: replays and rebuilds never move it, so a
// replay never re-fires its side effects.
#include "tenant/projections/provisioning.hpp"

#include <pthread.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "keys.hpp"
#include "read_model_impl.hpp"

namespace tenant::projections {

namespace {

using namespace detail;

constexpr const char* checkpoint_key = "pm/provisioning";

std::string encode_location(const location& l) {
  std::string v;
  put_str(v, l.id);
  put_str(v, l.tenant.str());
  put_str(v, l.name);
  put_u64(v, static_cast<std::uint64_t>(l.created_at.time_since_epoch().count()));
  return v;
}

std::optional<location> decode_location(std::string_view bytes) {
  reader r{bytes};
  location l;
  l.id = r.str();
  const auto tenant = domain::tenant_id::parse(r.str());
  l.name = r.str();
  const auto ms = r.u64();
  if (!r.ok || !r.in.empty() || !tenant) return std::nullopt;
  l.tenant = *tenant;
  l.created_at = domain::clock_time(std::chrono::milliseconds(static_cast<std::int64_t>(ms)));
  return l;
}

class provisioning_impl final : public provisioning_manager {
 public:
  provisioning_impl(eventstore::event_store& store, read_model_impl& model, provision_issuer issuer,
                    provisioning_options options)
      : store_(store), model_(model), issuer_(std::move(issuer)), options_(options) {}

  ~provisioning_impl() override { stop(); }

  std::error_code load() {
    auto cp = model_.db().load_checkpoint(checkpoint_key);
    if (!cp) return cp.error();
    checkpoint_ = *cp;
    return {};
  }

  void start() override {
    std::lock_guard lk(mu_);
    if (started_ || stopping_) return;
    started_ = true;
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "provisioning");
      run();
    });
  }

  void stop() override {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      stopping_ = true;
      if (sub_) sub_->cancel();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  projection_status status() const override {
    projection_status s;
    s.name = "provisioning";
    s.kind = "process_manager";
    s.checkpoint = checkpoint_.load();
    s.head = store_.head();
    s.lag = s.head > s.checkpoint ? s.head - s.checkpoint : 0;
    std::lock_guard lk(mu_);
    s.error = error_;
    return s;
  }

 private:
  struct job {
    domain::tenant_id tenant;
    std::string created_event_id;
    std::string location_id;  // default_location_id(created_event_id), derived once
    bool done = false;
  };

  void set_error(std::string e) {
    std::lock_guard lk(mu_);
    error_ = std::move(e);
  }

  bool sleep(std::chrono::milliseconds d) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, d, [&] { return stopping_; });
    return !stopping_;
  }

  // Issues every pending job's command concurrently and waits for all of them; failed ones are
  // retried after a back-off. False when stopping (the checkpoint must not move then).
  bool run_jobs(std::vector<job>& jobs) {
    while (true) {
      std::size_t pending = 0;
      for (auto& j : jobs)
        pending += j.done ? 0 : 1;
      if (pending == 0) return true;
      struct shared_t {
        std::mutex mu;
        std::condition_variable cv;
        std::size_t remaining = 0;
        std::vector<std::pair<std::size_t, std::error_code>> results;
      };
      auto shared = std::make_shared<shared_t>();
      shared->remaining = pending;
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].done) continue;
        const auto& j = jobs[i];
        issuer_(j.tenant, domain::mark_provisioned{j.location_id},
                provisioning_seed(j.created_event_id), [shared, i](std::error_code ec) {
                  std::lock_guard lk(shared->mu);
                  shared->results.emplace_back(i, ec);
                  --shared->remaining;
                  shared->cv.notify_all();
                });
      }
      // Commands in flight hold no reference to this object, but their completion matters for
      // the checkpoint: always wait for them, even when stopping.
      {
        std::unique_lock lk(shared->mu);
        shared->cv.wait(lk, [&] { return shared->remaining == 0; });
      }
      std::error_code last;
      for (const auto& [i, ec] : shared->results) {
        if (!ec) {
          jobs[i].done = true;
        } else {
          last = ec;
        }
      }
      if (!last) {
        set_error("");
        continue;
      }
      set_error("mark_provisioned failed (retrying): " + last.message());
      if (!sleep(options_.retry_backoff)) return false;
    }
  }

  void run() {
    while (true) {
      eventstore::subscription* sub = nullptr;
      {
        std::lock_guard lk(mu_);
        if (stopping_) return;
        if (!sub_) sub_ = store_.subscribe(checkpoint_.load());
        sub = sub_.get();
      }
      auto batch = sub->next(std::max<std::size_t>(options_.batch_events, 1), options_.idle_tick);
      {
        std::lock_guard lk(mu_);
        if (stopping_) return;
      }
      if (!batch) {
        set_error("reading the event log failed: " + batch.error().message());
        if (!sleep(options_.retry_backoff)) return;
        std::lock_guard lk(mu_);
        sub_.reset();
        continue;
      }
      if (batch->empty()) continue;
      // Step 1: the default locations, idempotently (same key, same bytes on a re-run).
      std::vector<job> jobs;
      rocksdb::WriteBatch wb;
      for (const auto& r : *batch) {
        if (r.type != "TenantCreated") continue;
        const auto tenant = domain::tenant_id::parse(r.stream_id);
        const auto key = tenant_key(r.stream_id);
        if (!tenant || !key) continue;
        location l{default_location_id(r.event_id), *tenant, "Default", r.occurred_at};
        wb.Put(model_.db().locations(), as_view(*key), encode_location(l));
        jobs.push_back({*tenant, r.event_id, std::move(l.id), false});
      }
      if (!jobs.empty()) {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        auto s = model_.db().db()->Write(wo, &wb);
        if (!s.ok()) {
          set_error("writing default locations failed: " + to_error(s).message());
          if (!sleep(options_.retry_backoff)) return;
          std::lock_guard lk(mu_);
          sub_.reset();  // re-read the same batch
          continue;
        }
        // Step 2: TenantProvisioned through the repository; wait for every acknowledgement.
        if (!run_jobs(jobs)) return;
      }
      // Step 3: only now the checkpoint moves (durably).
      const auto last = batch->back().position;
      rocksdb::WriteBatch cp;
      model_.db().put_checkpoint(cp, checkpoint_key, last);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      auto s = model_.db().db()->Write(wo, &cp);
      if (!s.ok()) {
        set_error("storing the checkpoint failed: " + to_error(s).message());
        if (!sleep(options_.retry_backoff)) return;
        std::lock_guard lk(mu_);
        sub_.reset();  // the batch is redone; its effects are idempotent
        continue;
      }
      checkpoint_ = last;
    }
  }

  eventstore::event_store& store_;
  read_model_impl& model_;
  provision_issuer issuer_;
  provisioning_options options_;
  std::atomic<std::uint64_t> checkpoint_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  std::string error_;
  std::unique_ptr<eventstore::subscription> sub_;
  std::thread thread_;
};

}  // namespace

std::string default_location_id(std::string_view tenant_created_event_id) {
  return "loc_" +
         domain::uuid::derived("tenant-default-location/" + std::string(tenant_created_event_id))
             .to_string();
}

std::string provisioning_seed(std::string_view tenant_created_event_id) {
  return "provisioning/" + std::string(tenant_created_event_id);
}

result<std::unique_ptr<provisioning_manager>> provisioning_manager::create(
    eventstore::event_store& store, read_model& model, provision_issuer issuer,
    provisioning_options options) {
  auto* impl = dynamic_cast<read_model_impl*>(&model);
  if (!impl || !issuer) return make_error_code(errc::invalid_argument);
  if (impl->db().read_only()) return make_error_code(errc::read_only);
  auto pm = std::make_unique<provisioning_impl>(store, *impl, std::move(issuer), options);
  if (auto ec = pm->load(); ec) return ec;
  return std::unique_ptr<provisioning_manager>(std::move(pm));
}

result<std::optional<location>> find_default_location(const read_model& model,
                                                      const domain::tenant_id& id) {
  const auto* impl = dynamic_cast<const read_model_impl*>(&model);
  if (!impl) return make_error_code(errc::invalid_argument);
  const auto key = tenant_key(id);
  if (!key) return std::optional<location>();
  auto& db = const_cast<read_model_impl*>(impl)->db();
  std::string v;
  auto s = db.db()->Get(rocksdb::ReadOptions(), db.locations(), as_view(*key), &v);
  if (s.IsNotFound()) return std::optional<location>();
  if (!s.ok()) return to_error(s);
  auto l = decode_location(v);
  if (!l) return make_error_code(errc::corruption);
  return std::optional<location>(std::move(*l));
}

provision_issuer repository_issuer(eventstore::repository& repo) {
  return [&repo](const domain::tenant_id& id, domain::mark_provisioned cmd, std::string seed,
                 provision_done done) {
    eventstore::execute_options o;
    o.metadata.actor = "system:provisioning";
    constexpr std::string_view prefix = "provisioning/";
    if (std::string_view(seed).starts_with(prefix))
      o.metadata.causation_id = seed.substr(prefix.size());
    o.event_id_seed = std::move(seed);
    repo.execute(id, std::move(cmd), std::move(o),
                 [done = std::move(done)](eventstore::execute_outcome r) {
                   if (r || r.error().k != eventstore::execute_error::kind::store) {
                     done({});  // appended, a no-op, or a domain refusal: nothing to retry
                   } else {
                     done(r.error().store_error);
                   }
                 });
  };
}

}  // namespace tenant::projections
