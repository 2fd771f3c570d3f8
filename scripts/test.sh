#!/usr/bin/env bash
# Installs what is needed, builds, and runs the test suites except those labelled `slow` (run those with:
# ctest --preset release -L slow):
#  1. clang++ release build of the simulator tests: determinism across compilers (pinned hashes);
#  2. debug build with ASan/UBSan, all suites;
#  3. g++ release build, all suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== determinism with clang++ =="
cmake --preset clang-release >/dev/null
cmake --build --preset clang-release -j "$jobs" --target sim_tests
ctest --test-dir build/clang-release -R '^Determinism\.' --output-on-failure

for preset in asan release; do
  echo "== build: $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test: $preset =="
  ctest --preset "$preset" -j "$jobs" -LE slow
done
