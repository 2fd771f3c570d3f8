#!/usr/bin/env bash
# The container's entrypoint (deploy/seer-shard.sh) run here as Kubernetes runs it: four "pods" of
# an Indexed Job (JOB_COMPLETION_INDEX 0 to 3, SEER_SHARD_COUNT 4) write their shards to one
# directory, and its merge mode gives the single-machine sweep's report. A failing seed is exit 0
# (a result, not a failed pod); a usage error stays exit 2 with one error line.
# Usage: entrypoint_test.sh SEER SOURCE_DIR
set -u
seer=$(realpath "$1")
entry=$(realpath "$2/deploy/seer-shard.sh")
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/../cli/lib.sh"
cd "$tmp" || exit 1
range=1..120
export SEER="$seer" SEER_SYSTEM=register SEER_VARIANT=naive SEER_SEEDS=$range SEER_JOBS=1
export SEER_OUT_DIR=$tmp/results SEER_SHARD_COUNT=4

"$seer" sweep register --variant naive --seeds $range --jobs 2 --json >full.json
[ $? -eq 1 ] || fail "the naive register should fail some of $range"

# Pods 0 and 2 side by side, then 1 and 3, as a Job with parallelism 2 would.
for pair in "0 2" "1 3"; do
  declare -A pid=()
  for i in $pair; do
    JOB_COMPLETION_INDEX=$i "$entry" >"pod$i.out" 2>"pod$i.err" &
    pid[$i]=$!
  done
  for i in $pair; do
    wait "${pid[$i]}" || fail "pod $i exited $? (a failing seed is exit 0): $(cat "pod$i.err")"
  done
done
for i in 0 1 2 3; do
  head -1 "results/shard-$i.jsonl" | grep -q "\"shard\":{\"index\":$i,\"count\":4}" ||
    fail "shard-$i.jsonl is not shard $i/4: $(head -c 300 "results/shard-$i.jsonl")"
done
# A restarted pod resumes its file: nothing runs again.
JOB_COMPLETION_INDEX=1 "$entry" >again.out 2>&1 || fail "pod 1 restarted: exit $?"
grep -q '30 seeds (30 from' again.out || fail "the restarted pod should resume all of its 30 seeds: $(cat again.out)"

"$entry" merge >merge.out 2>merge.err
[ $? -eq 1 ] || fail "merge: expected exit 1 (failing seeds), got: $(cat merge.err)"
grep -q "register/naive: 120 of seeds 1..120 from 4 files" merge.out || fail "merge report: $(head -2 merge.out)"
python3 - full.json results/merged.json <<'PY' || fail "the merged report is not the single-machine sweep's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda j: (j["runs"], j["events"], [(f["seed"], f["invariant"], f["message"], f["reproduce"]) for f in j["failing"]])
assert key(a) == key(b), (key(a)[:2], key(b)[:2])
assert b["complete"] is True
PY

# Usage errors: exit 2 and one line naming what is wrong.
# expect_entry_error WHAT [ENV-ARGUMENTS...] [-- ENTRYPOINT-ARGUMENTS...]
expect_entry_error() {
  local what=$1 envs=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  env "${envs[@]}" "$entry" "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  [ $code -eq 2 ] || fail "$what: exit $code, expected 2"
  [ "$(grep -c . "$tmp/err")" -eq 1 ] || fail "$what: expected one error line: $(cat "$tmp/err")"
}
expect_entry_error "no SEER_SYSTEM" -u SEER_SYSTEM JOB_COMPLETION_INDEX=0
expect_entry_error "no SEER_SEEDS" -u SEER_SEEDS JOB_COMPLETION_INDEX=0
# An index without its count would be the whole range on every pod: seer refuses it.
expect_entry_error "index without count" -u SEER_SHARD_COUNT JOB_COMPLETION_INDEX=0 SEER_OUT_DIR="$tmp/r2"
grep -q SEER_SHARD_COUNT "$tmp/err" || fail "the error should name SEER_SHARD_COUNT: $(cat "$tmp/err")"
expect_entry_error "index beyond count" JOB_COMPLETION_INDEX=4 SEER_OUT_DIR="$tmp/r3"
# The results of another sweep in the file: refused, not mixed.
expect_entry_error "another sweep's file" JOB_COMPLETION_INDEX=0 SEER_ARGS="--ops 20"
grep -q "the results of another sweep" "$tmp/err" || fail "mismatch error: $(cat "$tmp/err")"
expect_entry_error "unknown mode" -- x
expect_entry_error "merge without results" SEER_OUT_DIR="$tmp/empty" -- merge
finish
