#!/usr/bin/env bash
# Runs every test: sets up and builds if needed (scripts/setup.sh --no-run), then the C++ tests
# (GoogleTest, golden files, fuzz-corpus replays) through ctest, the Python reference and CLI
# tests, the web app's own tests, and the browser tests in Debian's chromium.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --no-run
echo "==> ctest"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "==> pytest"
CIRCUIT_BIN="$root/build/circuit" .venv/bin/python -m pytest -q tests/python
echo "==> web app (typecheck, unit tests)"
(cd webview && npm run --silent typecheck && npm test --silent)
echo "==> browser tests (chromium)"
(cd tests/browser && CIRCUIT_BIN="$root/build/circuit" npm test --silent)
