# shellcheck shell=bash
# Assertions shared by the shell tests (tests/bench/verdict_test.sh, tests/build/git_commit_test.sh):
#   expect WHAT GOT WANT   counts a failure (and says which) when GOT differs from WANT
#   expect_done NAME       exits 1 with the count when anything failed, else prints "NAME: ok"
failures=0
expect() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: got [$2], want [$3]"
    failures=$((failures + 1))
  fi
}
expect_done() {
  if [ "$failures" -gt 0 ]; then echo "$failures failure(s)"; exit 1; fi
  echo "$1: ok"
}
