// tenantctl export: writes the whole event log as NDJSON, one envelope per line, positions
// 1..head (the format `tenantctl import` reads). Read-only: works while tenantd runs.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "command.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/tooling.hpp"

namespace {

const tenantctl::registrar reg{
    "export", "Write the event log as NDJSON envelopes (positions and event ids preserved)",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      auto output = std::make_shared<std::string>("-");
      sub.add_option("-o,--output", *output, "file to write, - for stdout")->capture_default_str();
      return [&g, output]() -> int {
        namespace fs = std::filesystem;
        tenant::eventstore::rocksdb_options so;
        so.path = (fs::path(g.data_dir) / "eventstore").string();
        so.read_only = true;
        if (!fs::exists(so.path)) {
          std::fprintf(stderr, "export: no event store at %s\n", so.path.c_str());
          return 2;
        }
        auto store = tenant::eventstore::open_rocksdb_store(so);
        if (!store) {
          std::fprintf(stderr, "export: cannot open the event store at %s: %s\n", so.path.c_str(),
                       store.error().message().c_str());
          return 2;
        }
        std::ofstream file;
        std::ostream* out = &std::cout;
        if (*output != "-") {
          file.open(*output, std::ios::binary | std::ios::trunc);
          if (!file) {
            std::fprintf(stderr, "export: cannot write %s\n", output->c_str());
            return 2;
          }
          out = &file;
        }
        std::ios::sync_with_stdio(false);
        auto n = tenant::projections::export_log(**store, *out);
        if (!n) {
          std::fprintf(stderr, "export: failed: %s\n", n.error().message().c_str());
          return 1;
        }
        std::fprintf(stderr, "exported %llu events\n", static_cast<unsigned long long>(*n));
        return 0;
      };
    }};

}  // namespace
