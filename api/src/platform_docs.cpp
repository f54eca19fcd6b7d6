// GET /docs: Swagger UI (npm swagger-ui-dist) over /api/v1/openapi.json.
//
// The two assets Swagger UI needs (swagger-ui-bundle.js, swagger-ui.css) are linked into the
// binary with .incbin by api/src/platform.cmake (from
// docs/ui/node_modules/swagger-ui-dist, which ./scripts/deps installs), so tenantd needs no files
// at run time. A build without the npm package still links: /docs then answers a plain page that
// links the OpenAPI document.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "tenant/api/platform.hpp"
#include "tenant/api/problem.hpp"

#if __has_include("tenant_docs_assets.inc")
// Defines tenant_swagger_ui_{bundle_js,css}[_end] in .rodata (one top-level asm statement).
#include "tenant_docs_assets.inc"
#define TENANT_DOCS_ASSETS 1
extern "C" {
extern const char tenant_swagger_ui_bundle_js[];
extern const char tenant_swagger_ui_bundle_js_end[];
extern const char tenant_swagger_ui_css[];
extern const char tenant_swagger_ui_css_end[];
}
#else
#define TENANT_DOCS_ASSETS 0
#endif

namespace tenant::api {

namespace net = boost::asio;

namespace {

#if TENANT_DOCS_ASSETS
std::string_view asset(const char* begin, const char* end) {
  return {begin, static_cast<std::size_t>(end - begin)};
}
std::string_view bundle_js() {
  return asset(tenant_swagger_ui_bundle_js, tenant_swagger_ui_bundle_js_end);
}
std::string_view ui_css() {
  return asset(tenant_swagger_ui_css, tenant_swagger_ui_css_end);
}
#else
std::string_view bundle_js() {
  return {};
}
std::string_view ui_css() {
  return {};
}
#endif

// No inline script: the page works under a strict Content-Security-Policy.
constexpr std::string_view index_html = R"(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tenantd API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
)";

// Relative to the page's origin, so it works behind any host name and over HTTP or HTTPS.
constexpr std::string_view init_js = R"(window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
)";

constexpr std::string_view fallback_html = R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>tenantd API</title></head>
<body>
  <h1>tenantd API</h1>
  <p>This build has no Swagger UI assets (run ./scripts/deps, then rebuild).
  The OpenAPI document is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body>
</html>
)";

constexpr std::string_view csp =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'";

response page(std::string_view body, std::string_view type, bool cache) {
  auto res = text_response(http::status::ok, std::string(body), type);
  res.set("Content-Security-Policy", csp);
  res.set("X-Content-Type-Options", "nosniff");
  // Assets are fixed for the binary's lifetime; the page itself is tiny and revalidated.
  res.set(http::field::cache_control, cache ? "public, max-age=86400" : "no-cache");
  return res;
}

route_info docs_route(std::string pattern, std::string name) {
  route_info i;
  i.method = http::verb::get;
  i.pattern = std::move(pattern);
  i.name = std::move(name);
  i.kind = route_kind::operations;
  i.tags = {"docs"};
  return i;
}

}  // namespace

bool docs_assets_embedded() {
  return !bundle_js().empty() && !ui_css().empty();
}

void add_docs_routes(router& r) {
  r.add(docs_route("/docs", "docs"), [](request_context&) -> net::awaitable<response> {
    co_return page(docs_assets_embedded() ? index_html : fallback_html, "text/html; charset=utf-8",
                   false);
  });
  r.add(docs_route("/docs/{asset}", "docsAsset"),
        [](request_context& ctx) -> net::awaitable<response> {
          const auto name = ctx.path_param("asset");
          if (docs_assets_embedded()) {
            if (name == "swagger-ui-bundle.js")
              co_return page(bundle_js(), "text/javascript; charset=utf-8", true);
            if (name == "swagger-ui.css") co_return page(ui_css(), "text/css; charset=utf-8", true);
            if (name == "init.js") co_return page(init_js, "text/javascript; charset=utf-8", false);
          }
          if (name == "index.html")
            co_return page(docs_assets_embedded() ? index_html : fallback_html,
                           "text/html; charset=utf-8", false);
          co_return to_response(make_problem(problem_code::not_found));
        });
}

}  // namespace tenant::api
