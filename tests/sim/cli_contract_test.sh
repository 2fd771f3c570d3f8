#!/usr/bin/env bash
# The CLI's contract: exit codes, one-line errors for bad input, JSON output, replay from a trace file.
set -u
seer="$1"
source "$(dirname "$0")/../cli/lib.sh"

expect_error 2 run nosuch --seed 1
expect_error 2 run register --variant nosuch --seed 1
expect_error 2 run register --seed abc
expect_error 2 run register --seed 1 --faults drop,nosuch
expect_error 2 run register --seed 1 --trace /nonexistent-dir/t.jsonl
expect_error 2 sweep register --seeds 10..1
expect_error 2 sweep register --seeds 1-10
expect_error 2 run register --seed 1 --no-such-flag
expect_error 2 replay --trace /nonexistent/trace.jsonl
expect_error 2 run counter --seed 1 --service kv
expect_error 2 run counter --seed 1 --service nosuch=stale
expect_error 2 run counter --seed 1 --service kv=nosuch
expect_error 2 run register --seed 1 --service kv=stale
printf '{"seer_trace":1,"system":"register"}\n{"seq":1,\n' >"$tmp/corrupt.jsonl"
expect_error 2 replay --trace "$tmp/corrupt.jsonl"
"$seer" run register --variant naive --seed 7 --trace "$tmp/t.jsonl" >/dev/null
head -n 20 "$tmp/t.jsonl" >"$tmp/truncated.jsonl"
expect_error 2 replay --trace "$tmp/truncated.jsonl"

# --service: the choice changes the run, is recorded in the trace and replayed from it.
"$seer" run counter --variant cas --seed 3 --service kv=stale --trace "$tmp/svc.jsonl" >/dev/null ||
  fail "counter cas on a stale kv should hold"
grep -q '"services":{"kv":"stale"}' "$tmp/svc.jsonl" || fail "the trace header should record --service"
"$seer" replay --trace "$tmp/svc.jsonl" >/dev/null || fail "replaying a --service trace should reproduce it"
"$seer" run counter --variant naive --seed 1 --service kv=linearizable >/dev/null
[ $? -eq 1 ] || fail "counter naive seed 1 should exit 1"

# run: exit 1 on a violation, 0 when it holds; JSON is one object.
"$seer" run register --variant naive --seed 7 >/dev/null; [ $? -eq 1 ] || fail "naive seed 7 should exit 1"
"$seer" run register --variant correct --seed 7 >/dev/null; [ $? -eq 0 ] || fail "correct seed 7 should exit 0"
"$seer" run register --variant naive --seed 7 --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["ok"] is False and j["violation"]["invariant"] == "acked-write-durable", j
' || fail "run --json content"

# sweep --json: failing seeds in order with their invariant.
"$seer" sweep register --variant naive --seeds 1..60 --jobs 2 --json >"$tmp/sweep.json"; code=$?
[ $code -eq 1 ] || fail "naive sweep should exit 1 (got $code)"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
seeds = [f["seed"] for f in j["failing"]]
assert seeds and seeds == sorted(seeds), seeds
assert all(f["invariant"] for f in j["failing"])
assert j["runs"] == 60
assert all(f["kind"] == "safety" for f in j["failing"]), j["failing"]
' "$tmp/sweep.json" || fail "sweep --json content"
# The job count must not change the results.
"$seer" sweep register --variant naive --seeds 1..60 --jobs 1 --json >"$tmp/sweep1.json"
python3 -c '
import json, sys
a, b = (json.load(open(p))["failing"] for p in sys.argv[1:])
assert a == b
' "$tmp/sweep.json" "$tmp/sweep1.json" || fail "sweep results depend on --jobs"

# replay: from a seed and from the trace file, identical.
"$seer" replay register --variant correct --seed 3 >/dev/null || fail "replay by seed"
"$seer" replay --trace "$tmp/t.jsonl" --json >"$tmp/replay.json"; code=$?
[ $code -eq 1 ] || fail "replay of a violating trace should exit 1 (got $code)"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["identical"] is True, j
' "$tmp/replay.json" || fail "replay --json identical"
# A tampered trace (one event changed) is detected as divergent: exit 4.
python3 - "$tmp/t.jsonl" "$tmp/tampered.jsonl" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
lines[5] = lines[5].replace('"time":', '"time":1', 1)
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
"$seer" replay --trace "$tmp/tampered.jsonl" >/dev/null; [ $? -eq 4 ] || fail "tampered trace should exit 4"
# Code lines moved (every event's "at" edited, as after an edit of the design) change no run: the
# replay is identical. The trace must name lines at all for this to test anything.
python3 - "$tmp/t.jsonl" "$tmp/moved.jsonl" <<'PY' || fail "the trace names no code lines (\"at\")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
moved = 0
for i, text in enumerate(lines):
    j = json.loads(text)
    if "at" in j:
        path, line = j["at"].rsplit(":", 1)
        j["at"] = "%s:%d" % (path, int(line) + 3)
        lines[i] = json.dumps(j, separators=(",", ":"))
        moved += 1
assert moved > 0
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
"$seer" replay --trace "$tmp/moved.jsonl" >/dev/null; code=$?
[ $code -eq 1 ] || fail "a trace whose code lines moved should replay identically (exit 1, got $code)"

# list --json names the system, its variants and the fault kinds.
"$seer" list --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
reg = [s for s in j["systems"] if s["name"] == "register"][0]
assert reg["variants"] == ["naive", "correct", "acks-only-newer"]
assert [l["name"] for l in reg["liveness"]] == ["final-read-returns"], reg
assert {f["name"] for f in j["faults"]} >= {"drop", "crash", "partition", "torn", "clock"}
' || fail "list --json"

# check: linearizable history exits 0, a stale read exits 1 with an explanation, bad input exits 2.
"$seer" run register --variant correct --seed 3 --history "$tmp/h.jsonl" >/dev/null
"$seer" check --model register --init 0 "$tmp/h.jsonl" >/dev/null || fail "check of a correct history"
cat >"$tmp/stale.jsonl" <<'H'
{"process":1,"type":"invoke","f":"write","value":4,"time":0}
{"process":1,"type":"ok","f":"write","value":4,"time":10}
{"process":1,"type":"invoke","f":"write","value":1,"time":20}
{"process":1,"type":"ok","f":"write","value":1,"time":30}
{"process":3,"type":"invoke","f":"read","value":null,"time":40}
{"process":3,"type":"ok","f":"read","value":4,"time":50}
H
"$seer" check --model register --init 0 --json "$tmp/stale.jsonl" >"$tmp/check.json"; code=$?
[ $code -eq 1 ] || fail "stale read history should exit 1 (got $code)"
python3 -c '
import json, sys
j = json.loads(open(sys.argv[1]).read())
assert j["verdict"] == "not-linearizable" and j["failing_op"]["process"] == 3, j
assert "overwritten" in j["explanation"], j
' "$tmp/check.json" || fail "check --json content"
"$seer" check --model register --init 0 --html "$tmp/html" "$tmp/stale.jsonl" >/dev/null
grep -q '"failing":true' "$tmp/html/stale.jsonl.html" || fail "check --html should write the report"
printf '{"process":1,"type":"invoke","f":"read"}\n{oops\n' >"$tmp/bad.jsonl"
expect_error 2 check --model register "$tmp/bad.jsonl"
grep -q "bad.jsonl:2:" "$tmp/err" || fail "check error should name line 2: $(cat "$tmp/err")"
expect_error 2 check --model nosuch "$tmp/h.jsonl"
expect_error 2 check --model register --format yaml "$tmp/h.jsonl"
expect_error 2 check --model register --format edn "$tmp/h.jsonl"
"$seer" check --model register --init 0 --format jsonl "$tmp/h.jsonl" >/dev/null || fail "check --format jsonl"
expect_error 2 check --model register --init x "$tmp/h.jsonl"

# Format 1 files (written before the word-mix trace hash, by seer at 4f127f0) still replay, and their
# FNV-1a hashes still compare: reproduced identically, the violation found again (exit 1). Today's files are
# format 2.
format1="$(dirname "$0")/format1"
for args in "--run $format1/counter-naive-1.json" "--trace $format1/counter-naive-1.jsonl"; do
  "$seer" replay $args --json >"$tmp/f1.json"
  [ $? -eq 1 ] || fail "replay $args: a format 1 file's violation should reproduce (exit 1)"
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["identical"] and j["trace_hash"] == "2116aef3952bbae5" == j["expected_trace_hash"], j
' "$tmp/f1.json" || fail "replay $args: not identical to its format 1 hash"
done
"$seer" run counter --variant naive --seed 1 --ops 6 --save-run "$tmp/now.json" >/dev/null
grep -q '"seer_run":2' "$tmp/now.json" || fail "a new run file should be format 2"
! grep -q '"trace_hash":"2116aef3952bbae5"' "$tmp/now.json" || fail "format 2 should hash differently"
"$seer" replay --run "$tmp/now.json" >/dev/null
[ $? -eq 1 ] || fail "a format 2 run file should replay its violation"

echo "cli_contract: $failures failure(s)"
[ "$failures" -eq 0 ]
