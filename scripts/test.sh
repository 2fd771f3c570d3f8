#!/usr/bin/env bash
# Installs what is needed (Debian packages, and playwright-core from npm for the viewer's browser
# test), builds, and runs the test suites except those labelled `slow` (run those with:
# ctest --preset release -L slow):
#  1. clang++ release build of the simulator tests: determinism across compilers (pinned hashes);
#  2. libFuzzer on the history readers and the checker, 60 seconds;
#  3. debug build with ASan/UBSan, all suites;
#  4. g++ release build, all suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# playwright-core for the viewer's test in headless Chromium, pinned by tests/view/package-lock.json.
[ -d tests/view/node_modules/playwright-core ] ||
  npm ci --prefix tests/view --no-audit --no-fund --loglevel=error
jobs=$(nproc)

echo "== determinism with clang++ =="
cmake --preset clang-release >/dev/null
cmake --build --preset clang-release -j "$jobs" --target sim_tests
ctest --test-dir build/clang-release -R '^Determinism\.' --output-on-failure

# The history readers under libFuzzer for a short, bounded run (malformed input must not crash).
echo "== fuzz: history readers (60 s) =="
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target fuzz_history_reader
mkdir -p build/fuzz/corpus
# A fixed seed keeps CI reproducible; fuzz longer and unseeded by hand (docs/checkers.md).
build/fuzz/fuzz/fuzz_history_reader -seed=1 -max_total_time=60 -timeout=10 -rss_limit_mb=4096 \
  build/fuzz/corpus fuzz/seeds 2>&1 | tail -n 3

for preset in asan release; do
  echo "== build: $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test: $preset =="
  ctest --preset "$preset" -j "$jobs" -LE slow
done
