#!/usr/bin/env bash
# Installs what is needed (Debian packages, and playwright-core from npm for the viewer's browser
# test), builds, and runs the test suites except those labelled `slow` (run those with:
# ctest --preset release -L slow). Two builds of the whole tree:
#  1. g++ (the compiler a Debian user gets by default) at -O2 (preset `ci`: Debian's packages are
#     built at -O2; it compiles about 12% faster than the release preset's -O3 and runs the suites
#     as fast, where -O1 saved 90 s of build and lost 80 s of tests; the test programs' own code at
#     -O1, SEER_TEST_CODE_OPTIONS), every suite at full size, with the pinned trace hashes;
#  2. clang++ with ASan/UBSan (preset `sanitize`): seer's libraries and programs instrumented, the
#     test programs' own code not (it compiles 40% faster); every suite again with fewer seeds
#     (tests/sweep_scale.hpp: a tenth, or a fixed count for the long sweeps of one design; tests of
#     a property across many seeds skip themselves; the viewer's browser test is build 1's only),
#     the pinned hashes checked under a second compiler; then libFuzzer on every input seer reads
#     (histories, traces, run files, MCP requests, sweep outputs), 60 seconds, from the same tree: its libraries
#     carry the coverage counters libFuzzer needs. (Build 2 niced beside build 1's tests was
#     tried: the tests keep the CPUs 85% busy, the build got 4 of its 96 steps done and the tests
#     took 60 s longer; a live test's fault schedule then fell short.)
# The presets build in unity batches (CMAKE_UNITY_BUILD): nlohmann::json's and CLI11's templates are
# compiled once per batch instead of once per file (measured per library below). The two CI
# presets put each target in one batch (CMAKE_UNITY_BUILD_BATCH_SIZE=0): measured alone, the CLI
# library compiles in 50 s instead of 105 s as three batches, explain's in 47.5 s instead of 61. CI must
# finish in 30 minutes on two cores; BENCHMARKS.md has the phases' times.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# playwright-core for the viewer's test in headless Chromium, pinned by tests/view/package-lock.json.
[ -d tests/view/node_modules/playwright-core ] ||
  npm ci --prefix tests/view --no-audit --no-fund --loglevel=error
jobs=$(nproc)
# Each phase's start, in seconds since the script began (BENCHMARKS.md has a run's phases), and how
# busy the machine's CPUs were during the phase before (from /proc/stat: a test phase well below 100%
# waits on sleeps, daemons and the network, not on the cores).
busy_jiffies() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
read -r busy_before total_before < <(busy_jiffies)
phase() {
  local busy total
  read -r busy total < <(busy_jiffies)
  local used=$(((busy - busy_before) * 100 / (total - total_before > 0 ? total - total_before : 1)))
  busy_before=$busy total_before=$total
  echo "== [$SECONDS s] $1 == (CPUs ${used}% busy since the last phase)"
}

phase "build: ci (g++ -O2)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
phase "test: ci"
ctest --preset ci -j "$jobs" -LE slow

phase "build: sanitize (clang++, ASan/UBSan, fuzz targets)"
# Without debug information in CI (the preset keeps -g1 for line numbers at home): clang compiled
# seer's libraries 10-15% faster (explain's 148 -> 125 s of CPU, the checker's 68 -> 62; BENCHMARKS.md).
# A sanitizer's report here still names every frame's function (from the symbol table); rebuild
# with the preset for its file and line.
cmake --preset sanitize -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g0" >/dev/null
cmake --build --preset sanitize -j "$jobs"
phase "test: sanitize"
ctest --preset sanitize -j "$jobs" -LE slow

# Every reader under libFuzzer for a short, bounded run each (malformed input must not crash, hang or
# throw): 60 s of fuzzing in all, two targets at a time (one per core). A fixed seed keeps CI
# reproducible; fuzz longer and unseeded by hand (docs/checkers.md).
phase "fuzz: readers (60 s on two cores)"
# -entropic=0: clang 14's entropic scheduler spends ~90% of the time in UpdateFeatureFrequency on
# these targets (30 runs/s instead of 1,000).
fuzz() {  # TARGET SECONDS SEEDS; its last lines go to build/sanitize/fuzz-TARGET.log
  mkdir -p "build/sanitize/corpus-$1"
  local status=0
  "build/sanitize/fuzz/$1" -seed=1 -entropic=0 -max_total_time="$2" -timeout=10 -rss_limit_mb=4096 \
    "build/sanitize/corpus-$1" "$3" >"build/sanitize/fuzz-$1.log" 2>&1 || status=$?
  echo "-- $1 (exit $status)"
  tail -n 3 "build/sanitize/fuzz-$1.log"
  return "$status"
}
# Two lanes of 30 s; a lane's output is printed when it ends, and a failing target fails CI.
{ fuzz fuzz_history_reader 20 fuzz/seeds && fuzz fuzz_mcp 10 fuzz/seeds-mcp; } >build/sanitize/fuzz-lane1.txt 2>&1 &
lane1=$!
{ fuzz fuzz_trace_reader 10 fuzz/seeds-trace && fuzz fuzz_run_file 12 fuzz/seeds-run &&
  fuzz fuzz_sweep_file 8 fuzz/seeds-sweep; } >build/sanitize/fuzz-lane2.txt 2>&1 &
lane2=$!
status=0
wait "$lane1" || status=1
wait "$lane2" || status=1
cat build/sanitize/fuzz-lane1.txt build/sanitize/fuzz-lane2.txt
[ "$status" -eq 0 ] || { echo "fuzz: a target failed (logs: build/sanitize/fuzz-*.log)"; exit 1; }
phase "done"
