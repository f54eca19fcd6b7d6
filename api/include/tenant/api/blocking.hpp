#pragma once
/// Off-thread work: RocksDB reads and other blocking calls never run on io_context threads.
///
///   auto events = co_await run_blocking(pool, [&] { return store.read_stream(id, 1, 100); });
///
/// The coroutine suspends, `fn` runs on a pool thread, and the coroutine resumes on its own
/// executor (the connection's io_context thread) with fn's result; an exception thrown by fn is
/// rethrown in the coroutine.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace tenant::api {

/// A fixed set of threads for blocking calls.
///
/// Ownership: owns its threads. Threading: `run_blocking` may be called from any thread.
/// Lifecycle: construct before serving; `stop()` + `join()` (or the destructor) only after the
/// server stopped: work submitted to a stopped pool never runs, so an awaiting request would
/// never resume.
class blocking_pool {
 public:
  explicit blocking_pool(std::size_t threads) : pool_(threads == 0 ? 1 : threads) {}
  ~blocking_pool() {
    pool_.stop();
    pool_.join();
  }
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  boost::asio::thread_pool::executor_type get_executor() { return pool_.get_executor(); }
  /// Finishes queued work, then lets the threads exit once idle.
  void join() { pool_.join(); }
  /// Abandons queued work.
  void stop() { pool_.stop(); }

 private:
  boost::asio::thread_pool pool_;
};

/// Runs `fn()` on `pool` and resumes the caller on its own executor with the result.
///
/// Capture by reference only (`[&]`, pointers): GCC 12 destroys a lambda temporary that is an
/// argument inside a `co_await` expression twice, so a by-value capture that owns memory (a
/// std::string, a tenant_id) is freed twice. The awaiting frame outlives the call, so references
/// to its locals are safe.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(blocking_pool& pool, F fn) {
  using result_type = std::invoke_result_t<F&>;
  // co_spawn onto the pool: the spawned coroutine starts on a pool thread; use_awaitable then
  // delivers its completion through the awaiting coroutine's executor. The value travels in an
  // optional because co_spawn default-constructs it when fn throws.
  if constexpr (std::is_void_v<result_type>) {
    co_await boost::asio::co_spawn(
        pool.get_executor(),
        [f = std::move(fn)]() mutable -> boost::asio::awaitable<void> {
          f();
          co_return;
        },
        boost::asio::use_awaitable);
  } else {
    auto value = co_await boost::asio::co_spawn(
        pool.get_executor(),
        [f = std::move(fn)]() mutable -> boost::asio::awaitable<std::optional<result_type>> {
          co_return std::optional<result_type>(f());
        },
        boost::asio::use_awaitable);
    co_return std::move(*value);
  }
}

}  // namespace tenant::api
