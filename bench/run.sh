#!/usr/bin/env bash
# `npm run bench`: from a fresh clone, installs what the engine harness needs, builds the
# API (the bench runs the built app as a real process) and runs every scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
[ -d node_modules ] || npm ci
npm run build --silent
exec npx tsx bench/run.ts "$@"
