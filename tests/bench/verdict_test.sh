#!/usr/bin/env bash
# bench/run's pass/fail rule (bench/lib/verdict.sh) and bench/known_gaps: which rows fail
# `bench/run --quick` (and so CI), which are known gaps, and that every listed key is a row key.
# usage: verdict_test.sh SOURCE_DIR
set -uo pipefail
src=${1:?source dir}
# shellcheck source=bench/lib/verdict.sh
source "$src/bench/lib/verdict.sh"
# shellcheck source=tests/lib/expect.sh
source "$src/tests/lib/expect.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' '# a comment line' '' 'post  5,8  below half today' 'pg 8 also' >"$tmp/gaps"
load_known_gaps "$tmp/gaps"
expect "gap keys" "$(printf '%s\n' "${!known_gap[@]}" | sort | tr '\n' ' ')" "pg post "
expect "issues of post" "${known_gap[post]}" "5,8"

verdict get 0.85 ">=" 0.8 1
expect "at target: result" "$v_result" "pass"
expect "at target: fail" "$v_fail" 0
verdict get 0.5 ">=" 0.8 1
expect "below target, above half: result" "$v_result" "below target"
expect "below target, above half: fail" "$v_fail" 0
verdict get 0.39 ">=" 0.8 1
expect "below half, quick: result" "$v_result" "**below half target**"
expect "below half, quick: fail" "$v_fail" 1
verdict get 0.39 ">=" 0.8 0
expect "below half, full run: fail" "$v_fail" 0
verdict get 0.4 ">=" 0.8 1
expect "exactly half: fail" "$v_fail" 0

verdict post 0.12 ">=" 0.4 1
expect "known gap below half: result" "$v_result" "**below half target**, known gap (issue 5,8)"
expect "known gap below half: fail" "$v_fail" 0
expect "known gap below half: note" "$v_note" ""
verdict post 0.25 ">=" 0.4 1
expect "known gap above half: result" "$v_result" "below target"
expect "known gap above half: fail" "$v_fail" 0
[ -n "$v_note" ] || { echo "FAIL: a known gap above half its target gives no note"; failures=$((failures + 1)); }
verdict post "" ">=" 0.4 1
expect "known gap without a figure: result" "$v_result" "**error** (no figure)"
expect "known gap without a figure: fail" "$v_fail" 1
verdict kafka "" ">=" 0.8 0
expect "no figure, full run: fail" "$v_fail" 1

verdict memory 0.53 "<=" 1.0 1
expect "<= within: result" "$v_result" "pass"
verdict memory 1.5 "<=" 1.0 1
expect "<= over, within twice: result" "$v_result" "below target"
verdict memory 2.5 "<=" 1.0 1
expect "<= over twice: fail" "$v_fail" 1

# The repository's list: every key must be one bench/run reports, or the entry silently
# exempts nothing (and a renamed row would lose its exemption without anyone noticing).
load_known_gaps "$src/bench/known_gaps"
keys=$("$src/bench/run" --rows)
# bench/run's own list covers the rows it writes (row() also refuses other keys when it runs).
for k in $( (grep -oE '^\s*row [a-z_]+ ' "$src/bench/run" | awk '{print $2}'
  grep -oE '"(GET|POST|LIST):' "$src/bench/run" | tr -d '":' | tr '[:upper:]' '[:lower:]') | sort -u); do
  grep -qx "$k" <<<"$keys" || { echo "FAIL: bench/run writes row '$k', which --rows does not list"; failures=$((failures + 1)); }
done
[ "${#known_gap[@]}" -gt 0 ] || { echo "FAIL: bench/known_gaps lists nothing"; failures=$((failures + 1)); }
for k in "${!known_gap[@]}"; do
  grep -qx "$k" <<<"$keys" || { echo "FAIL: bench/known_gaps key '$k' is not a row of bench/run (rows: ${keys//$'\n'/ })"; failures=$((failures + 1)); }
  [[ "${known_gap[$k]}" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "FAIL: key '$k': issues '${known_gap[$k]}' are not numbers"; failures=$((failures + 1)); }
done

# bench/run --help prints its whole header comment (up to the first line that is not one),
# however long the header grows.
help=$("$src/bench/run" --help)
first_code=$(grep -n -v '^#' "$src/bench/run" | head -1 | cut -d: -f1)
last_comment=$(sed -n "$((first_code - 1))p" "$src/bench/run" | sed 's/^# \{0,1\}//')
expect "--help: first line" "$(head -1 <<<"$help")" "$(sed -n 2p "$src/bench/run" | sed 's/^# //')"
expect "--help: last line is the header's last" "$(tail -1 <<<"$help")" "$last_comment"
expect "--help: one line per header line" "$(wc -l <<<"$help")" "$((first_code - 2))"

expect_done "verdict rule and bench/known_gaps (${#known_gap[@]} known gaps: ${!known_gap[*]})"
