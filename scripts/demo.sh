#!/usr/bin/env bash
# The flagship demo on a fresh Debian 12 machine: Resonate's durable promises, from design to
# production. Install and build; then watch seer find the naive design's bug, shrink and explain it
# (an HTML timeline in out/promises.html), see the final design and its concrete SQL hold under
# simulation, and run the production server, seer-resonate, with the real @resonatehq/sdk (a
# worker killed mid-run), under a Jepsen-style fault test, and under load.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
seer=build/release/src/cli/seer
server=build/release/systems/promises/seer-resonate
mkdir -p out

echo; echo "== 1. the naive design (servers read lagging replicas, write without a guard), 200 seeds =="
set +e; $seer sweep promises --variant naive --seeds 1..200 --json >out/promises-naive.json; status=$?; set -e
[ "$status" -eq 1 ] || { echo "expected the naive design to fail"; exit 1; }
seed=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["failing"][0]["seed"]); print(len(r["failing"]), "of 200 seeds fail", file=sys.stderr)' \
  out/promises-naive.json)

echo; echo "== 2. shrink the first failing seed ($seed) and explain why it failed =="
$seer shrink promises --variant naive --seed "$seed" -o out/promises-shrunk.json \
  --trace out/promises-shrunk.trace.jsonl || [ $? -eq 1 ]
$seer explain out/promises-shrunk.trace.jsonl | head -n 16 || true
$seer view out/promises-shrunk.trace.jsonl -o out/promises.html
echo "timeline: out/promises.html"

echo; echo "== 3. the final design (compare-and-set, partition clock, fenced connections), 2,000 seeds =="
$seer sweep promises --variant final --seeds 1..2000
echo; echo "== 4. the concrete SQL (SQLite) under the same simulation, 300 seeds =="
$seer sweep promises --variant final-sql --seeds 1..300

echo; echo "== 5. seer-resonate with the real @resonatehq/sdk: durable functions, a worker killed =="
tests/promises/run_sdk_test.sh "$server" 3

echo; echo "== 6. Jepsen-style: clients under load, the server killed and connections cut, checked =="
build/release/tests/promises/promises_live_tests --gtest_filter='Stores/LiveFaults.*/Sqlite' 2>&1 |
  grep -E '^live faults|OK|FAILED' | cut -c1-240

echo; echo "== 7. create + settle load, beside SQLite's own commit rate =="
build/release/bench/promises/resonate_load --server "$server" --clients 1 32 --seconds 3 --ceiling
