#!/usr/bin/env bash
# Regenerates the expected output of every golden case in tests/compiler/cases/ from the
# current compiler. Review the diff before committing it.
# Usage: scripts/update_golden.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
cmake --build "$build" --target compiler_tests
cd "$root/tests/compiler/cases"
CIRCUIT_UPDATE_GOLDEN=1 "$build/tests/compiler/compiler_tests" --gtest_filter='Cases/Golden.*' >/dev/null
echo "updated $(ls "$root"/tests/compiler/cases/*.case | wc -l) golden cases; review with git diff tests/compiler/cases"
