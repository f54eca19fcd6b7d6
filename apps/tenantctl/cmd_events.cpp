// tenantctl events: prints stored envelopes as NDJSON (one envelope per line, exactly the bytes
// of the `events` column family). Read-only: works while tenantd runs, showing what was committed
// when it started.
#include <cstdio>
#include <filesystem>

#include "command.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace {

namespace es = tenant::eventstore;

constexpr std::size_t page = 1'000;

const tenantctl::registrar reg{
    "events", "Print stored event envelopes as NDJSON (all, or one stream)",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      struct args {
        std::string stream;
        std::uint64_t from = 1;
        std::uint64_t limit = 0;
      };
      auto a = std::make_shared<args>();
      sub.add_option("--stream", a->stream,
                     "only this stream: a tenant id (tn_...) or an API user's stream (user-<sub>); "
                     "exit 1 when it has no events");
      // CLI11 would read "-1" into an unsigned as its largest value.
      const CLI::Validator not_negative(
          [](std::string& v) -> std::string {
            return !v.empty() && v.front() == '-' ? "must be 0 or more, got " + v : std::string();
          },
          "", "not negative");
      sub.add_option("--from", a->from, "first global position")
          ->check(not_negative)
          ->capture_default_str();
      sub.add_option("--limit", a->limit, "most events to print (0 = all)")
          ->check(not_negative)
          ->capture_default_str();
      return [&g, a]() -> int {
        es::rocksdb_options o;
        o.path = (std::filesystem::path(g.data_dir) / "eventstore").string();
        o.read_only = true;
        auto store = es::open_rocksdb_store(o);
        if (!store) {
          std::fprintf(stderr, "events: cannot open the event store at %s: %s\n", o.path.c_str(),
                       store.error().message().c_str());
          return 2;
        }
        std::uint64_t printed = 0;
        const auto want = [&] { return a->limit == 0 || printed < a->limit; };
        const auto print = [&](const es::recorded_event& e) {
          std::fwrite(e.envelope_json.data(), 1, e.envelope_json.size(), stdout);
          std::fputc('\n', stdout);
          ++printed;
        };
        if (a->stream.empty()) {
          std::uint64_t next = std::max<std::uint64_t>(a->from, 1);
          while (want()) {
            const auto n = a->limit == 0 ? page : std::min<std::uint64_t>(page, a->limit - printed);
            auto events = (*store)->read_all(next, static_cast<std::size_t>(n));
            if (!events) {
              std::fprintf(stderr, "events: %s\n", events.error().message().c_str());
              return 2;
            }
            if (events->empty()) break;
            for (const auto& e : *events)
              print(e);
            next = events->back().position + 1;
          }
        } else {
          // The stream's events in version order, from the first at or after --from.
          std::uint64_t version = 1;
          while (want()) {
            auto events = (*store)->read_stream(a->stream, version, page);
            if (!events) {
              std::fprintf(stderr, "events: %s\n", events.error().message().c_str());
              return 2;
            }
            if (events->empty()) {
              if (version == 1) {
                std::fprintf(stderr,
                             "events: no stream '%s' (streams are tenant ids, tn_..., and "
                             "user-<sub>)\n",
                             a->stream.c_str());
                return 1;
              }
              break;
            }
            for (const auto& e : *events)
              if (e.position >= a->from && want()) print(e);
            version = events->back().version + 1;
          }
        }
        std::fflush(stdout);
        return 0;
      };
    }};

}  // namespace
