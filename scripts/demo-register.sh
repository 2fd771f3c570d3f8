#!/usr/bin/env bash
# A second demo, on the quorum register: install, build, then watch seer find the naive quorum
# register's bug, record and replay the failing run, shrink and explain it (with an HTML timeline in
# out/shrunk.html), and see the correct variant hold.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
seer=build/release/src/cli/seer

echo; echo "== 1. sweep the naive register (acks writes before fsync) over 1,000 seeds =="
set +e; $seer sweep register --variant naive --seeds 1..1000; status=$?; set -e
[ "$status" -eq 1 ] || { echo "expected the naive variant to fail"; exit 1; }

mkdir -p out
$seer sweep register --variant naive --seeds 1..1000 --json >out/naive-sweep.json || true
seed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failing"][0]["seed"])' \
  out/naive-sweep.json)
echo; echo "== 2. record the first failing seed ($seed) with its forbidden facts =="
$seer run register --variant naive --seed "$seed" --trace out/naive.trace.jsonl \
  --history out/naive.history.jsonl || true
echo "trace: out/naive.trace.jsonl ($(wc -l < out/naive.trace.jsonl) lines); crashes and what they lost:"
grep '"kind":"crash"' out/naive.trace.jsonl | head -3 | cut -c1-240

echo; echo "== 3. replay it from the trace file, proving it identical =="
$seer replay --trace out/naive.trace.jsonl || [ $? -eq 1 ]

echo; echo "== 4. shrink it to a smaller run that fails the same way, and replay that =="
$seer shrink register --variant naive --seed "$seed" -o out/shrunk.json --trace out/shrunk.trace.jsonl ||
  [ $? -eq 1 ]
$seer replay --run out/shrunk.json || [ $? -eq 1 ]

echo; echo "== 5. explain why it failed, from the trace and its forbidden facts =="
$seer explain out/shrunk.trace.jsonl | head -n 12 || true
$seer view out/shrunk.trace.jsonl -o out/shrunk.html

echo; echo "== 6. the correct register (fsync before ack) over 10,000 seeds =="
$seer sweep register --variant correct --seeds 1..10000
