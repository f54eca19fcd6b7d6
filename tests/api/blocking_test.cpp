#include "tenant/api/blocking.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <stdexcept>
#include <thread>

namespace tenant::api {
namespace {

namespace net = boost::asio;

// A type co_spawn could not default-construct: run_blocking must not need that.
struct no_default {
  explicit no_default(int v) : value(v) {}
  int value;
};

TEST(run_blocking, runs_off_the_io_thread_and_resumes_on_it) {
  blocking_pool pool(2);
  net::io_context ioc;
  std::thread::id io_thread, work_thread, resumed_thread;
  auto f = net::co_spawn(
      ioc,
      [&]() -> net::awaitable<int> {
        io_thread = std::this_thread::get_id();
        int v = co_await run_blocking(pool, [&] {
          work_thread = std::this_thread::get_id();
          return 41;
        });
        resumed_thread = std::this_thread::get_id();
        co_return v + 1;
      },
      net::use_future);
  ioc.run();
  EXPECT_EQ(f.get(), 42);
  EXPECT_NE(work_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
}

TEST(run_blocking, resumes_on_the_callers_strand) {
  blocking_pool pool(2);
  net::io_context ioc;
  auto strand = net::make_strand(ioc);
  auto f = net::co_spawn(
      strand,
      [&]() -> net::awaitable<bool> {
        co_await run_blocking(pool, [] {});
        co_return strand.running_in_this_thread();
      },
      net::use_future);
  ioc.run();
  EXPECT_TRUE(f.get());
}

TEST(run_blocking, rethrows_the_functions_exception_in_the_caller) {
  blocking_pool pool(1);
  net::io_context ioc;
  auto f = net::co_spawn(
      ioc,
      [&]() -> net::awaitable<std::string> {
        try {
          co_await run_blocking(pool, []() -> int { throw std::runtime_error("disk on fire"); });
        } catch (const std::runtime_error& e) {
          co_return e.what();
        }
        co_return "no exception";
      },
      net::use_future);
  ioc.run();
  EXPECT_EQ(f.get(), "disk on fire");
}

TEST(run_blocking, returns_types_without_a_default_constructor) {
  blocking_pool pool(1);
  net::io_context ioc;
  auto f = net::co_spawn(
      ioc,
      [&]() -> net::awaitable<int> {
        auto v = co_await run_blocking(pool, [] { return no_default(7); });
        co_return v.value;
      },
      net::use_future);
  ioc.run();
  EXPECT_EQ(f.get(), 7);
}

}  // namespace
}  // namespace tenant::api
