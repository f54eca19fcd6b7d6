// Crash safety: a child process (this binary, re-executed) appends with concurrent writers and
// reports every acknowledged event to the parent over a pipe; the parent SIGKILLs it at random
// moments, reopens the store each time and checks that every acknowledged event is present and
// intact, that positions are contiguous, that every index agrees (verify) and that no append is
// visible in part.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "tenant/eventstore/codec.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/eventstore/verify.hpp"
#include "test_support.hpp"

namespace tenant::eventstore {
namespace {

using namespace std::chrono_literals;

constexpr const char* child_env = "TENANT_EVENTSTORE_CRASH_CHILD";
constexpr int rounds = 22;
constexpr int writers = 4;

/// One acknowledged event, as the child reports it. Smaller than PIPE_BUF: writes are atomic.
struct ack {
  std::uint64_t position;
  char event_id[36];
  std::uint32_t append_size;
  std::uint32_t index;
};
static_assert(sizeof(ack) <= PIPE_BUF);

constexpr std::uint64_t ready_marker = ~0ULL;

void write_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(3);
    c += w;
    n -= static_cast<std::size_t>(w);
  }
}

// ---- the child ----

[[noreturn]] void child_main(const char* spec) {
  // spec: "<fd>|<fsync|os>|<path>"
  const std::string s = spec;
  const auto a = s.find('|'), b = s.find('|', a + 1);
  const int fd = std::stoi(s.substr(0, a));
  rocksdb_options o;
  o.mode = s.substr(a + 1, b - a - 1) == "os" ? durability::os : durability::fsync;
  o.path = s.substr(b + 1);
  auto store = open_rocksdb_store(o);
  if (!store) ::_exit(2);
  const ack ready{ready_marker, {}, 0, 0};
  write_all(fd, &ready, sizeof ready);

  std::vector<std::thread> ts;
  for (int w = 0; w < writers; ++w) {
    ts.emplace_back([&, w] {
      for (std::uint32_t seq = 0;; ++seq) {
        const std::uint32_t n = 1 + (seq + static_cast<std::uint32_t>(w)) % 4;
        std::vector<proposed_event> events;
        std::string group;
        for (std::uint32_t i = 0; i < n; ++i) {
          auto e = test::make_event("CrashTest");
          if (i == 0) group = e.event_id;
          e.data_json = R"({"append":")" + group + R"(","n":)" + std::to_string(n) + R"(,"i":)" +
                        std::to_string(i) + "}";
          events.push_back(std::move(e));
        }
        auto r = test::make_request("w" + std::to_string(w % 4), expected_version::any(), events);
        if (seq % 7 == 0) r.claims.push_back({unique_claim::op::claim, group + ".test"});
        const auto out = test::append_sync(**store, std::move(r));
        if (!out.has_value()) ::_exit(4);  // nothing may fail while the disk is healthy
        for (std::uint32_t i = 0; i < n; ++i) {
          ack k{out->first_position + i, {}, n, i};
          std::memcpy(k.event_id, events[i].event_id.data(), 36);
          write_all(fd, &k, sizeof k);
        }
      }
    });
  }
  for (auto& t : ts)
    t.join();
  ::_exit(0);
}

// The child is this binary re-executed with only this test selected and the spec in the
// environment; in a normal run it has nothing to do.
TEST(CrashSafety, DISABLED_ChildProcess) {
  const char* spec = std::getenv(child_env);
  if (!spec) GTEST_SKIP() << "runs only as the crash test's child process";
  child_main(spec);
}

// ---- the parent ----

struct acked_event {
  std::string event_id;
  std::uint32_t append_size = 0;
  std::uint32_t index = 0;
};

struct child_run {
  std::vector<ack> acks;
  bool saw_ready = false;
  int status = 0;
};

child_run run_child(const std::string& path, bool fsync, std::chrono::milliseconds kill_after,
                    bool wait_for_ready) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const std::string spec = std::to_string(fds[1]) + "|" + (fsync ? "fsync" : "os") + "|" + path;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::setenv(child_env, spec.c_str(), 1);
    // Only the pipe is the child's output channel.
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execl("/proc/self/exe", "eventstore_crash_child",
            "--gtest_filter=CrashSafety.DISABLED_ChildProcess", "--gtest_also_run_disabled_tests",
            static_cast<char*>(nullptr));
    ::_exit(5);
  }
  ::close(fds[1]);
  child_run out;
  std::string buffer;  // a read may end inside a record
  const auto read_some = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) return false;  // EOF: the child is gone
    buffer.append(chunk, static_cast<std::size_t>(n));
    while (buffer.size() >= sizeof(ack)) {
      ack k;
      std::memcpy(&k, buffer.data(), sizeof k);
      buffer.erase(0, sizeof k);
      if (k.position == ready_marker) {
        out.saw_ready = true;
      } else {
        out.acks.push_back(k);
      }
    }
    return true;
  };
  // Kill at a random moment: counted from the store being open, or from the start (then it may
  // die while opening and recovering).
  bool alive = true;
  while (alive && wait_for_ready && !out.saw_ready)
    alive = read_some(50);
  const auto deadline = std::chrono::steady_clock::now() + kill_after;
  while (alive && std::chrono::steady_clock::now() < deadline)
    alive = read_some(5);
  ::kill(pid, SIGKILL);
  while (read_some(1000)) {
  }
  ::close(fds[0]);
  ::waitpid(pid, &out.status, 0);
  return out;
}

TEST(CrashSafety, AcknowledgedEventsSurviveSigkillAndNoAppendIsVisibleInPart) {
  test::temp_dir dir;
  const std::string path = (dir.path() / "eventstore").string();
  std::mt19937 rng{std::random_device{}()};
  std::map<std::uint64_t, acked_event> acked;
  std::uint64_t total_acked = 0;

  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const bool from_start = round % 5 == 4;  // sometimes kill while opening or recovering
    const auto kill_after = std::chrono::milliseconds(from_start ? rng() % 150 : 10 + rng() % 150);
    const auto r = run_child(path, round % 2 == 0, kill_after, !from_start);
    ASSERT_TRUE(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL)
        << "the child ended on its own (status " << r.status << ")";
    for (const auto& k : r.acks) {
      acked_event e{std::string(k.event_id, 36), k.append_size, k.index};
      const auto [it, fresh] = acked.emplace(k.position, e);
      ASSERT_TRUE(fresh || it->second.event_id == e.event_id)
          << "position " << k.position << " acknowledged twice";
    }
    total_acked += r.acks.size();

    // Every index agrees with the log, positions are contiguous.
    const auto rep = verify_rocksdb_store(path);
    if (!rep && rep.error() == make_error_code(errc::not_found) && acked.empty()) continue;
    ASSERT_TRUE(rep.has_value()) << rep.error().message();
    ASSERT_TRUE(rep->ok()) << rep->problems.front();

    // Every acknowledged event is there and intact; no append is there in part.
    rocksdb_options o;
    o.path = path;
    o.read_only = true;
    auto store = open_rocksdb_store(o);
    ASSERT_TRUE(store.has_value());
    ASSERT_GE((*store)->head(), acked.empty() ? 0 : acked.rbegin()->first);
    std::map<std::string, std::vector<std::uint32_t>> groups;  // append -> indexes seen
    std::map<std::string, std::uint32_t> group_size;
    for (std::uint64_t from = 1;;) {
      const auto page = (*store)->read_all(from, 4096);
      ASSERT_TRUE(page.has_value());
      if (page->empty()) break;
      for (const auto& e : *page) {
        const auto env = codec::decode_envelope(e.envelope_json);
        ASSERT_TRUE(env.has_value()) << "position " << e.position;
        if (const auto it = acked.find(e.position); it != acked.end()) {
          ASSERT_EQ(e.event_id, it->second.event_id) << "position " << e.position;
          const std::string expect_tail = R"(,"n":)" + std::to_string(it->second.append_size) +
                                          R"(,"i":)" + std::to_string(it->second.index) + "}";
          ASSERT_TRUE(env->data_json.ends_with(expect_tail)) << env->data_json;
        }
        const auto at = env->data_json.find(R"("append":")");
        ASSERT_NE(at, std::string::npos);
        const std::string group = env->data_json.substr(at + 10, 36);
        const auto n_at = env->data_json.find(R"("n":)"), i_at = env->data_json.find(R"("i":)");
        group_size[group] = static_cast<std::uint32_t>(std::stoul(env->data_json.substr(n_at + 4)));
        groups[group].push_back(
            static_cast<std::uint32_t>(std::stoul(env->data_json.substr(i_at + 4))));
      }
      from = page->back().position + 1;
    }
    for (const auto& [group, seen] : groups) {
      ASSERT_EQ(seen.size(), group_size[group]) << "append " << group << " is visible in part";
      for (std::uint32_t i = 0; i < seen.size(); ++i)
        ASSERT_EQ(seen[i], i) << "append " << group;
    }
  }
  // The test exercised something: acknowledged events from many rounds.
  EXPECT_GT(total_acked, 100u);
  std::printf("crash test: %d kills, %llu acknowledged events checked\n", rounds,
              static_cast<unsigned long long>(total_acked));
}

}  // namespace
}  // namespace tenant::eventstore
