#!/usr/bin/env bash
# Installs what is needed (Debian packages, and playwright-core from npm for the viewer's browser
# test), builds, and runs the test suites except those labelled `slow` (run those with:
# ctest --preset release -L slow):
#  1. clang++ release build, all suites (with the pinned trace hashes: determinism across
#     compilers, g++ being checked by step 3);
#  2. libFuzzer on every input seer reads (histories, traces, run files, MCP requests), 60 seconds;
#  3. g++ build with ASan/UBSan, all suites.
# The CI presets build in unity batches (CMAKE_UNITY_BUILD): nlohmann::json's and CLI11's templates
# are compiled once per batch instead of once per file, which halves the build on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# playwright-core for the viewer's test in headless Chromium, pinned by tests/view/package-lock.json.
[ -d tests/view/node_modules/playwright-core ] ||
  npm ci --prefix tests/view --no-audit --no-fund --loglevel=error
jobs=$(nproc)

echo "== build: clang-release =="
cmake --preset clang-release >/dev/null
cmake --build --preset clang-release -j "$jobs"
echo "== test: clang-release =="
ctest --preset clang-release -j "$jobs" -LE slow

# Every reader under libFuzzer for a short, bounded run each (malformed input must not crash, hang or
# throw): 60 s in all (CI must stay under 30 minutes on 2 cores). A fixed seed keeps CI reproducible; fuzz longer and unseeded by hand
# (docs/checkers.md).
echo "== fuzz: readers (60 s) =="
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target fuzz_history_reader fuzz_trace_reader fuzz_run_file fuzz_mcp
# -entropic=0: clang 14's entropic scheduler spends ~90% of the time in UpdateFeatureFrequency on
# these targets (30 runs/s instead of 1,000).
fuzz() {  # TARGET SECONDS SEEDS
  mkdir -p "build/fuzz/corpus-$1"
  "build/fuzz/fuzz/$1" -seed=1 -entropic=0 -max_total_time="$2" -timeout=10 -rss_limit_mb=4096 \
    "build/fuzz/corpus-$1" "$3" 2>&1 | tail -n 3
}
fuzz fuzz_history_reader 20 fuzz/seeds
fuzz fuzz_trace_reader 15 fuzz/seeds-trace
fuzz fuzz_run_file 15 fuzz/seeds-run
fuzz fuzz_mcp 10 fuzz/seeds-mcp

echo "== build: asan =="
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
echo "== test: asan =="
ctest --preset asan -j "$jobs" -LE slow
