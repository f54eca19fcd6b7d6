// Fuzz target: the request-target of an HTTP request (path and query string) as the router and
// handlers read it: request_context parses it with Boost.URL, then path segments, every query
// parameter decoded, single lookups of the list parameters and the absolute base URL.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tenant/api/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace api = tenant::api;
  namespace http = boost::beast::http;
  api::request req;
  req.method(http::verb::get);
  req.version(11);
  // Beast refuses nothing here: the target is whatever bytes arrived on the request line.
  req.target(std::string(reinterpret_cast<const char*>(data), size));
  req.set(http::field::host, "localhost:8080");
  api::request_context ctx(std::move(req));
  if (!ctx.target_valid()) return 0;
  (void)ctx.path();
  for (const auto& s : ctx.segments())
    (void)s.size();
  for (const auto& [k, v] : ctx.query_params())
    (void)(k.size() + v.size());
  for (const char* key : {"page", "per_page", "name", "description", "status", "plan", ""})
    (void)ctx.query(key);
  (void)ctx.base_url();
  return 0;
}
