#!/bin/sh
# ctest openapi_lint (label docs): lints docs/openapi.yaml with @redocly/cli from docs/lint
# (installed by ./scripts/deps --test). Without the linter: skipped (exit 77) on a developer
# machine, a failure in CI (CI=true), where the document must be checked.
# Usage: openapi_lint.sh <source dir>
set -eu
src=$1
redocly=$src/docs/lint/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
  if [ "${CI:-}" = true ]; then
    echo "redocly is missing: run ./scripts/deps --test" >&2
    exit 1
  fi
  echo "redocly is missing (./scripts/deps --test installs it): skipped"
  exit 77
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  exec "$redocly" lint --format=stylish "$src/docs/openapi.yaml"
