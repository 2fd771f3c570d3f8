#!/usr/bin/env bash
# Installs what is needed, builds (release, and debug with ASan/UBSan), and runs the test suites except
# those labelled `slow` (run them with: ctest --preset release -L slow).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
for preset in release asan; do
  echo "== build: $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test: $preset =="
  ctest --preset "$preset" -j "$jobs" -LE slow
done
