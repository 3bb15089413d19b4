#!/usr/bin/env bash
# The README's test command: set up, lint, type-check, bring the native stack up, run every test.
# With CI=true (or AMF1_REQUIRE_STACK=1) a missing stack fails the integration tests instead of
# skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh

if [ "${CI:-}" = "true" ]; then export AMF1_REQUIRE_STACK=1; fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

.venv/bin/pytest "$@"
