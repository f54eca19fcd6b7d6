#include "platform_wiring.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>

#include "tenant/api/auth.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenantd {

namespace api = tenant::api;

namespace {

// Development tokens outlive a working day so that a restart (which reuses the secret) does not
// force a new one; a week is still short enough that a leaked one expires on its own.
constexpr std::chrono::hours dev_token_ttl{24 * 7};
constexpr const char* dev_token_sub = "dev-admin";

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void add_store_metrics(api::metrics_registry& metrics, tenant::eventstore::event_store& store,
                       tenant::projections::read_model& model) {
  const auto events = metrics.make_counter("tenantd_events_appended_total",
                                           "Events appended to the event log by this process");
  const auto appends =
      metrics.make_counter("tenantd_appends_total", "Append requests committed by this process");
  const auto batch = metrics.make_histogram("tenantd_group_commit_events",
                                            "Events per group commit (one WriteBatch and WAL sync)",
                                            {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  store.set_commit_observer([events, appends, batch](std::size_t n, std::size_t a) {
    events.inc(static_cast<double>(n));
    appends.inc(static_cast<double>(a));
    batch.observe(static_cast<double>(n));
  });
  const auto head =
      metrics.make_gauge("tenantd_eventstore_head_position", "Last global position of the log");
  auto* m = &metrics;
  metrics.on_collect([m, head, &store, &model] {
    const auto h = store.head();
    head.set(static_cast<double>(h));
    for (const auto& p : model.status()) {
      const tenant::api::metric_labels l{{"projection", p.name}};
      m->make_gauge("tenantd_projection_checkpoint_position",
                    "Position a projection or process manager has folded", l)
          .set(static_cast<double>(p.checkpoint));
      m->make_gauge("tenantd_projection_lag_events",
                    "Events between the log's head and the checkpoint", l)
          .set(static_cast<double>(p.checkpoint >= h ? 0 : h - p.checkpoint));
    }
  });
}

}  // namespace

boost::system::result<std::unique_ptr<platform_wiring>, std::string> platform_wiring::install(
    const api::config& cfg, api::router& router, api::metrics_registry& metrics,
    tenant::eventstore::event_store& store, tenant::projections::read_model& model,
    api::blocking_pool& blocking, std::function<void(boost::json::object&)> admin_extra) {
  std::unique_ptr<platform_wiring> w(new platform_wiring());

  api::token_settings ts;
  ts.issuer = cfg.jwt_issuer;
  ts.audience = cfg.jwt_audience;
  bool development = false;
  if (!cfg.jwt_public_key_file.empty()) {
    auto pem = read_file(cfg.jwt_public_key_file);
    if (!pem) return "cannot read the JWT public key file '" + cfg.jwt_public_key_file + "'";
    ts.algorithm = api::jwt_algorithm::rs256;
    ts.key = std::move(*pem);
  } else if (!cfg.jwt_secret.empty()) {
    ts.key = cfg.jwt_secret;
    // RFC 7518 3.2: an HS256 key of at least 256 bits. A warning, not a refusal: a deployment
    // that upgrades keeps starting, and says so in its log until the secret is replaced.
    if (cfg.jwt_secret.size() < 32)
      spdlog::warn(
          "the JWT secret (--jwt-secret / TENANTD_JWT_SECRET) is {} bytes: HS256 needs at least "
          "32 (RFC 7518 section 3.2), a short secret can be guessed offline from any token; use "
          "e.g. `openssl rand -hex 32`",
          cfg.jwt_secret.size());
  } else {
    auto secret = api::load_or_create_dev_secret(cfg.data_dir);
    if (!secret) return "development JWT secret: " + secret.error().message;
    ts.key = std::move(*secret);
    development = true;
  }
  auto verifier = api::token_verifier::create(ts);
  OPENSSL_cleanse(ts.key.data(), ts.key.size());
  if (!verifier) return verifier.error();

  if (development) {
    api::token_claims claims;
    claims.sub = dev_token_sub;
    claims.scope = "platform:admin tenants:read tenants:write";
    claims.ttl = dev_token_ttl;
    claims.issuer = cfg.jwt_issuer;
    claims.audience = cfg.jwt_audience;
    const auto& key = (*verifier)->settings().key;
    auto token =
        api::mint_token(claims, api::jwt_algorithm::hs256, key, std::chrono::system_clock::now());
    if (!token) return "cannot mint the development token: " + token.error().message;
    w->dev_token_ = std::move(*token);
    spdlog::warn(
        "no JWT key configured (--jwt-secret / --jwt-public-key): using the development secret "
        "in {}; a platform:admin development token is printed on stdout, and `tenantctl "
        "--data-dir {} token --sub S` mints more",
        api::dev_secret_path(cfg.data_dir), cfg.data_dir);
    // A plain line on stdout, not a log record: logs are shipped elsewhere, tokens must not be.
    std::printf("tenantd development token (platform:admin, sub %s, valid %lld h): %s\n",
                dev_token_sub, static_cast<long long>(dev_token_ttl.count()),
                w->dev_token_.c_str());
    std::fflush(stdout);
  }

  auto state = std::make_shared<api::platform_state>();
  state->verifier = std::shared_ptr<const api::token_verifier>(std::move(*verifier));
  if (cfg.rate_limits) state->limiter = std::make_shared<api::rate_limiter>(cfg.limits);
  state->store = &store;
  state->model = &model;
  state->blocking = &blocking;
  state->membership_wait = cfg.min_position_wait;
  api::add_platform_metrics(*state, metrics);
  add_store_metrics(metrics, store, model);
  w->state_ = state;

  router.use(api::make_platform_middleware(state));
  api::add_admin_routes(router, store, model, std::move(admin_extra));
  api::add_docs_routes(router);
  spdlog::info(
      "authentication: {}{}{}; rate limits {}",
      development ? "HS256 (development secret)" : std::string(api::to_string(ts.algorithm)),
      cfg.jwt_issuer.empty() ? "" : ", issuer " + cfg.jwt_issuer,
      cfg.jwt_audience.empty() ? "" : ", audience " + cfg.jwt_audience,
      cfg.rate_limits ? "on" : "off");
  return w;
}

}  // namespace tenantd
