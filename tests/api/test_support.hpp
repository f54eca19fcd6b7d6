#pragma once
// Helpers for driving handlers without sockets.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "tenant/api/http.hpp"
#include "tenant/api/router.hpp"

namespace tenant::api::test {

/// Runs an awaitable to completion on a private io_context and returns its value.
template <class T>
T run_sync(boost::asio::awaitable<T> a) {
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, std::move(a), boost::asio::use_future);
  ioc.run();
  return f.get();
}

inline request make_request(http::verb method, std::string target, std::string body = {},
                            std::string content_type = {}) {
  request req{method, target, 11};
  req.set(http::field::host, "tenants.example.com");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

/// Dispatches one request through the router.
inline response dispatch(const router& r, request req) {
  request_context ctx(std::move(req));
  return run_sync(r.dispatch(ctx));
}

inline boost::json::value body_json(const response& res) {
  return boost::json::parse(res.body());
}

}  // namespace tenant::api::test
