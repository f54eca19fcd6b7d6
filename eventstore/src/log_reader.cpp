#include "log_reader.hpp"

#include <charconv>

#include "tenant/eventstore/codec.hpp"

namespace tenant::eventstore::detail {

void commit_signal::publish(std::uint64_t head) {
  {
    std::lock_guard lk(mu_);
    head_.store(head, std::memory_order_release);
  }
  cv_.notify_all();
}

void commit_signal::close() {
  {
    std::lock_guard lk(mu_);
    closed_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

void commit_signal::wake_all() {
  { std::lock_guard lk(mu_); }  // orders the caller's flag before a waiter's predicate check
  cv_.notify_all();
}

bool commit_signal::wait_beyond(std::uint64_t cursor,
                                std::chrono::steady_clock::time_point deadline,
                                const std::atomic<bool>& cancelled) {
  std::unique_lock lk(mu_);
  cv_.wait_until(lk, deadline, [&] {
    return head_.load(std::memory_order_acquire) > cursor || closed_.load() || cancelled.load();
  });
  return head_.load(std::memory_order_acquire) > cursor && !cancelled.load();
}

result<std::vector<recorded_event>> log_subscription::next(std::size_t max,
                                                           std::chrono::milliseconds timeout) {
  std::vector<recorded_event> none;
  if (max == 0) return none;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cancelled_.load()) return none;
    const std::uint64_t head = signal_->head();
    if (head > cursor_) {
      std::shared_lock lk(signal_->reader_mu);
      if (!signal_->reader) return none;
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(max, head - cursor_));
      auto events = signal_->reader->read_all(cursor_ + 1, n);
      if (!events) return events.error();
      if (events->empty()) return none;
      cursor_ = events->back().position;
      return events;
    }
    if (signal_->closed()) return none;
    if (!signal_->wait_beyond(cursor_, deadline, cancelled_)) return none;
  }
}

void log_subscription::cancel() {
  cancelled_.store(true);
  signal_->wake_all();
}

void tail_cache::append(std::vector<recorded_event>& events) {
  if (capacity_ == 0 || events.empty()) return;
  std::unique_lock lk(mu_);
  for (auto& e : events)
    events_.push_back(std::move(e));
  while (events_.size() > capacity_)
    events_.pop_front();
}

bool tail_cache::read(std::uint64_t from, std::size_t limit, std::uint64_t to,
                      std::vector<recorded_event>& out) const {
  std::shared_lock lk(mu_);
  if (events_.empty() || from < events_.front().position) return false;
  const std::uint64_t first = events_.front().position;
  for (std::uint64_t p = from; p <= to && out.size() < limit; ++p) {
    const std::uint64_t i = p - first;
    if (i >= events_.size()) break;
    out.push_back(events_[i]);
  }
  return true;
}

bool tail_cache::get(std::uint64_t position, recorded_event& out) const {
  std::shared_lock lk(mu_);
  if (events_.empty() || position < events_.front().position) return false;
  const std::uint64_t i = position - events_.front().position;
  if (i >= events_.size()) return false;
  out = events_[i];
  return true;
}

namespace {

// A cursor over the expected layout: `"key":` then a plain string or an unsigned number.
struct scanner {
  std::string_view s;
  std::size_t i = 0;

  bool lit(std::string_view text) {
    if (s.substr(i, text.size()) != text) return false;
    i += text.size();
    return true;
  }
  bool str(std::string_view& out) {
    if (i >= s.size() || s[i] != '"') return false;
    const std::size_t end = s.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    out = s.substr(i + 1, end - i - 1);
    if (out.find('\\') != std::string_view::npos) return false;  // escaped: full parser
    i = end + 1;
    return true;
  }
  bool num(std::uint64_t& out) {
    const char* b = s.data() + i;
    const auto [p, ec] = std::from_chars(b, s.data() + s.size(), out);
    if (ec != std::errc() || p == b) return false;
    i += static_cast<std::size_t>(p - b);
    return true;
  }
};

}  // namespace

bool parse_envelope_header(std::string_view json, recorded_event& out) {
  scanner sc{json};
  std::string_view event_id, type, stream_id, tenant_id, occurred;
  std::uint64_t schema = 0, version = 0, position = 0;
  if (!(sc.lit("{\"event_id\":") && sc.str(event_id) && sc.lit(",\"type\":") && sc.str(type) &&
        sc.lit(",\"schema_version\":") && sc.num(schema) && sc.lit(",\"stream_id\":") &&
        sc.str(stream_id) && sc.lit(",\"tenant_id\":") && sc.str(tenant_id) &&
        sc.lit(",\"version\":") && sc.num(version) && sc.lit(",\"position\":") &&
        sc.num(position) && sc.lit(",\"occurred_at\":") && sc.str(occurred) &&
        sc.lit(",\"data\":")))
    return false;
  if (schema == 0 || schema > 0xffff || version == 0 || position == 0) return false;
  const auto t = domain::parse_time(occurred);
  if (!t) return false;
  out.position = position;
  out.version = version;
  out.stream_id.assign(stream_id);
  out.tenant_id.assign(tenant_id);
  out.event_id.assign(event_id);
  out.type.assign(type);
  out.schema_version = static_cast<std::uint32_t>(schema);
  out.occurred_at = *t;
  return true;
}

result<recorded_event> to_recorded_event(std::string json) {
  recorded_event r;
  if (parse_envelope_header(json, r)) {
    r.envelope_json = std::move(json);
    return r;
  }
  auto full = codec::to_recorded(json);
  if (!full) return make_error_code(errc::corruption);
  return full;
}

}  // namespace tenant::eventstore::detail
