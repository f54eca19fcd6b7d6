#include "app.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace tenantd {

namespace api = tenant::api;

app::app(api::config cfg) : cfg_(std::move(cfg)), blocking_(cfg_.effective_blocking_threads()) {}

app::~app() = default;

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
  // The event store opens <data-dir>/eventstore here (event store issue) and registers the
  // "eventstore" readiness check and its metrics.
  return {};
}

boost::system::result<void, std::string> app::start_background() {
  // Projections, process managers, the Kafka relay (or the embedded broker) and the inbound
  // consumers start here, each registering a readiness check and metrics.
  return {};
}

void app::register_routes() {
  api::add_operations_routes(router_, metrics_, readiness_);
  // The Tenant API, TMS routes, OpenAPI document and the middleware chain are added here.
}

void app::stop_background() {
  // Stopped in reverse order of start_background, after the server drained its requests.
  blocking_.join();
}

}  // namespace tenantd
