#!/usr/bin/env bash
# Installs what is needed (Debian packages, and playwright-core from npm for the viewer's browser
# test), builds, and runs the test suites except those labelled `slow` (run those with:
# ctest --preset release -L slow):
#  1. clang++ release build, all suites (with the pinned trace hashes: determinism across
#     compilers, g++ being checked by step 3);
#  2. libFuzzer on the history readers and the checker, 60 seconds;
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

# The history readers under libFuzzer for a short, bounded run (malformed input must not crash).
echo "== fuzz: history readers (60 s) =="
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target fuzz_history_reader
mkdir -p build/fuzz/corpus
# A fixed seed keeps CI reproducible; fuzz longer and unseeded by hand (docs/checkers.md).
build/fuzz/fuzz/fuzz_history_reader -seed=1 -max_total_time=60 -timeout=10 -rss_limit_mb=4096 \
  build/fuzz/corpus fuzz/seeds 2>&1 | tail -n 3

echo "== build: asan =="
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
echo "== test: asan =="
ctest --preset asan -j "$jobs" -LE slow
