// tenantctl import: appends an NDJSON export to an EMPTY event store, keeping positions,
// versions, event ids, timestamps and metadata. The whole input is validated first (a
// malformed line, a position gap or a version gap is refused, naming the line) so that a bad
// file writes nothing. Needs the store exclusively: tenantd must not be running.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "command.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/tooling.hpp"

namespace {

const tenantctl::registrar reg{
    "import", "Append an NDJSON export to an empty event store (positions preserved)",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      auto input = std::make_shared<std::string>();
      sub.add_option("-i,--input", *input, "file to read, - for stdin")->required();
      return [&g, input]() -> int {
        namespace fs = std::filesystem;
        // The input is read twice (validate, then append): stdin is spooled to a file first.
        std::string path = *input;
        fs::path spool;
        if (path == "-") {
          char tmpl[] = "/tmp/tenantctl-import-XXXXXX";
          const int fd = ::mkstemp(tmpl);
          if (fd < 0) {
            std::fprintf(stderr, "import: cannot create a temporary file\n");
            return 2;
          }
          ::close(fd);
          spool = tmpl;
          std::ofstream out(spool, std::ios::binary);
          out << std::cin.rdbuf();
          if (!out) {
            std::fprintf(stderr, "import: cannot spool stdin\n");
            return 2;
          }
          path = spool.string();
        }
        struct cleanup {
          fs::path p;
          ~cleanup() {
            std::error_code ec;
            if (!p.empty()) fs::remove(p, ec);
          }
        } guard{spool};
        std::ifstream in(path, std::ios::binary);
        if (!in) {
          std::fprintf(stderr, "import: cannot read %s\n", path.c_str());
          return 2;
        }
        tenant::eventstore::rocksdb_options so;
        so.path = (fs::path(g.data_dir) / "eventstore").string();
        auto store = tenant::eventstore::open_rocksdb_store(so);
        if (!store) {
          std::fprintf(stderr,
                       "import: cannot open the event store at %s for writing: %s (is tenantd "
                       "running?)\n",
                       so.path.c_str(), store.error().message().c_str());
          return 2;
        }
        auto n = tenant::projections::import_log(**store, in);
        (*store)->stop();
        if (!n) {
          std::fprintf(stderr, "import: refused: %s\n", n.error().message.c_str());
          return 1;
        }
        std::printf("imported %llu events into %s\n", static_cast<unsigned long long>(*n),
                    so.path.c_str());
        if (fs::exists(fs::path(g.data_dir) / "projections"))
          std::printf(
              "note: %s/projections predates the import; run `tenantctl replay` to rebuild it\n",
              g.data_dir.c_str());
        return 0;
      };
    }};

}  // namespace
