#!/usr/bin/env bash
# Builds the libFuzzer + ASan targets (clang) in build-fuzz/ and runs them.
# Usage: scripts/fuzz.sh NAME [SECONDS]   one target (a folder of tests/fuzz/), default 600 s
#        scripts/fuzz.sh all [SECONDS]    every target in turn, then one table:
#          target, seconds, executions, corpus size, peak RSS, findings (crash/timeout/oom/leak files)
# New interesting inputs go to build-fuzz/corpus-NAME (copy the small ones into the seed corpus);
# findings go to build-fuzz/findings-NAME/. Exits non-zero when any run had a finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
name=${1:?usage: scripts/fuzz.sh NAME|all [SECONDS]}
seconds=${2:-600}

targets=()
if [ "$name" = all ]; then
  for dir in tests/fuzz/*/; do
    [ -f "$dir/CMakeLists.txt" ] && targets+=("$(basename "$dir")")
  done
else
  [ -f "tests/fuzz/$name/CMakeLists.txt" ] || { echo "fuzz.sh: no target tests/fuzz/$name" >&2; exit 2; }
  targets=("$name")
fi

# Inputs as large as the format allows: 1 MiB (the server's body limit) for files and requests;
# a WebSocket message is cut at the server's 64 KiB.
max_len_of() {
  case $1 in
    ws_message) echo 65536 ;;
    *) echo 1048576 ;;
  esac
}

# Configure once; again when a target folder is new (tests/fuzz/ is globbed at configure time).
configure() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCIRCUIT_FUZZ=ON -DCIRCUIT_WITH_TORCH=OFF >/dev/null
}
[ -f build-fuzz/build.ninja ] || configure
for t in "${targets[@]}"; do
  if ! grep -q "^build tests/fuzz/$t/fuzz_$t:" build-fuzz/build.ninja; then configure; break; fi
done
cmake --build build-fuzz --target "${targets[@]/#/fuzz_}"

count_findings() {  # crash-*, timeout-*, oom-*, leak-* files in a findings folder
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

rows=()
failed=0
for t in "${targets[@]}"; do
  corpus="build-fuzz/corpus-$t"
  findings="build-fuzz/findings-$t"
  log="build-fuzz/fuzz-$t.log"
  mkdir -p "$corpus" "$findings"
  before=$(count_findings "$findings")
  echo "==> fuzz_$t for ${seconds}s (log: $log)"
  start=$(date +%s)
  rc=0
  "build-fuzz/tests/fuzz/$t/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -max_len="$(max_len_of "$t")" -print_final_stats=1 -artifact_prefix="$findings/" \
    "$corpus" "tests/fuzz/$t/corpus" >"$log" 2>&1 || rc=$?
  elapsed=$(( $(date +%s) - start ))
  tail -n 3 "$log" | sed 's/^/    /'
  # libFuzzer's final stats: "stat::number_of_executed_units: N", "stat::peak_rss_mb: N", and the
  # last status line "#N DONE cov: .. ft: .. corp: FILES/SIZE ..." (or the last "#N ..." line).
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  corp=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$log" | tail -1 | sed 's/corp: //')
  found=$(( $(count_findings "$findings") - before ))
  # A run that died without stats or a finding file (a build or start-up problem) counts too.
  if [ "$rc" -ne 0 ] && [ "$found" -eq 0 ]; then found=1; fi
  [ "$found" -ne 0 ] && failed=1
  rows+=("$t|$elapsed|${execs:-?}|${corp:-?}|${rss:+$rss MB}|$found")
done

echo
printf '%-16s %8s %12s %14s %10s %9s\n' target seconds executions corpus 'peak RSS' findings
for row in "${rows[@]}"; do
  IFS='|' read -r t elapsed execs corp rss found <<<"$row"
  printf '%-16s %8s %12s %14s %10s %9s\n' "$t" "$elapsed" "$execs" "$corp" "${rss:-?}" "$found"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: findings; see build-fuzz/findings-*/ and build-fuzz/fuzz-*.log" >&2
  exit 1
fi
