#!/usr/bin/env bash
# seer shrink / seer replay --run / seer run --save-run from the command line: exit codes, the
# saved run file replays identically, one-line errors on bad input.
set -u
seer="$1"
source "$(dirname "$0")/../cli/lib.sh"

# Shrink a failing seed: exit 1, a run file and a trace.
"$seer" shrink counter --variant naive --seed 1 -o "$tmp/run.json" --trace "$tmp/t.jsonl" --json \
  >"$tmp/shrink.json"
code=$?
[ "$code" -eq 1 ] || fail "shrink of a failing seed: exit $code, expected 1"
python3 - "$tmp/shrink.json" <<'PY' || fail "shrink --json shape"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["failing"] and r["invariant"] == "increments-counted-once", r
assert r["shrunk"]["events"] < r["original"]["events"], r
assert r["shrunk"]["ops"] <= r["original"]["ops"], r
assert r["violation"]["invariant"] == r["invariant"], r
assert r["runs"] > 1 and not r["budget_exhausted"], r
PY

# The run file replays identically (exit 1: it reproduces the violation), so does the trace.
"$seer" replay --run "$tmp/run.json" >"$tmp/out"
code=$?
[ "$code" -eq 1 ] || fail "replay --run: exit $code, expected 1 ($(cat "$tmp/out"))"
grep -q "reproduced identically" "$tmp/out" || fail "replay --run not identical: $(cat "$tmp/out")"
"$seer" replay --trace "$tmp/t.jsonl" >"$tmp/out"
code=$?
[ "$code" -eq 1 ] || fail "replay --trace of the shrunk trace: exit $code ($(cat "$tmp/out"))"
"$seer" explain "$tmp/t.jsonl" --json >"$tmp/x.json"
[ $? -eq 1 ] || fail "explain of the shrunk trace did not report the violation"
# Shrinking the shrunk run again starts from the file.
"$seer" shrink --from "$tmp/run.json" -o "$tmp/run2.json" >/dev/null
[ $? -eq 1 ] || fail "shrink --from a run file"

# A seeded run saved with its schedule replays to the seeded run's trace hash.
"$seer" run register --variant naive --seed 7 --save-run "$tmp/seeded.json" --json >"$tmp/run7.json"
"$seer" replay --run "$tmp/seeded.json" --json >"$tmp/replay7.json"
python3 - "$tmp/run7.json" "$tmp/replay7.json" <<'PY' || fail "save-run replay differs from the seeded run"
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert b["identical"] and a["trace_hash"] == b["trace_hash"], (a, b)
PY

# A run that holds: nothing to shrink, exit 0.
"$seer" shrink counter --variant cas --seed 1 -o "$tmp/none.json" >/dev/null
[ $? -eq 0 ] || fail "shrink of a holding seed should exit 0"

# Bad input: one line, exit 2.
printf 'not json\n' >"$tmp/garbage.json"
printf '{"seer_run":1,"system":"counter"}\n' >"$tmp/partial.json"
python3 - "$tmp/run.json" "$tmp/badproc.json" "$tmp/badsched.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["schedule"]["crashes"] = [{"process": "nobody", "at": 1, "down": 1}]
json.dump(r, open(sys.argv[2], "w"))
r["schedule"]["crashes"] = [{"process": "kv", "at": "soon", "down": 1}]
json.dump(r, open(sys.argv[3], "w"))
PY
expect_error 2 replay --run "$tmp/garbage.json"
expect_error 2 replay --run "$tmp/partial.json"
expect_error 2 replay --run "$tmp/badproc.json"
expect_error 2 replay --run "$tmp/badsched.json"
expect_error 2 replay --run /nonexistent/run.json
expect_error 2 shrink --from "$tmp/garbage.json"
expect_error 2 shrink --from "$tmp/badproc.json"
expect_error 2 shrink counter --seed 1 --max-runs 0
expect_error 2 shrink counter
expect_error 2 shrink nosuchsystem --seed 1
expect_error 2 shrink counter --seed 1 --no-such-flag

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "cli shrink: ok"
