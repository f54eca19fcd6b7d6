// tenantd: the tenant domain service. Parses the configuration, wires the parts (app.hpp) and
// serves until SIGINT/SIGTERM; exit 0 after a clean shutdown, 1 when it cannot start, 2 for a
// usage error.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "app.hpp"
#include "options.hpp"
#include "tenant/api/logging.hpp"

int main(int argc, char** argv) {
  auto cli = tenantd::parse_command_line(argc, argv);
  if (!cli.config) {
    std::fputs(cli.output.c_str(), cli.exit_code == 0 ? stdout : stderr);
    std::fputc('\n', cli.exit_code == 0 ? stdout : stderr);
    return cli.exit_code;
  }
  try {
    tenant::api::configure_logging(cli.config->level, cli.config->format);
    tenantd::app app(std::move(*cli.config));
    if (auto started = app.start(); !started) {
      spdlog::critical("cannot start: {}", started.error());
      std::fprintf(stderr, "tenantd: cannot start: %s\n", started.error().c_str());
      return 1;
    }
    return app.run();
  } catch (const std::exception& e) {
    // Start-up failures of third-party code (allocation, a library refusing its options).
    spdlog::critical("fatal: {}", e.what());
    std::fprintf(stderr, "tenantd: fatal: %s\n", e.what());
    return 1;
  }
}
