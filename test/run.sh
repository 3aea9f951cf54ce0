#!/usr/bin/env bash
# `npm test`: everything, from a fresh clone. Installs what the engine harness needs,
# builds the app (the e2e suites run the built API as a real process), runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
[ -d node_modules ] || npm ci
npm run build --silent
exec npx jest --ci --maxWorkers=2 "$@"
