// GET /api/v1/openapi.json: docs/openapi.yaml, converted to JSON at build time
// (api/openapi/embed.py writes tenant::api::openapi_json()).
#include "tenant/api/tenant_routes.hpp"

namespace tenant::api {

void add_openapi_route(router& r) {
  route_info info;
  info.method = http::verb::get;
  info.pattern = "/api/v1/openapi.json";
  info.name = "getOpenApi";
  info.kind = route_kind::operations;
  r.add(std::move(info), [](request_context&) -> boost::asio::awaitable<response> {
    co_return text_response(http::status::ok, std::string(openapi_json()), "application/json");
  });
}

}  // namespace tenant::api
