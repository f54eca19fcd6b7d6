#pragma once
// Helpers of the event-store tests: temp dirs, synchronous appends, ids, a settable clock.

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "tenant/eventstore/event_store.hpp"

namespace tenant::eventstore::test {

/// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("tenant-es-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// A random UUID v7 string (thread-safe).
inline std::string new_event_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 10> r{};
  for (auto& b : r)
    b = static_cast<std::uint8_t>(rng());
  return domain::uuid::v7(domain::clock_time(std::chrono::milliseconds(1'700'000'000'000)), r)
      .to_string();
}

inline proposed_event make_event(std::string type = "TenantUpdated",
                                 std::string data = R"({"n":1})", std::string id = new_event_id()) {
  proposed_event e;
  e.event_id = std::move(id);
  e.type = std::move(type);
  e.schema_version = 1;
  e.data_json = std::move(data);
  e.occurred_at = domain::clock_time(std::chrono::milliseconds(1'767'000'000'123));
  return e;
}

inline append_request make_request(std::string stream, expected_version ev,
                                   std::vector<proposed_event> events) {
  append_request r;
  r.stream_id = std::move(stream);
  r.expected = ev;
  r.events = std::move(events);
  r.metadata.correlation_id = "corr-1";
  r.metadata.actor = "tester";
  return r;
}

inline append_request one_event(std::string stream, expected_version ev = expected_version::any()) {
  return make_request(std::move(stream), ev, {make_event()});
}

/// Appends and waits for the handler.
inline append_outcome append_sync(event_store& s, append_request r) {
  std::promise<append_outcome> p;
  auto f = p.get_future();
  s.append(std::move(r), [&p](append_outcome o) { p.set_value(std::move(o)); });
  return f.get();
}

/// A clock tests move by hand.
struct manual_clock {
  std::shared_ptr<std::atomic<std::int64_t>> ms =
      std::make_shared<std::atomic<std::int64_t>>(1'767'000'000'000);
  store_clock fn() const {
    auto p = ms;
    return [p] { return domain::clock_time(std::chrono::milliseconds(p->load())); };
  }
  void advance(std::chrono::milliseconds d) { ms->fetch_add(d.count()); }
  void set(std::int64_t v) { ms->store(v); }
  domain::clock_time now() const {
    return domain::clock_time(std::chrono::milliseconds(ms->load()));
  }
};

}  // namespace tenant::eventstore::test
