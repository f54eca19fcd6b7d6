# shellcheck shell=bash
# The pass/fail rule of bench/run, sourced by it and by its test (tests/bench/verdict_test.sh).
#
#   load_known_gaps FILE        reads bench/known_gaps: "key issues why..." lines, # comments
#   verdict KEY RATIO OP TARGET QUICK
#       OP is >= or <=; QUICK is 1 for `bench/run --quick`. Sets
#         v_result  "pass", "below target", "**below half target**" (+ ", known gap (issue N)")
#         v_fail    1 when the run must fail on this row: --quick and a ratio worse than half its
#                   target on a row not listed as a known gap; 0 otherwise
#         v_note    non-empty when a listed row is at or above half its target (delete its line)
#       An empty RATIO (no figure) is "**error** (no figure)" and fails in every mode.

declare -gA known_gap=()
# shellcheck disable=SC2034 # v_result, v_fail and v_note are this file's output
v_result='' v_fail=0 v_note=''

load_known_gaps() {
  local k issues _
  known_gap=()
  while read -r k issues _; do
    [ -n "$k" ] && [[ "$k" != \#* ]] && known_gap[$k]=$issues
  done <"$1"
  return 0
}

# shellcheck disable=SC2034
verdict() {
  local key=$1 ratio=$2 op=$3 target=$4 quick=$5
  v_fail=0 v_note=""
  if [ -z "$ratio" ]; then
    v_result="**error** (no figure)" v_fail=1
    return 0
  fi
  v_result=$(awk -v r="$ratio" -v t="$target" -v op="$op" 'BEGIN {
    ok = (op == ">=") ? r >= t : r <= t
    half = (op == ">=") ? r >= t / 2 : r <= t * 2
    if (ok) print "pass"; else if (half) print "below target"; else print "**below half target**" }')
  if [ -n "${known_gap[$key]:-}" ]; then
    if [[ "$v_result" == *half* ]]; then
      v_result="$v_result, known gap (issue ${known_gap[$key]})"
    else
      v_note="$key is at or above half its target in this run ($ratio): once that holds, delete its line from bench/known_gaps"
    fi
  elif [[ "$v_result" == *half* ]] && [ "$quick" = 1 ]; then
    v_fail=1
  fi
  return 0
}
