#!/usr/bin/env bash
# cmake/TenantGitCommit.cmake: the commit GET /admin/status reports is the source tree's HEAD at
# build time (not at configure time), "unknown" outside a git checkout, and the generated header
# is rewritten only when its text changes (an unchanged commit recompiles nothing).
set -uo pipefail
src=${1:?source dir}
script="$src/cmake/TenantGitCommit.cmake"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/lib/expect.sh
source "$src/tests/lib/expect.sh"
commit_in() { sed -n 's/^#define TENANTD_GIT_COMMIT "\(.*\)"$/\1/p' "$1"; }
gen() { cmake -DSOURCE_DIR="$1" -DOUTPUT="$2" -P "$script"; }

# A repository that moves from one commit to the next between two builds.
repo="$work/repo"
g() { git -C "$repo" -c user.name=test -c user.email=test@example.invalid "$@"; }
git init -q "$repo"
echo one >"$repo/f" && g add f && g commit -q -m one
out="$work/out/tenant_git_commit.hpp"
gen "$repo" "$out" || { echo "FAIL: the script failed"; exit 1; }
expect "first build: HEAD" "$(commit_in "$out")" "$(g rev-parse --short=12 HEAD)"

touch -d '2000-01-01' "$out"
gen "$repo" "$out"
expect "same commit: file untouched" "$(stat -c %Y "$out")" "$(date -d '2000-01-01' +%s)"

echo two >"$repo/f" && g commit -q -am two
gen "$repo" "$out"
expect "after a new commit: the new HEAD" "$(commit_in "$out")" "$(g rev-parse --short=12 HEAD)"

mkdir -p "$work/plain"
gen "$work/plain" "$out"
expect "outside a checkout" "$(commit_in "$out")" "unknown"

cmake -P "$script" >/dev/null 2>&1 && { echo "FAIL: no arguments accepted"; failures=$((failures + 1)); }

expect_done "TenantGitCommit.cmake"
