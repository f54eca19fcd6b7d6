// The scale scenario of issue 8: single-append latency as the log grows. For each log size N
// (default 10 000 and 10 000 000), a fresh RocksDB event store (durability os: the disk's fsync
// would drown the effect of the log's size) is prefilled with N events in batches of 1000 over
// 1000 streams, then one appender makes --samples single-event appends to its own stream, each
// waiting for its acknowledgement; prints the p50, p99 and mean of those.
//
//   scale_append_bench [--sizes 10000,10000000] [--samples 20000] [--dir /tmp]
// prints one line per size:
//   scale_append events=N p50_us=.. p99_us=.. mean_us=.. prefill_s=..
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "eventstore_common.hpp"

namespace {

namespace es = tenant::eventstore;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct args {
  std::vector<std::uint64_t> sizes{10'000, 10'000'000};
  std::uint64_t samples = 20'000;
  fs::path dir = fs::temp_directory_path();
};

bool parse(int argc, char** argv, args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    char* end = nullptr;
    if (k == "--sizes") {
      a.sizes.clear();
      std::stringstream in(v);
      std::string part;
      while (std::getline(in, part, ',')) {
        const auto n = std::strtoull(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || n == 0) return false;
        a.sizes.push_back(n);
      }
      if (a.sizes.empty()) return false;
    } else if (k == "--samples") {
      a.samples = std::strtoull(v.c_str(), &end, 10);
      if (*end != '\0' || a.samples == 0) return false;
    } else if (k == "--dir") {
      a.dir = v;
    } else {
      return false;
    }
  }
  return true;
}

// Returns false (after printing why) when the store cannot be opened or an append fails.
bool measure(const args& a, std::uint64_t size) {
  std::random_device rd;
  const fs::path dir = a.dir / ("tenant-scale-append-" + std::to_string(rd()));
  struct cleanup {
    fs::path p;
    ~cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } guard{dir};
  es::rocksdb_options o;
  o.path = (dir / "eventstore").string();
  o.mode = es::durability::os;
  auto opened = es::open_rocksdb_store(o);
  if (!opened) {
    std::fprintf(stderr, "scale_append: cannot open %s: %s\n", o.path.c_str(),
                 opened.error().message().c_str());
    return false;
  }
  auto& store = **opened;

  const auto t0 = clock_type::now();
  std::uint64_t done = 0, stream = 0;
  while (done < size) {
    es::append_request r;
    r.stream_id = "prefill-" + std::to_string(stream++ % 1000);
    const auto n = std::min<std::uint64_t>(1000, size - done);
    for (std::uint64_t i = 0; i < n; ++i)
      r.events.push_back(es::bench::bench_event());
    if (!es::bench::append_sync(store, std::move(r))) {
      std::fprintf(stderr, "scale_append: prefill append failed at %llu\n",
                   static_cast<unsigned long long>(done));
      return false;
    }
    done += n;
  }
  const double prefill_s = std::chrono::duration<double>(clock_type::now() - t0).count();

  std::vector<double> us;
  us.reserve(a.samples);
  for (std::uint64_t i = 0; i < a.samples; ++i) {
    es::append_request r;
    r.stream_id = "latency";
    r.events.push_back(es::bench::bench_event());
    const auto s = clock_type::now();
    if (!es::bench::append_sync(store, std::move(r))) {
      std::fprintf(stderr, "scale_append: append failed\n");
      return false;
    }
    us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - s).count());
  }
  double sum = 0;
  for (const double v : us)
    sum += v;
  std::sort(us.begin(), us.end());
  std::printf("scale_append events=%llu p50_us=%.1f p99_us=%.1f mean_us=%.1f prefill_s=%.1f\n",
              static_cast<unsigned long long>(size), us[us.size() / 2], us[us.size() * 99 / 100],
              sum / static_cast<double>(us.size()), prefill_s);
  std::fflush(stdout);
  store.stop();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  args a;
  if (!parse(argc, argv, a)) {
    std::fprintf(stderr, "usage: scale_append_bench [--sizes N,N...] [--samples N] [--dir DIR]\n");
    return 2;
  }
  for (const auto size : a.sizes)
    if (!measure(a, size)) return 1;
  return 0;
}
