#!/usr/bin/env bash
# HTTP benchmarks of tenantd (issue 5, "Performance"), each as a ratio to bench/baseline_http (a
# bare Beast server answering a fixed body of the same size) measured in the same run with the
# same wrk command. tenantd runs with --rate-limits off and --durability fsync on a fresh data
# directory.
#
#   GET    /api/v1/tenants/{id}                               target >= 0.80 x baseline
#   POST   /api/v1/tenants (bench/wrk/create.lua)             target >= 0.40 x baseline
#   GET    /api/v1/tenants?per_page=100&description=alpha     target >= 0.25 x baseline
#          over 100 000 tenants
#
# usage: bench/http_wrk.sh [BUILD_DIR] ; env: DURATION (10s), CONNECTIONS (64), THREADS (2),
#        TENANTS (100000), ROUNDS (1: alternate baseline/tenantd this many times, keep the best)
# Prints one line per scenario and a summary; exit 0 (the figures are for reading, not a gate).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
tenants=${TENANTS:-100000}
rounds=${ROUNDS:-1}
tenantd=$build/apps/tenantd
tenantctl=$build/apps/tenantctl
baseline=$build/bench/baseline_http
for exe in "$tenantd" "$tenantctl" "$baseline"; do
  [ -x "$exe" ] || { echo "missing $exe (build tenantd tenantctl baseline_http)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk not installed (apt install wrk)" >&2; exit 2; }

work=$(mktemp -d /tmp/tenantd-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- tenantd ----
secret=bench-secret-$RANDOM$RANDOM$RANDOM$RANDOM
auth=()
if "$tenantctl" token --help >/dev/null 2>&1; then
  token=$("$tenantctl" token --sub bench --scope platform:admin --ttl 2h --jwt-secret "$secret" | tail -n1)
  auth=(-H "Authorization: Bearer $token")
fi
port=$(free_port)
"$tenantd" --data-dir "$work/data" --listen "127.0.0.1:$port" --rate-limits off \
  --durability fsync --jwt-secret "$secret" --access-log off --log-level warn \
  >"$work/tenantd.out" 2>"$work/tenantd.err" &
pids+=($!)
for _ in $(seq 1 300); do
  grep -q "listening on" "$work/tenantd.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$work/tenantd.out" || { cat "$work/tenantd.err" >&2; exit 1; }
url=http://127.0.0.1:$port

body_size() { curl -s "${auth[@]}" "$@" | wc -c; }
rps() { # wrk args... -> requests/s
  wrk -t"$threads" -c"$connections" -d"$duration" "$@" 2>"$work/wrk.err" |
    awk '/Requests\/sec/ {print $2}'
}
run_baseline() { # body-size path -> requests/s
  local bport
  bport=$(free_port)
  "$baseline" --port "$bport" --body-size "$1" >/dev/null 2>&1 &
  local bpid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$bport/" && break; sleep 0.05; done
  local r
  r=$(rps "${auth[@]}" "http://127.0.0.1:$bport$2")
  kill "$bpid"; wait "$bpid" 2>/dev/null || true
  echo "$r"
}
best() { printf '%s\n' "$@" | sort -g | tail -n1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
summary=()
report() { # name tenantd baseline target bytes
  local r
  r=$(ratio "$2" "$3")
  local verdict=ok
  awk -v r="$r" -v t="$4" 'BEGIN { exit !(r < t) }' && verdict=BELOW
  summary+=("$(printf '%-6s tenantd %9.0f req/s  baseline %9.0f req/s  ratio %s (target %s, %s)  body %s B' \
    "$1" "$2" "$3" "$r" "$4" "$verdict" "$5")")
  echo "${summary[-1]}"
}

# ---- POST create (also seeds the list scenario) ----
# Retried for a few seconds: right after "listening on" a loaded machine may still answer 503.
id=
for _ in $(seq 1 50); do
  create_body=$(curl -s "${auth[@]}" -H 'Content-Type: application/json' -X POST "$url/api/v1/tenants" \
    -d '{"name":"Bench tenant seed","plan":"starter","admin_email":"admin@bench.example","description":"alpha bravo logistics","country_code":"US","city":"New York"}')
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("id", ""))' "$create_body" 2>/dev/null || true)
  [ -n "$id" ] && break
  sleep 0.2
done
[ -n "$id" ] || { echo "seed create failed: $create_body" >&2; exit 1; }
post_size=${#create_body}
t_post=(); b_post=()
for _ in $(seq 1 "$rounds"); do
  b_post+=("$(run_baseline "$post_size" /api/v1/tenants)")
  t_post+=("$(rps "${auth[@]}" -s bench/wrk/create.lua "$url/api/v1/tenants")")
done
report POST "$(best "${t_post[@]}")" "$(best "${b_post[@]}")" 0.40 "$post_size"

# ---- GET by id ----
get_size=$(body_size "$url/api/v1/tenants/$id")
t_get=(); b_get=()
for _ in $(seq 1 "$rounds"); do
  b_get+=("$(run_baseline "$get_size" "/api/v1/tenants/$id")")
  t_get+=("$(rps "${auth[@]}" -s bench/wrk/status.lua "$url/api/v1/tenants/$id")")
done
report GET "$(best "${t_get[@]}")" "$(best "${b_get[@]}")" 0.80 "$get_size"

# ---- list: top up to $tenants, then per_page=100 with a description filter ----
have=$(curl -s "${auth[@]}" "$url/api/v1/tenants/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
while [ "$have" -lt "$tenants" ]; do
  wrk -t"$threads" -c"$connections" -d5s "${auth[@]}" -s bench/wrk/create.lua "$url/api/v1/tenants" >/dev/null 2>&1
  have=$(curl -s "${auth[@]}" "$url/api/v1/tenants/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
done
list_path="/api/v1/tenants?per_page=100&description=alpha"
list_size=$(body_size "$url$list_path")
t_list=(); b_list=()
for _ in $(seq 1 "$rounds"); do
  b_list+=("$(run_baseline "$list_size" "$list_path")")
  t_list+=("$(rps "${auth[@]}" -s bench/wrk/status.lua "$url$list_path")")
done
report LIST "$(best "${t_list[@]}")" "$(best "${b_list[@]}")" 0.25 "$list_size"

echo
echo "=== HTTP benchmark ($tenants tenants, wrk -t$threads -c$connections -d$duration, durability fsync)"
printf '%s\n' "${summary[@]}"
