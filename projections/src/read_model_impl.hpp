#pragma once
// The read model's implementation, visible to the rest of the module (the provisioning manager
// keeps its locations and checkpoint in the same database).

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "db.hpp"
#include "sets.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::projections::detail {

class read_model_impl final : public read_model {
 public:
  read_model_impl(eventstore::event_store& store, read_model_options options);
  ~read_model_impl() override;
  std::error_code open();

  void start() override;
  void stop() override;

  lookup try_find(const domain::tenant_id& id) const override;
  result<tenant_view_ptr> find(const domain::tenant_id& id) const override;
  bool exists(const domain::tenant_id& id) const override;

  std::uint64_t count(const list_query& q) const override;
  id_page list_ids(const list_query& q) const override;
  std::optional<view_page> try_list(const list_query& q) const override;
  result<view_page> list(const list_query& q) const override;

  result<std::optional<usage_view>> usage(const domain::tenant_id& id) const override;
  std::uint32_t seats_in_use(const domain::tenant_id& id) const override;
  result<bool> apply_usage(const domain::tenant_id& id, std::uint32_t seats_in_use,
                           std::uint64_t storage_bytes, domain::clock_time observed_at) override;
  void record_api_call(const domain::tenant_id& id) override;

  bool may_touch(const domain::user_id& user, const domain::tenant_id& tenant) const override;
  std::vector<domain::tenant_id> tenants_of(const domain::user_id& user) const override;
  std::optional<domain::tenant_id> current_tenant(const domain::user_id& user) const override;

  std::uint64_t position() const override;
  void wait_for_position(std::uint64_t n, std::chrono::steady_clock::time_point deadline,
                         position_handler done) override;

  std::vector<projection_status> status() const override;
  bool caught_up(std::uint64_t max_lag) const override;
  std::error_code rebuild(std::string_view name) override;

  projections_db& db() { return *db_; }
  eventstore::event_store& store() { return store_; }

  // Test hooks.
  std::shared_ptr<tenants_set> tenants() const;
  std::shared_ptr<members_set> members() const;

 private:
  struct usage_row {
    std::uint32_t seats = 0;
    std::uint64_t storage = 0;
    std::int64_t observed_ms = 0;
  };
  struct api_counter {
    std::uint32_t day = 0;  // days since 1970-01-01 (UTC)
    std::uint64_t today = 0;
    std::uint32_t month = 0;  // year * 12 + month - 1
    std::uint64_t month_count = 0;
    bool dirty = false;  // changed since the last flush
  };
  struct counter_shard {
    std::mutex mu;
    std::unordered_map<uuid16, api_counter, uuid16_hash> counters;
    std::vector<uuid16> dirty;
  };
  struct waiter {
    std::uint64_t position;
    std::chrono::steady_clock::time_point deadline;
    position_handler done;
  };
  struct rebuild_job {
    std::vector<std::string> projections;
    std::shared_ptr<tenants_set> tenants;  // shadow copies
    std::shared_ptr<members_set> members;
    std::thread thread;
    std::atomic<bool> cancel{false};
    std::atomic<bool> ready{false};  // caught up: the projector swaps it in
    std::atomic<bool> done{false};
    std::mutex mu;
    std::condition_variable cv;
    std::string error;  // guarded by mu
  };

  void run_projector();
  void run_rebuild(rebuild_job* job);
  std::error_code start_rebuild_locked(std::vector<std::string> names, bool online);
  std::error_code swap_ready_jobs();
  std::error_code catch_up(rebuild_job& job, std::uint64_t to);
  void complete_waiters(bool all_false);
  void flush_counters(bool force);
  void set_error(const std::string& projection, std::string message);
  domain::clock_time now() const;
  detail::tenant_index::filter make_filter(const list_query& q) const;
  id_page query_ids(const list_query& q) const;
  struct key_page {
    std::vector<uuid16> keys;
    std::uint64_t total = 0;
  };
  key_page query_keys(tenants_set& set, const list_query& q) const;
  lookup try_find_key(tenants_set& set, const uuid16& key) const;
  result<std::vector<decoded_event>> decode_all(std::vector<eventstore::recorded_event>& events);

  eventstore::event_store& store_;
  read_model_options options_;
  std::unique_ptr<projections_db> db_;
  std::uint64_t hash_seed_;

  mutable std::mutex sets_mu_;
  std::shared_ptr<tenants_set> tenants_;
  std::shared_ptr<members_set> members_;

  std::thread projector_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::mutex sub_mu_;
  std::unique_ptr<eventstore::subscription> sub_;
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;

  mutable std::mutex wait_mu_;
  std::vector<waiter> waiters_;

  mutable std::mutex usage_mu_;
  std::unordered_map<uuid16, usage_row, uuid16_hash> usage_;
  mutable counter_shard counters_[16];
  std::chrono::steady_clock::time_point last_flush_{};

  mutable std::mutex rebuild_mu_;
  std::vector<std::unique_ptr<rebuild_job>> jobs_;
  std::atomic<bool> swap_pending_{false};

  mutable std::mutex error_mu_;
  std::map<std::string, std::string, std::less<>> errors_;
};

}  // namespace tenant::projections::detail
