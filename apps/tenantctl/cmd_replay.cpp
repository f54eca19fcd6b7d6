// tenantctl replay: rebuilds the projections of a data directory from its event log, offline,
// into a shadow copy that is swapped in atomically at the end. Progress bar on a terminal,
// one-line summary at the end; an interrupted replay resumes where it stopped.
//
// tenantd may be running: the log is read through a read-only (secondary) instance, but the
// projections database is tenantd's while it runs, so the offline replay refuses (exit 3) and
// points to the online rebuild (POST /admin/projections/{name}/rebuild) instead.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "command.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"
#include "tenant/projections/tooling.hpp"

namespace {

std::string with_commas(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string eta(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

void draw(const tenant::projections::replay_progress& p, std::uint64_t start) {
  const std::uint64_t todo = p.target > start ? p.target - start : 0;
  const std::uint64_t done = p.position > start ? p.position - start : 0;
  const double frac = todo == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(todo);
  constexpr int width = 30;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  const double rest =
      p.events_per_second > 0 ? static_cast<double>(todo - done) / p.events_per_second : -1;
  std::fprintf(
      stderr, "\r%s [%s] %5.1f%%  %s/%s events  %s ev/s  ETA %s ", p.projection.c_str(),
      bar.c_str(), frac * 100.0, with_commas(p.position).c_str(), with_commas(p.target).c_str(),
      with_commas(static_cast<std::uint64_t>(p.events_per_second)).c_str(), eta(rest).c_str());
}

const tenantctl::registrar reg{
    "replay", "Rebuild projections from the event log (offline; shadow copy, atomic swap)",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      struct opts {
        std::vector<std::string> projections;
        std::size_t batch = 8'192;
        bool quiet = false;
      };
      auto o = std::make_shared<opts>();
      sub.add_option(
          "--projection", o->projections,
          "projection to rebuild: tenants, memberships or all (repeatable; default all)");
      sub.add_option("--batch", o->batch, "events per write batch")->capture_default_str();
      sub.add_flag("--quiet", o->quiet, "no progress bar");
      return [&g, o]() -> int {
        namespace fs = std::filesystem;
        tenant::eventstore::rocksdb_options so;
        so.path = (fs::path(g.data_dir) / "eventstore").string();
        so.read_only = true;
        if (!fs::exists(so.path)) {
          std::fprintf(stderr, "replay: no event store at %s\n", so.path.c_str());
          return 2;
        }
        auto store = tenant::eventstore::open_rocksdb_store(so);
        if (!store) {
          std::fprintf(stderr, "replay: cannot open the event store at %s: %s\n", so.path.c_str(),
                       store.error().message().c_str());
          return 2;
        }
        tenant::projections::replay_options ro;
        ro.path = (fs::path(g.data_dir) / "projections").string();
        // Scan the `events` column family directly (one JSON parse per event).
        ro.eventstore_path = so.path;
        ro.projections = o->projections.empty() ? std::vector<std::string>{"all"} : o->projections;
        ro.batch_events = o->batch;
        const bool tty = !o->quiet && ::isatty(STDERR_FILENO) == 1;
        bool first = true;
        std::uint64_t start = 0;
        if (tty)
          ro.progress = [&](const tenant::projections::replay_progress& p) {
            if (first) {
              // The first report comes after one batch: close enough to the resume point.
              start = p.position > ro.batch_events ? p.position - ro.batch_events : 0;
              first = false;
            }
            draw(p, start);
          };
        auto s = tenant::projections::replay(**store, ro);
        if (tty && !first) std::fputc('\n', stderr);
        if (!s) {
          if (s.error() == tenant::projections::errc::locked) {
            std::fprintf(stderr,
                         "replay: %s is in use: tenantd is running. Stop it first, or rebuild "
                         "online with POST /admin/projections/{name}/rebuild.\n",
                         ro.path.c_str());
            return 3;
          }
          if (s.error() == tenant::projections::errc::unknown_projection) {
            std::fprintf(stderr,
                         "replay: unknown projection (expected tenants, memberships or all)\n");
            return 2;
          }
          std::fprintf(stderr,
                       "replay: failed: %s (run it again to resume from where it stopped)\n",
                       s.error().message().c_str());
          return 1;
        }
        std::printf("replayed %s events in %.2f s (%s events/s); projections at position %s%s\n",
                    with_commas(s->events).c_str(), s->seconds,
                    with_commas(static_cast<std::uint64_t>(s->events_per_second)).c_str(),
                    with_commas(s->position).c_str(),
                    s->resumed_from > 0
                        ? (" (resumed from " + with_commas(s->resumed_from) + ")").c_str()
                        : "");
        return 0;
      };
    }};

}  // namespace
