#include "memory_views.hpp"

#include <algorithm>

namespace tenant::projections::detail {

void membership_index::add(std::string_view user, const uuid16& tenant, bool make_current) {
  auto it = users_.find(user);
  if (it == users_.end()) it = users_.emplace(std::string(user), entry{}).first;
  auto& t = it->second.tenants;
  if (t.empty() || t.back() < tenant) {
    t.push_back(tenant);
  } else {
    auto pos = std::lower_bound(t.begin(), t.end(), tenant);
    if (pos == t.end() || *pos != tenant) t.insert(pos, tenant);
  }
  if (make_current) it->second.current = tenant;
}

bool membership_index::contains(std::string_view user, const uuid16& tenant) const {
  const auto* e = find(user);
  return e && std::binary_search(e->tenants.begin(), e->tenants.end(), tenant);
}

const membership_index::entry* membership_index::find(std::string_view user) const {
  auto it = users_.find(user);
  return it == users_.end() ? nullptr : &it->second;
}

view_cache::view_cache(std::size_t capacity)
    : per_shard_(std::max<std::size_t>(1, (capacity + shard_count - 1) / shard_count)) {}

tenant_view_ptr view_cache::get(const uuid16& id, std::uint64_t* epoch) {
  auto& s = shard_of(id);
  std::lock_guard lk(s.mu);
  if (epoch) *epoch = s.epoch;
  auto it = s.map.find(id);
  if (it == s.map.end()) return nullptr;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

void view_cache::insert_locked(shard& s, const uuid16& id, tenant_view_ptr view) {
  auto it = s.map.find(id);
  if (it != s.map.end()) {
    it->second->second = std::move(view);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.emplace_front(id, std::move(view));
  s.map.emplace(id, s.lru.begin());
  while (s.map.size() > per_shard_) {
    s.map.erase(s.lru.back().first);
    s.lru.pop_back();
  }
}

void view_cache::fill(const uuid16& id, tenant_view_ptr view, std::uint64_t epoch) {
  auto& s = shard_of(id);
  std::lock_guard lk(s.mu);
  if (s.epoch != epoch) return;
  insert_locked(s, id, std::move(view));
}

void view_cache::put(const uuid16& id, tenant_view_ptr view) {
  auto& s = shard_of(id);
  std::lock_guard lk(s.mu);
  ++s.epoch;
  insert_locked(s, id, std::move(view));
}

void view_cache::clear() {
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    ++s.epoch;
    s.lru.clear();
    s.map.clear();
  }
}

}  // namespace tenant::projections::detail
