// tenantctl verify: checks the event log of a data directory (positions 1..head contiguous,
// each stream's versions contiguous, every index agreeing with the events). Read-only: works
// while tenantd runs. Exit 0 when consistent, 1 with a report of the problems, 2 when the store
// cannot be read.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "command.hpp"
#include "tenant/eventstore/verify.hpp"

namespace {

const tenantctl::registrar reg{
    "verify", "Check that positions, stream versions and indexes of the event log are consistent",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      auto quiet = std::make_shared<bool>(false);
      sub.add_flag("--quiet", *quiet, "print only problems");
      return [&g, quiet]() -> int {
        const auto path = (std::filesystem::path(g.data_dir) / "eventstore").string();
        const bool tty = ::isatty(STDERR_FILENO) == 1;
        const auto rep = tenant::eventstore::verify_rocksdb_store(
            path, [tty](std::uint64_t checked, std::uint64_t head) {
              if (tty)
                std::fprintf(stderr, "\rverify: %llu / %llu events",
                             static_cast<unsigned long long>(checked),
                             static_cast<unsigned long long>(head));
            });
        if (tty) std::fputc('\n', stderr);
        if (!rep) {
          std::fprintf(stderr, "verify: cannot read the event store at %s: %s\n", path.c_str(),
                       rep.error().message().c_str());
          return 2;
        }
        if (!*quiet || !rep->ok())
          std::printf("event store %s: %llu events (positions 1..%llu), %llu streams\n",
                      path.c_str(), static_cast<unsigned long long>(rep->events),
                      static_cast<unsigned long long>(rep->head),
                      static_cast<unsigned long long>(rep->streams));
        if (rep->ok()) {
          if (!*quiet)
            std::printf(
                "OK: positions contiguous, stream versions contiguous, stream index, stream "
                "heads, event ids, unique claims and checkpoints agree with the events\n");
          return 0;
        }
        std::printf("FAILED: %llu problem(s)\n",
                    static_cast<unsigned long long>(rep->problem_count));
        for (const auto& p : rep->problems)
          std::printf("  - %s\n", p.c_str());
        if (rep->problem_count > rep->problems.size())
          std::printf("  ... and %llu more\n",
                      static_cast<unsigned long long>(rep->problem_count - rep->problems.size()));
        return 1;
      };
    }};

}  // namespace
