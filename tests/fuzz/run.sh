#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14 under ASan+UBSan into build/fuzz and
# runs each for N seconds (default 60, what CI uses). New corpus entries stay in
# build/fuzz/corpus/<target>/ (the seeds in tests/fuzz/corpus/ are only read); a crash leaves
# its input in build/fuzz/artifacts/<target>/ and makes the script exit 1. Add such an input to
# tests/fuzz/corpus/<target>/ (as crash-<what>) once fixed: the regular build replays it.
#   tests/fuzz/run.sh            # 60 s per target
#   tests/fuzz/run.sh 10 query   # 10 s, only the query target
# Needs the Debian packages clang-14 and libfuzzer-14-dev (scripts/deps).
set -euo pipefail
seconds="${1:-60}"
shift || true
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build/fuzz"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(json_body envelope envelope_header query jwt http_request)

# As scripts/build: ccache shares objects between checkouts (a fresh clone in CI hits).
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
  -DTENANT_SANITIZER=asan -DTENANT_FUZZ=ON \
  -DTENANT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}"

# One target per core at a time (TENANT_FUZZ_JOBS, default 2): CI's fuzz stage then takes
# about seconds x targets / 2.
fuzz_one() {
  local t=$1
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  # -rss_limit_mb: ASan's shadow memory counts too; 2 GB is libFuzzer's default.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$t" "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t/" 2>"$build/fuzz_$t.log"
}
jobs_max="${TENANT_FUZZ_JOBS:-2}"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
  echo "=== fuzz_$t: ${seconds}s"
  rm -f "$build/fuzz_$t.rc"
  (
    rc=0
    fuzz_one "$t" || rc=$?
    echo "$rc" >"$build/fuzz_$t.rc"
  ) &
done
wait
failed=()
for t in "${targets[@]}"; do
  if [ "$(cat "$build/fuzz_$t.rc" 2>/dev/null)" = 0 ]; then
    echo "--- fuzz_$t: $(grep -E "stat::number_of_executed_units" "$build/fuzz_$t.log" | tail -n 1)"
  else
    failed+=("$t")
    echo "--- fuzz_$t FAILED:"
    tail -n 60 "$build/fuzz_$t.log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in $build/artifacts/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} target(s), ${seconds}s each, no crash"
