#include "app.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "tenant/api/tenant_routes.hpp"

namespace tenantd {

namespace api = tenant::api;
namespace eventstore = tenant::eventstore;
namespace projections = tenant::projections;

app::app(api::config cfg) : cfg_(std::move(cfg)), blocking_(cfg_.effective_blocking_threads()) {}

app::~app() {
  // A start() that failed half-way leaves background parts running: stop them in order.
  stop_background();
  close_storage();
}

boost::system::result<void, std::string> app::start() {
  if (auto r = prepare_data_dir(); !r) return r;
  if (auto r = open_storage(); !r) return r;
  if (auto r = start_background(); !r) return r;
  register_routes();

  server_ = std::make_unique<api::server>(cfg_, router_,
                                          api::make_request_observer(metrics_, cfg_.access_log));
  if (auto r = server_->start(); !r) return r;
  server_->handle_signals();

  spdlog::info("tenantd listening on {} (role {}, {} io threads, data dir {})", server_->url(),
               api::to_string(cfg_.role), cfg_.effective_io_threads(), cfg_.data_dir);
  // Also on stdout, plainly: scripts and the end-to-end suite read the URL (and the port when
  // --listen asked for port 0) from here.
  std::printf("tenantd listening on %s\n", server_->url().c_str());
  std::fflush(stdout);
  return {};
}

int app::run() {
  if (!server_) return 1;
  server_->run();
  stop_background();
  close_storage();
  spdlog::info("tenantd stopped");
  return 0;
}

void app::stop() {
  if (server_) server_->shutdown();
}

boost::system::result<void, std::string> app::prepare_data_dir() {
  std::error_code ec;
  std::filesystem::create_directories(cfg_.data_dir, ec);
  if (ec) return "cannot create data directory '" + cfg_.data_dir + "': " + ec.message();
  if (!std::filesystem::is_directory(cfg_.data_dir, ec))
    return "data directory '" + cfg_.data_dir + "' is not a directory";
  return {};
}

boost::system::result<void, std::string> app::open_storage() {
  eventstore::rocksdb_options so;
  so.path = (std::filesystem::path(cfg_.data_dir) / "eventstore").string();
  so.mode = cfg_.durability;
  auto store = eventstore::open_rocksdb_store(so);
  if (!store) return "cannot open the event store at " + so.path + ": " + store.error().message();
  store_ = std::move(*store);

  projections::read_model_options mo;
  mo.path = (std::filesystem::path(cfg_.data_dir) / "projections").string();
  mo.limits = cfg_.plan_limits;
  auto model = projections::read_model::open(*store_, mo);
  if (!model) return "cannot open the projections at " + mo.path + ": " + model.error().message();
  model_ = std::move(*model);

  auto* store_ptr = store_.get();
  // Unready while writes fail (a full or read-only data directory): a load balancer then
  // sends commands elsewhere; the detail names the storage error.
  readiness_.add("eventstore", [store_ptr] {
    if (auto why = store_ptr->write_failure(); !why.empty())
      return api::readiness::status{false, "writes failing: " + why};
    return api::readiness::status{true, "head " + std::to_string(store_ptr->head())};
  });
  auto* model_ptr = model_.get();
  readiness_.add("projections", [model_ptr] {
    const bool ok = model_ptr->caught_up(0);
    return api::readiness::status{ok, ok ? "caught up" : "catching up"};
  });
  return {};
}

boost::system::result<void, std::string> app::start_background() {
  if (cfg_.role == api::node_role::writer) {
    eventstore::repository_options ro;
    ro.limits = cfg_.plan_limits;
    ro.payment_failures_before_suspension = cfg_.payment_failures_before_suspension;
    repo_ = std::make_unique<eventstore::repository>(*store_, ro);
  }
  model_->start();
  if (repo_) {
    auto pm = projections::provisioning_manager::create(*store_, *model_,
                                                        projections::repository_issuer(*repo_));
    if (!pm) return "cannot start the provisioning process manager: " + pm.error().message();
    provisioning_ = std::move(*pm);
    provisioning_->start();
  }
  // After the repository (billing commands) and the read model (usage reports) it feeds.
  auto kafka = kafka_wiring::start(cfg_, *store_, repo_.get(), model_.get(), metrics_, readiness_);
  if (!kafka) return kafka.error();
  kafka_ = std::move(*kafka);
  return {};
}

void app::register_routes() {
  api::add_operations_routes(router_, metrics_, readiness_);
  api::add_openapi_route(router_);
  // The platform middleware (authentication, X-Tenant-Id, rate limits, tenant scoping), /admin
  // and /docs: before the tenant routes' own middleware, which read the principal.
  auto platform = platform_wiring::install(cfg_, router_, metrics_, *store_, *model_, blocking_,
                                           [this](boost::json::object& status) {
                                             if (kafka_) status["kafka"] = kafka_->admin_status();
                                           });
  if (!platform) throw std::runtime_error(platform.error());
  platform_ = std::move(*platform);
  auth_installed_ = true;
  api::add_tenant_routes(
      router_,
      api::tenant_services{*store_, repo_.get(), *model_, blocking_, cfg_, auth_installed_, {}});
}

void app::stop_background() {
  // Reverse order of start_background, after the server drained its requests. Kafka stops
  // first: its consumers issue commands through the repository.
  if (background_stopped_) return;
  background_stopped_ = true;
  if (kafka_) kafka_->stop();
  if (provisioning_) provisioning_->stop();
  if (repo_) repo_->stop();
  if (model_) model_->stop();
  blocking_.join();
}

void app::close_storage() {
  if (store_) store_->stop();
}

}  // namespace tenantd
