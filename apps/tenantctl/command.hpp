#pragma once
// tenantctl subcommands register themselves: each cmd_<name>.cpp defines one registrar, so
// modules add commands without touching main.cpp.
//
//   static const tenantctl::registrar reg{"verify", "Check positions, versions and projections",
//     [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> { ... }};
//
// The setup function adds options to `sub` and returns the action run when the subcommand is
// chosen; its exit code is tenantctl's.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace tenantctl {

struct global_options {
  std::string data_dir = "./data";
};

using setup_fn = std::function<std::function<int()>(CLI::App&, global_options&)>;

struct command_entry {
  std::string name;
  std::string description;
  setup_fn setup;
};

std::vector<command_entry>& registry();

struct registrar {
  registrar(std::string name, std::string description, setup_fn setup) {
    registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace tenantctl
