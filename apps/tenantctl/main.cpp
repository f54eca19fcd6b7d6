// tenantctl: the operations tool. Subcommands live in cmd_*.cpp and register themselves.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "command.hpp"

namespace tenantctl {

std::vector<command_entry>& registry() {
  static std::vector<command_entry> entries;
  return entries;
}

}  // namespace tenantctl

int main(int argc, char** argv) {
  CLI::App app{
      "tenantctl: operate a tenantd data directory (replay, verify, events, export, import, "
      "token, bench, broker, subscribe)"};
  app.require_subcommand(1);
  tenantctl::global_options global;
  app.add_option("--data-dir", global.data_dir, "tenantd data directory")
      ->envname("TENANTD_DATA_DIR")
      ->capture_default_str();

  auto entries = tenantctl::registry();
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<CLI::App*, std::function<int()>> actions;
  for (auto& e : entries) {
    auto* sub = app.add_subcommand(e.name, e.description);
    actions[sub] = e.setup(*sub, global);
  }
  CLI11_PARSE(app, argc, argv);
  for (auto& [sub, action] : actions) {
    if (sub->parsed()) return action();
  }
  return EXIT_FAILURE;
}
