#!/usr/bin/env bash
# The README's test command: set up, lint, type-check, bring the native stack up, run every test.
# With CI=true (or AMF1_REQUIRE_STACK=1) a missing stack fails the integration tests instead of
# skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh

if [ "${CI:-}" = "true" ]; then export AMF1_REQUIRE_STACK=1; fi
# Every package's events are checked against the catalogue (required fields) in tests.
export AMF1_LOG_STRICT=1

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

# --- stack (owned by the stack engineer: elk/stack, docs/stack.md) ---
# Start whatever of the native stack is not already running (building it into the cache the
# first time: about 20-30 minutes on 2 cores, seconds afterwards) and stop, on exit, exactly the
# services this script started: a stack someone else brought up is left alone.
started_file="$(mktemp)"
stop_started_stack() {
  if [ -s "$started_file" ]; then
    # shellcheck disable=SC2046 # one word per service name
    .venv/bin/amf1 stack down $(cat "$started_file") || true
  fi
  rm -f "$started_file"
}
trap stop_started_stack EXIT
if ! .venv/bin/amf1 stack up --started-file "$started_file"; then
  echo "test.sh: the stack did not come up; integration tests skip (or fail under CI)" >&2
fi
# --- end stack ---

.venv/bin/pytest "$@"
