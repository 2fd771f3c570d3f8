#!/usr/bin/env bash
# `seer sweep --for DURATION` (docs/scale-out.md, "Searching for a while"): a 2 s search of the
# naive register finds failing runs whose reproduce lines (seed, variant, fault profile) reproduce
# them; a search's runs are a function of its stream (two searches of one stream agree on the runs
# both made, whatever --jobs); --out streams them; bad durations and conflicting options exit 2.
# Stream 4's run 0 fails on the naive register, so a search that makes one run finds a failure
# however slow the build (the sanitizers'): the assertions hold for any number of runs.
# Usage: sweep_search_test.sh SEER
set -u
seer=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1

"$seer" sweep register --variant naive --for 2s --seed-stream 4 --jobs 2 --json --out s.jsonl >a.json
[ $? -eq 1 ] || fail "a 2s search of register/naive should find a failing run"
python3 - a.json s.jsonl <<'PY' >repro.txt || fail "the search's report"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["search"]["stream"] == 4 and j["search"]["for_s"] == 2, j["search"]
assert 1.9 <= j["elapsed_s"] < 10, j["elapsed_s"]
assert j["runs"] >= 1 and j["failing"][0]["run"] == 0, (j["runs"], j["failing"][:1])
assert j["variants"] == ["naive"] and j["variant"] == "naive"
profiles = {f["faults"] for f in j["failing"]}
runs = [f["run"] for f in j["failing"]]
assert runs == sorted(runs) and max(runs) < j["runs"], runs
# --out: the header, then every run 0 .. runs-1 exactly once, the failing ones as reported.
lines = [json.loads(l) for l in open(sys.argv[2])]
assert lines[0]["seer_search"] == 1 and lines[0]["stream"] == 4, lines[0]
recorded = sorted(l["run"] for l in lines[1:])
assert recorded == list(range(j["runs"])), (len(recorded), j["runs"])
failed = sorted((l["run"], l["reproduce"]) for l in lines[1:] if l["verdict"] == "fail")
assert failed == [(f["run"], f["reproduce"]) for f in j["failing"]]
# Profiles are drawn per run (stream 4's first three differ).
assert len({l["faults"] for l in lines[1:] if l["run"] < 3}) == min(3, j["runs"]), "profiles not drawn per run"
for f in j["failing"][:3]:
    assert f" --faults {f['faults']}" in f["reproduce"], f["reproduce"]
    print(f["reproduce"], "\t", f["invariant"], "\t", f["message"])
PY
# Each failing run's reproduce line reproduces it: exit 1, the same invariant and message.
while IFS=$'\t' read -r line invariant message; do
  # shellcheck disable=SC2086 # the reproduce line is a command line
  "$seer" ${line#seer } --json >run.json
  [ $? -eq 1 ] || fail "$line: expected the violation (exit 1)"
  python3 - run.json "${invariant% }" "${message# }" <<'PY' || fail "$line: another violation"
import json, sys
v = json.load(open(sys.argv[1]))["violation"]
assert v["invariant"] == sys.argv[2].strip() and v["message"] == sys.argv[3].strip(), (v, sys.argv[2:])
PY
done <repro.txt
[ -s repro.txt ] || fail "no reproduce lines"

# The same stream on one thread for 1 s: its runs are the first runs of the 2 s search, with the
# same verdicts (only how many fit in the time differs).
"$seer" sweep register --variant naive --for 1s --seed-stream 4 --jobs 1 --json >b.json
python3 - a.json b.json <<'PY' || fail "one stream, two searches: the runs they share differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
n = min(a["runs"], b["runs"])
assert n >= 1, n
pick = lambda j: [(f["run"], f["seed"], f["faults"], f["invariant"], f["message"]) for f in j["failing"] if f["run"] < n]
assert pick(a) == pick(b), (pick(a)[:3], pick(b)[:3])
PY

# Variants drawn per run; a pinned --faults is every run's.
"$seer" sweep register --any-variant --faults crash,drop --for 1s --seed-stream 7 --jobs 2 --json \
  --out v.jsonl >v.json
python3 - v.json v.jsonl <<'PY' || fail "--any-variant and a pinned --faults"
import json, sys
j = json.load(open(sys.argv[1]))
lines = [json.loads(l) for l in open(sys.argv[2])][1:]
assert len(j["variants"]) > 1 and "variant" not in j, j["variants"]
# Stream 7's first three runs: naive, acks-only-newer, correct.
first = ["naive", "acks-only-newer", "correct"]
assert [l["variant"] for l in sorted(lines, key=lambda l: l["run"])][:3] == first[:j["runs"]]
assert {l["variant"] for l in lines} <= set(j["variants"])
assert {l["faults"] for l in lines} == {"crash,drop"}
PY
"$seer" sweep register --variant naive --for 1s --seed-stream 4 >text.out
[ $? -eq 1 ] || fail "text search: exit 1 expected"
grep -q '^register/naive: searched [0-9.]*s, stream 4 (--seed-stream 4 repeats it), faults drawn per run: [0-9]* runs' text.out ||
  fail "text report: $(head -1 text.out)"
grep -q '^reproduce: seer run register --variant naive --seed [0-9]* --faults [a-z:0-9,-]* --trace t.jsonl$' text.out ||
  fail "text reproduce line: $(grep reproduce text.out)"
# Without --seed-stream, a fresh stream is printed, and repeats the search.
"$seer" sweep register --variant correct --for 200ms --json >fresh.json
python3 -c 'import json,sys; assert json.load(open("fresh.json"))["search"]["stream"] >= 0' ||
  fail "a fresh stream is reported"

# Bad input: one error line, exit 2.
for d in "" 10 0s -1s 1.5s 10x 2d s 99999999999999999999s 721h; do
  expect_error 2 sweep register --for "$d"
done
expect_error 2 sweep register --for 1s --seeds 1..10
expect_error 2 sweep register --for 1s --shard 0/2
expect_error 2 sweep register --seed-stream 3
expect_error 2 sweep register --any-variant
expect_error 2 sweep register --for 1s --variant naive,nope
expect_error 2 sweep register --for 1s --variant naive,
expect_error 2 sweep register --for 1s --any-variant --variant naive
expect_error 2 sweep register --for 1s --faults crash:9
expect_error 2 sweep register --for 1s --out s.jsonl  # exists: a search does not resume
finish
