// tenantctl: the operations tool. Subcommands live in cmd_*.cpp and register themselves.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // `tenantctl nosuchcmd` and `tenantctl --bogus` fail the required-subcommand check before
    // CLI11 reports the word it did not know: name it, and the subcommands there are.
    if (app.get_subcommands().empty() && !app.remaining().empty()) {
      std::string names;
      for (const auto& entry : entries)
        names += (names.empty() ? "" : ", ") + entry.name;
      std::fprintf(
          stderr, "tenantctl: unknown subcommand or option '%s' (subcommands: %s; see %s --help)\n",
          app.remaining().front().c_str(), names.c_str(), argv[0]);
      return static_cast<int>(CLI::ExitCodes::ExtrasError);
    }
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [sub, action] : actions) {
    if (sub->parsed()) return action();
  }
  return EXIT_FAILURE;
}
