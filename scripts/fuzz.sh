#!/usr/bin/env bash
# Builds the libFuzzer + ASan targets (clang) in build-fuzz/ and runs one for SECONDS.
# Usage: scripts/fuzz.sh NAME [SECONDS]   (NAME is a folder of tests/fuzz/)
# New interesting inputs go to build-fuzz/corpus-NAME; copy the small ones into the seed corpus.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
name=$1; seconds=${2:-600}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCIRCUIT_FUZZ=ON -DCIRCUIT_WITH_TORCH=OFF >/dev/null
fi
cmake --build build-fuzz --target "fuzz_$name"
mkdir -p "build-fuzz/corpus-$name"
"build-fuzz/tests/fuzz/$name/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
  "build-fuzz/corpus-$name" "tests/fuzz/$name/corpus"
