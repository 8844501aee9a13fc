#!/usr/bin/env bash
# Dashboard benchmark (issue 8): see bench_dashboard.mjs. Needs the built
# dashboard (www/dist), tests/browser's node_modules (playwright-core), Debian's
# Chromium and the hub in $HLC_BUILD_DIR (default build-release).
set -euo pipefail
cd "$(dirname "$0")/../.."
export HLC_BUILD_DIR=${HLC_BUILD_DIR:-$PWD/build-release}
[ -f www/dist/index.html ] || (cd www && npm ci --no-audit --no-fund --loglevel=error && npm run build)
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
exec node tests/bench/bench_dashboard.mjs
