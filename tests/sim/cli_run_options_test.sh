#!/usr/bin/env bash
# `run` and `sweep` options beyond the contract's: --clients and --faults KIND:LEVEL.
# Usage: cli_run_options_test.sh SEER
seer="$1"
source "$(dirname "$0")/../cli/lib.sh"

# --clients: fewer consumers; recorded in the trace header; the sweep's reproduce line keeps it.
"$seer" run jobs --variant naive --seed 1 --clients 1 --trace "$tmp/c.jsonl" --json >"$tmp/c.json"
python3 -c '
import json, sys
h = json.loads(open(sys.argv[1]).readline())
assert h["clients"] == 1, h
assert [p for p in h["processes"] if p.startswith("consumer")] == ["consumer1"], h["processes"]
' "$tmp/c.jsonl" || fail "run --clients 1 should start one consumer and record it"
"$seer" sweep jobs --variant naive --seeds 1..20 --clients 1 >"$tmp/sweep.txt"
grep -q "^reproduce: seer run jobs --variant naive --seed [0-9]* --clients 1" "$tmp/sweep.txt" ||
  fail "sweep --clients should reproduce with --clients: $(cat "$tmp/sweep.txt")"
expect_error 2 run jobs --seed 1 --clients 0
expect_error 2 sweep jobs --seeds 1..2 --clients x

# --faults KIND:LEVEL pins a kind's intensity: clock at level 3 skews clocks up to 150 ms. The level
# shows in the run's profile and the trace header, and a replay of the trace runs at it.
"$seer" run register --variant correct --seed 1 --faults clock:3,drop --json \
  --trace "$tmp/l.jsonl" >"$tmp/l.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
p = r["profile"]
assert p["levels"] == {"clock": 3, "drop": 2}, p
assert p["clock_skew_max_ns"] == 150_000_000, p
h = json.loads(open(sys.argv[2]).readline())
assert h["faults"] == ["clock:3", "drop"], h["faults"]
assert h["profile"]["levels"]["clock"] == 3, h["profile"]
' "$tmp/l.json" "$tmp/l.jsonl" || fail "run --faults clock:3 should run and report level 3"
"$seer" replay --trace "$tmp/l.jsonl" >/dev/null || fail "replay of a clock:3 trace should be identical"
expect_error 2 run register --seed 1 --faults clock:5
expect_error 2 run register --seed 1 --faults clock:
expect_error 2 sweep register --seeds 1..2 --faults clock:x

# The heal phase: jobs/claim seed 1 leaves a job never run (a liveness violation, exit 1); without
# the heal the run holds; the run file and trace of a --no-heal run keep it, so replay agrees.
"$seer" run jobs --variant claim --seed 1 --json >"$tmp/live.json"; code=$?
[ $code -eq 1 ] || fail "jobs/claim seed 1 should fail its liveness property (got $code)"
python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["violation"]
assert v["kind"] == "liveness" and v["invariant"] == "every-job-runs", v
assert "never ran" in v["message"], v
' "$tmp/live.json" || fail "run --json should say kind liveness"
"$seer" run jobs --variant claim --seed 1 --no-heal --trace "$tmp/noheal.jsonl" >/dev/null ||
  fail "without the heal jobs/claim seed 1 holds"
grep -q '"heal":false' "$tmp/noheal.jsonl" || fail "the trace header should say heal false"
"$seer" replay --trace "$tmp/noheal.jsonl" >/dev/null || fail "replay of a --no-heal trace should be identical"
"$seer" list --json | python3 -c '
import json, sys
jobs = [s for s in json.load(sys.stdin)["systems"] if s["name"] == "jobs"][0]
assert [l["name"] for l in jobs["liveness"]] == ["every-job-runs"], jobs
' || fail "list --json should show the liveness property"

finish
