#include "tenant/api/rate_limit.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <numeric>
#include <unordered_map>
#include <vector>

namespace tenant::api {

std::string_view to_string(rate_window w) {
  switch (w) {
    case rate_window::minute:
      return "minute";
    case rate_window::endpoint_minute:
      return "endpoint";
    case rate_window::day:
      return "day";
  }
  return "minute";
}

namespace {

using ms = std::chrono::milliseconds;
using time_point = std::chrono::system_clock::time_point;

constexpr std::int64_t minute_ms = 60'000;
// A day bucket of minute m counts while now_minute - m <= day_buckets - 1, i.e. for 24 h + up to
// one minute after its calls: never shorter than the rolling 24 h the contract names.
constexpr std::int64_t day_buckets = 24 * 60 + 1;
constexpr std::int64_t idle_after_ms = 24 * 60 * minute_ms + minute_ms;

std::int64_t to_ms(time_point t) {
  return std::chrono::duration_cast<ms>(t.time_since_epoch()).count();
}
time_point from_ms(std::int64_t v) {
  return time_point(std::chrono::duration_cast<time_point::duration>(ms(v)));
}

// Exact sliding minute: the timestamps (ms, ascending) of the charged calls of the last 60 s.
struct minute_log {
  std::vector<std::int64_t> times;

  void prune(std::int64_t now) {
    // A call at t counts while now < t + 60 s.
    auto keep = std::upper_bound(times.begin(), times.end(), now - minute_ms);
    times.erase(times.begin(), keep);
  }
  std::uint32_t used() const { return static_cast<std::uint32_t>(times.size()); }
  // When the window next has room for one more call under `limit` (valid when used >= limit).
  std::int64_t admit_at(std::uint32_t limit) const {
    if (limit == 0 || times.empty()) return times.empty() ? 0 : times.back() + minute_ms;
    return times[times.size() - limit] + minute_ms;
  }
  std::int64_t next_free(std::int64_t now) const {
    return times.empty() ? now + minute_ms : times.front() + minute_ms;
  }
  void shrink_if_sparse() {
    // After a burst the vector's capacity stays at the burst's size; give it back once mostly
    // empty so an idle enterprise tenant does not keep 8 KB.
    if (times.capacity() > 64 && times.size() < times.capacity() / 4) times.shrink_to_fit();
  }
};

// Rolling day in minute buckets: (minute number, calls), ascending.
struct day_log {
  std::vector<std::pair<std::int64_t, std::uint32_t>> buckets;
  std::uint64_t total = 0;

  void prune(std::int64_t now) {
    const std::int64_t now_minute = now / minute_ms;
    auto it = buckets.begin();
    while (it != buckets.end() && now_minute - it->first >= day_buckets) {
      total -= it->second;
      ++it;
    }
    buckets.erase(buckets.begin(), it);
  }
  void charge(std::int64_t now) {
    const std::int64_t m = now / minute_ms;
    if (!buckets.empty() && buckets.back().first == m) {
      ++buckets.back().second;
    } else {
      buckets.emplace_back(m, 1);
    }
    ++total;
  }
  static std::int64_t expiry(std::int64_t minute) { return (minute + day_buckets) * minute_ms; }
  // When the total drops below `limit` again (valid when total >= limit).
  std::int64_t admit_at(std::uint64_t limit) const {
    std::uint64_t left = total;
    for (const auto& [m, n] : buckets) {
      left -= n;
      if (left < limit) return expiry(m);
    }
    return buckets.empty() ? 0 : expiry(buckets.back().first);
  }
  std::int64_t next_free(std::int64_t now) const {
    return buckets.empty() ? now + day_buckets * minute_ms : expiry(buckets.front().first);
  }
};

struct key_state {
  minute_log minute;
  std::vector<std::pair<std::string, minute_log>> endpoints;  // few: one per TMS route
  day_log day;
  std::int64_t last_seen = 0;

  minute_log& endpoint(std::string_view e) {
    for (auto& [name, log] : endpoints) {
      if (name == e) return log;
    }
    endpoints.emplace_back(std::string(e), minute_log{});
    return endpoints.back().second;
  }
};

struct candidate {
  rate_window window;
  std::uint32_t limit;
  std::uint64_t used;
  std::int64_t reset;  // ms
};

std::uint64_t ceil_seconds(std::int64_t v_ms) {
  if (v_ms <= 0) return 0;
  return static_cast<std::uint64_t>((v_ms + 999) / 1000);
}

}  // namespace

struct rate_limiter::impl {
  mutable std::mutex mutex;
  std::unordered_map<std::string, key_state> keys;
  std::size_t max_keys;
  std::int64_t last_sweep = 0;

  std::size_t evict_idle(std::int64_t now) {
    std::size_t dropped = 0;
    for (auto it = keys.begin(); it != keys.end();) {
      if (now - it->second.last_seen >= idle_after_ms) {
        it = keys.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
    last_sweep = now;
    return dropped;
  }

  // Room for one more key: idle keys first, then the least recently seen tenth of the table.
  void make_room(std::int64_t now) {
    if (keys.size() < max_keys) return;
    evict_idle(now);
    if (keys.size() < max_keys) return;
    std::vector<std::pair<std::int64_t, const std::string*>> ages;
    ages.reserve(keys.size());
    for (const auto& [k, s] : keys)
      ages.emplace_back(s.last_seen, &k);
    const std::size_t n = std::max<std::size_t>(1, keys.size() / 10);
    std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(n - 1), ages.end());
    std::vector<std::string> victims;
    victims.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      victims.push_back(*ages[i].second);
    for (const auto& k : victims)
      keys.erase(k);
  }
};

rate_limiter::rate_limiter(rate_limit_settings limits, wall_clock_fn clock, std::size_t max_keys)
    : limits_(limits), clock_(std::move(clock)), impl_(std::make_unique<impl>()) {
  impl_->max_keys = std::max<std::size_t>(1, max_keys);
}

rate_limiter::~rate_limiter() = default;

std::chrono::system_clock::time_point rate_limiter::now() const {
  return clock_ ? clock_() : std::chrono::system_clock::now();
}

rate_decision rate_limiter::check(const rate_request& r) {
  const std::int64_t now = to_ms(this->now());
  std::lock_guard lock(impl_->mutex);
  if (now - impl_->last_sweep >= minute_ms) impl_->evict_idle(now);

  auto it = impl_->keys.find(std::string(r.key));
  if (it == impl_->keys.end()) {
    impl_->make_room(now);
    it = impl_->keys.emplace(std::string(r.key), key_state{}).first;
  }
  key_state& k = it->second;
  k.last_seen = now;

  const std::uint32_t minute_limit =
      r.enterprise ? limits_.enterprise_per_minute : limits_.standard_per_minute;
  k.minute.prune(now);
  k.day.prune(now);
  minute_log* ep = nullptr;
  if (!r.endpoint.empty()) {
    ep = &k.endpoint(r.endpoint);
    ep->prune(now);
  }

  // Each applicable quota: would this call fit?
  candidate c[3];
  std::size_t n = 0;
  c[n++] = {rate_window::minute, minute_limit, k.minute.used(), 0};
  if (ep) c[n++] = {rate_window::endpoint_minute, limits_.tms_endpoint_per_minute, ep->used(), 0};
  c[n++] = {rate_window::day, limits_.per_day, k.day.total, 0};

  bool allowed = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (c[i].used >= c[i].limit) allowed = false;
  }

  if (allowed) {
    k.minute.times.push_back(now);
    if (ep) ep->times.push_back(now);
    k.day.charge(now);
    for (std::size_t i = 0; i < n; ++i)
      ++c[i].used;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const bool full = c[i].used >= c[i].limit;
    switch (c[i].window) {
      case rate_window::minute:
        c[i].reset = full && !allowed ? k.minute.admit_at(c[i].limit) : k.minute.next_free(now);
        break;
      case rate_window::endpoint_minute:
        c[i].reset = full && !allowed ? ep->admit_at(c[i].limit) : ep->next_free(now);
        break;
      case rate_window::day:
        c[i].reset = full && !allowed ? k.day.admit_at(c[i].limit) : k.day.next_free(now);
        break;
    }
  }
  k.minute.shrink_if_sparse();

  // The binding quota: when refused, the refusing one that frees last; else the one with the
  // fewest calls left (the first in minute, endpoint, day order on a tie).
  std::size_t pick = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (!allowed) {
      const bool full_i = c[i].used >= c[i].limit;
      const bool full_p = c[pick].used >= c[pick].limit;
      if (full_i && (!full_p || c[i].reset > c[pick].reset)) pick = i;
    } else {
      const auto left_i = c[i].limit - std::min<std::uint64_t>(c[i].used, c[i].limit);
      const auto left_p = c[pick].limit - std::min<std::uint64_t>(c[pick].used, c[pick].limit);
      if (left_i < left_p) pick = i;
    }
  }

  rate_decision d;
  d.allowed = allowed;
  d.window = c[pick].window;
  d.limit = c[pick].limit;
  d.remaining = static_cast<std::uint32_t>(c[pick].limit -
                                           std::min<std::uint64_t>(c[pick].used, c[pick].limit));
  // Whole seconds, rounded up, so that Retry-After, X-RateLimit-Reset and X-Rate-Limit-Reset
  // name one instant and a client waiting that long is let in.
  const std::int64_t reset_ms = std::max(c[pick].reset, now);
  const std::int64_t reset_whole = (reset_ms + 999) / 1000 * 1000;
  d.reset_at = from_ms(reset_whole);
  d.reset_after_seconds = ceil_seconds(reset_whole - now);
  if (!allowed && d.reset_after_seconds == 0) d.reset_after_seconds = 1;
  d.minute_limit = minute_limit;
  d.endpoint_limit = ep ? limits_.tms_endpoint_per_minute : 0;
  d.day_limit = limits_.per_day;
  return d;
}

std::size_t rate_limiter::evict_idle() {
  const std::int64_t now = to_ms(this->now());
  std::lock_guard lock(impl_->mutex);
  return impl_->evict_idle(now);
}

std::size_t rate_limiter::key_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->keys.size();
}

std::size_t rate_limiter::key_bytes(std::string_view key) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->keys.find(std::string(key));
  if (it == impl_->keys.end()) return 0;
  const auto& k = it->second;
  std::size_t b = sizeof(key_state) + it->first.capacity();
  b += k.minute.times.capacity() * sizeof(std::int64_t);
  b += k.day.buckets.capacity() * sizeof(k.day.buckets[0]);
  for (const auto& [name, log] : k.endpoints)
    b += sizeof(name) + name.capacity() + sizeof(log) + log.times.capacity() * sizeof(std::int64_t);
  return b;
}

std::vector<std::pair<std::string, std::string>> rate_limit_headers(const rate_decision& d) {
  const auto reset_epoch =
      std::chrono::duration_cast<std::chrono::seconds>(d.reset_at.time_since_epoch()).count();
  std::string policy = "\"minute\";q=" + std::to_string(d.minute_limit) + ";w=60";
  if (d.endpoint_limit != 0)
    policy += ", \"endpoint\";q=" + std::to_string(d.endpoint_limit) + ";w=60";
  policy += ", \"day\";q=" + std::to_string(d.day_limit) + ";w=86400";
  return {
      {"X-RateLimit-Limit", std::to_string(d.limit)},
      {"X-RateLimit-Remaining", std::to_string(d.remaining)},
      {"X-RateLimit-Reset", std::to_string(reset_epoch)},
      {"RateLimit-Policy", std::move(policy)},
      {"RateLimit", "\"" + std::string(to_string(d.window)) +
                        "\";r=" + std::to_string(d.remaining) +
                        ";t=" + std::to_string(d.reset_after_seconds)},
  };
}

std::vector<std::pair<std::string, std::string>> rate_limited_headers(const rate_decision& d) {
  return {
      {"Retry-After", std::to_string(std::max<std::uint64_t>(1, d.reset_after_seconds))},
      {"X-Rate-Limit-Reset", format_round_trip_utc(d.reset_at)},
  };
}

std::string format_round_trip_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ticks =
      duration_cast<duration<std::int64_t, std::ratio<1, 10'000'000>>>(t.time_since_epoch());
  std::int64_t secs = ticks.count() / 10'000'000;
  std::int64_t frac = ticks.count() % 10'000'000;
  if (frac < 0) {
    frac += 10'000'000;
    --secs;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%07lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

}  // namespace tenant::api
