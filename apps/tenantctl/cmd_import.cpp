// tenantctl import: appends an NDJSON export to an EMPTY event store, keeping positions,
// versions, event ids, timestamps and metadata. The whole input is validated first (a
// malformed line, a position gap or a version gap is refused, naming the line) so that a bad
// file writes nothing. Needs the store exclusively: tenantd must not be running.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "command.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/tooling.hpp"

namespace {

const tenantctl::registrar reg{
    "import", "Append an NDJSON export to an empty event store (positions preserved)",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      auto input = std::make_shared<std::string>("-");
      sub.add_option("-i,--input", *input,
                     "file to read, - for stdin (so `tenantctl export | tenantctl --data-dir NEW "
                     "import` copies a log)")
          ->capture_default_str();
      return [&g, input]() -> int {
        namespace fs = std::filesystem;
        // The input is read twice (validate, then append): stdin is spooled to a file first.
        std::string path = *input;
        if (path == "-" && ::isatty(STDIN_FILENO)) {
          std::fprintf(stderr,
                       "import: the export is read from standard input, which is a terminal: pipe "
                       "one in (tenantctl export | tenantctl --data-dir NEW import) or pass "
                       "--input FILE\n");
          return 2;
        }
        struct cleanup {
          fs::path p;
          ~cleanup() {
            std::error_code ec;
            if (!p.empty()) fs::remove(p, ec);
          }
        } guard;
        if (path == "-") {
          char tmpl[] = "/tmp/tenantctl-import-XXXXXX";
          const int fd = ::mkstemp(tmpl);
          if (fd < 0) {
            std::fprintf(stderr, "import: cannot create a temporary file\n");
            return 2;
          }
          ::close(fd);
          guard.p = tmpl;
          std::ofstream out(guard.p, std::ios::binary);
          // Copied by hand: `out << std::cin.rdbuf()` fails an empty input as if it were a
          // write error.
          char buf[1 << 16];
          std::size_t n = 0;
          while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0)
            out.write(buf, static_cast<std::streamsize>(n));
          if (std::ferror(stdin) || !out.flush()) {
            std::fprintf(stderr, "import: cannot spool standard input to %s\n", tmpl);
            return 2;
          }
          path = guard.p.string();
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
          std::fprintf(stderr, "import: cannot read %s\n", path.c_str());
          return 2;
        }
        tenant::eventstore::rocksdb_options so;
        so.path = (fs::path(g.data_dir) / "eventstore").string();
        auto store = tenant::eventstore::open_rocksdb_store(so);
        if (!store) {
          std::fprintf(stderr, "import: cannot open the event store at %s for writing: %s\n",
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
