#pragma once
/// tenantd's command line: every field of tenant::api::config as a flag (CLI11), each also read
/// from a TENANTD_<FLAG> environment variable (`--data-dir` <- TENANTD_DATA_DIR). A flag given
/// on the command line wins over the environment.

#include <optional>
#include <string>

#include "tenant/api/config.hpp"

namespace tenantd {

struct cli_outcome {
  std::optional<tenant::api::config> config;  ///< set when tenantd should start
  int exit_code = 0;   ///< when config is empty: 0 after --help, 2 for a usage error
  std::string output;  ///< the help text (stdout) or the error message (stderr)
};

/// Parses argv and the TENANTD_* environment. Never exits and never throws for bad input.
cli_outcome parse_command_line(int argc, const char* const* argv);

/// "TENANTD_" + the flag without dashes, uppercased, '-' -> '_': "--data-dir" -> TENANTD_DATA_DIR.
std::string env_name(std::string_view flag);

}  // namespace tenantd
