#!/usr/bin/env bash
# Sweeps beyond one machine (issue 24, docs/scale-out.md): the shards of a sweep, each streaming its
# results with --out (one of them killed mid-run and resumed), merge into the unsharded sweep's
# report; a resume or merge of mismatched or malformed files is one error line and exit 2.
# Usage: sweep_shards_test.sh SEER [SEEDS]: SEEDS (a multiple of 4, default 400) is the sweep's size;
# the sanitized build passes fewer (each run costs more there, and the shards' logic is the same).
set -u
seer=$(realpath "$1")  # absolute: the test runs in its temporary directory
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1

# expect_error_matching CODE REGEX ARGS...: as expect_error, and the line matches REGEX.
expect_error_matching() {
  local code=$1 regex=$2
  shift 2
  expect_error "$code" "$@"
  grep -Eq "^seer: error: $regex" "$tmp/err" || fail "seer $*: error line does not match '$regex': $(head -c 300 "$tmp/err")"
}

# The failing seeds of a sweep --json or merge --json report, and its events, as comparable text.
summary() {
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["runs"], j["events"])
for f in j["failing"]:
    print(f["seed"], f["invariant"], f["kind"], f["message"], f["reproduce"])
' "$1"
}

n=${2:-400}
q=$((n / 4))  # seeds a shard
[ $((q * 4)) -eq "$n" ] && [ "$q" -ge 20 ] || { echo "SEEDS must be a multiple of 4, at least 80"; exit 2; }
# --- The register's naive variant fails about a quarter of its seeds: the unsharded sweep.
range=1..$n
"$seer" sweep register --variant naive --seeds $range --jobs 2 --json >full.json
[ $? -eq 1 ] || fail "the naive register's sweep should fail"
summary full.json >full.txt
[ "$(wc -l <full.txt)" -gt $((n / 20)) ] || fail "expected many failing seeds: $(head -3 full.txt)"

# --- Four shards with --out; shard 2 runs alone and is killed mid-run, then resumed.
for i in 0 1 3; do
  "$seer" sweep register --variant naive --seeds $range --jobs 2 --shard $i/4 --out s$i.jsonl --json >s$i.json
  [ $? -le 1 ] || fail "shard $i/4 failed to run"
done
"$seer" sweep register --variant naive --seeds $range --jobs 1 --shard 2/4 --out s2.jsonl >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 500); do
  [ -f s2.jsonl ] && [ "$(wc -l <s2.jsonl)" -ge 6 ] && break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
killed_at=$(wc -l <s2.jsonl)
echo "shard 2/4 killed with $killed_at lines of $((q + 1))"
# Whatever the kill left, a half-written last line is what a kill during a write leaves.
printf '{"seed":3' >>s2.jsonl
# Merging now names the missing seeds; the torn line is no error.
"$seer" merge --json s0.jsonl s1.jsonl s2.jsonl s3.jsonl >partial.json 2>partial.err
code=$?
python3 - partial.json "$code" "$q" <<'PY' || fail "merge of a killed shard: $(cat partial.err)"
import json, sys
j = json.load(open(sys.argv[1]))
q = int(sys.argv[3])
assert j["complete"] is False, j["complete"]
missing = j["missing_count"]
assert 0 < missing <= q - 5, missing
assert all(2 * q + 1 <= m["first"] <= m["last"] <= 3 * q for m in j["missing"]), j["missing"]
# Failing seeds found: exit 1 even though the sweep is incomplete.
assert int(sys.argv[2]) == 1, sys.argv[2]
PY
"$seer" sweep register --variant naive --seeds $range --jobs 2 --shard 2/4 --out s2.jsonl --json >s2.json
[ $? -le 1 ] || fail "resuming shard 2/4 failed"
[ "$(wc -l <s2.jsonl)" -eq $((q + 1)) ] || fail "the resumed shard has $(wc -l <s2.jsonl) lines, expected $((q + 1))"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["out"]["resumed"] >= 5 and j["runs"] == int(sys.argv[2]), j
' s2.json "$q" || fail "the resume should report the seeds it found: $(head -c 300 s2.json)"
# Resuming a finished shard runs nothing and reports the same.
"$seer" sweep register --variant naive --seeds $range --shard 2/4 --out s2.jsonl --json >s2-again.json
python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["out"]["resumed"] == int(sys.argv[3]) and a["failing"] == b["failing"] and a["events"] == b["events"]
' s2.json s2-again.json "$q" || fail "a finished shard's resume should run nothing"

# --- The merge is the unsharded sweep: same failing seeds, messages, reproduce lines, events.
"$seer" merge --json s0.jsonl s1.jsonl s2.jsonl s3.jsonl >merged.json
[ $? -eq 1 ] || fail "the merge of failing shards should exit 1"
summary merged.json >merged.txt
diff full.txt merged.txt >/dev/null || fail "merged shards differ from the unsharded sweep: $(diff full.txt merged.txt | head -5)"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["complete"] is True and j["missing"] == [] and j["missing_count"] == 0, j
assert j["seeds"] == {"first": 1, "last": int(sys.argv[2])} and j["system"] == "register" and j["variant"] == "naive"
' merged.json "$n" || fail "merge --json fields"
# So is the union of the shards' own reports.
python3 - full.json s0.json s1.json s2.json s3.json <<'PY' || fail "the shards' failing seeds are not the sweep's"
import json, sys
full = json.load(open(sys.argv[1]))["failing"]
shards = [f for p in sys.argv[2:] for f in json.load(open(p))["failing"]]
assert sorted(shards, key=lambda f: f["seed"]) == full
PY
# Text: one line, the failures, the reproduce line.
"$seer" merge s0.jsonl s1.jsonl s2.jsonl s3.jsonl >merged.out
head -1 merged.out | grep -Eq "^register/naive: $n of seeds 1\\.\\.$n from 4 files \(.*\): [0-9]+ failing$" ||
  fail "merge text: $(head -1 merged.out)"
grep -q '^reproduce: seer run register --variant naive --seed [0-9]* --trace t.jsonl$' merged.out ||
  fail "merge text has no reproduce line: $(cat merged.out)"
# The same file twice (identical duplicates) changes nothing.
"$seer" merge --json s0.jsonl s1.jsonl s2.jsonl s3.jsonl s1.jsonl >dup.json
summary dup.json | diff - merged.txt >/dev/null || fail "a duplicated shard changed the merge"
# The job count does not change a shard's records (but for wall times).
"$seer" sweep register --variant naive --seeds $range --jobs 1 --shard 1/4 --out s1-j1.jsonl >/dev/null
records() { tail -n +2 "$1" | sed 's/"wall_s":[0-9.e-]*,//' | sort; }
diff <(records s1.jsonl) <(records s1-j1.jsonl) >/dev/null || fail "--jobs changed shard 1/4's records"

# --- A missing shard: named; with no failing seed the merge exits 2 (not a complete sweep).
"$seer" merge --json s0.jsonl s1.jsonl s3.jsonl >missing.json
[ $? -eq 1 ] || fail "a merge with failing seeds exits 1 even when incomplete"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
q = int(sys.argv[2])
assert j["complete"] is False and j["missing"] == [{"first": 2 * q + 1, "last": 3 * q}] and j["missing_count"] == q, j
' missing.json "$q" || fail "missing shard not named"
"$seer" sweep register --variant correct --seeds 1..40 --shard 0/2 --out c0.jsonl >/dev/null ||
  fail "the correct register should hold"
expect_error_matching 2 "incomplete sweep: 20 of the 40 seeds of 1\.\.40 are in no file \(first: 21\.\.40\)" merge c0.jsonl
grep -q "^incomplete: 20 of 40 seeds missing: 21..40$" "$tmp/out" || fail "the incomplete merge's report: $(cat "$tmp/out")"
"$seer" sweep register --variant correct --seeds 1..40 --shard 1/2 --out c1.jsonl >/dev/null
"$seer" merge c0.jsonl c1.jsonl >/dev/null || fail "a complete merge of holding shards exits 0"

# --- Shards of different sweeps are refused, naming both files and the field.
"$seer" sweep register --variant naive --seeds $range --ops 20 --shard 3/4 --out ops20.jsonl >/dev/null
expect_error_matching 2 "s0\.jsonl and ops20\.jsonl are not of one sweep: ops 50 vs 20" merge s0.jsonl ops20.jsonl
expect_error_matching 2 "c0\.jsonl and s1\.jsonl are not of one sweep: variant correct vs naive" merge c0.jsonl s1.jsonl
"$seer" sweep register --variant naive --seeds 1..$q --shard 0/1 --out other-range.jsonl >/dev/null
expect_error_matching 2 "s0\.jsonl and other-range\.jsonl are not of one sweep: seeds 1\.\.$n vs 1\.\.$q" \
  merge s0.jsonl other-range.jsonl
sed '1s/"seer_version":"[^"]*"/"seer_version":"0.0.1"/' s3.jsonl >old.jsonl
expect_error_matching 2 "s0\.jsonl and old\.jsonl are not of one sweep: seer_version" merge s0.jsonl old.jsonl
# The same release built from another commit: refused too, naming both commits.
commit=$(head -1 s3.jsonl | python3 -c 'import json, sys; print(json.load(sys.stdin)["seer_commit"])')
# `seer --version` names the release and the commit the headers record.
version=$(head -1 s3.jsonl | python3 -c 'import json, sys; print(json.load(sys.stdin)["seer_version"])')
want="seer $version${commit:+ (commit $commit)}"
[ "$("$seer" --version)" = "$want" ] || fail "seer --version: '$("$seer" --version)', expected '$want'"
sed '1s/"seer_commit":"[^"]*"/"seer_commit":"0123456789abcdef"/' s3.jsonl >other-commit.jsonl
expect_error_matching 2 "s0\.jsonl and other-commit\.jsonl are not of one sweep: seer_commit ${commit:-unknown} vs 0123456789abcdef" \
  merge s0.jsonl other-commit.jsonl
cp other-commit.jsonl resume-other.jsonl
expect_error_matching 2 "resume-other\.jsonl: the results of another sweep \(seer_commit 0123456789abcdef in the file, ${commit:-unknown} here\)" \
  sweep register --variant naive --seeds $range --shard 3/4 --out resume-other.jsonl
# A record that disagrees with another copy of its seed: nondeterminism or tampering.
python3 - s1.jsonl changed.jsonl <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[1]); r["events"] += 1
open(sys.argv[2], "w").write("\n".join([lines[0], json.dumps(r)]) + "\n")
PY
expect_error_matching 2 "s1\.jsonl:2 and changed\.jsonl:2 disagree on seed [0-9]+: events" merge s1.jsonl changed.jsonl

# --- A resume with other options, shard or system is refused and leaves the file as it was.
before=$(md5sum <s0.jsonl)
expect_error_matching 2 "s0\.jsonl: the results of another sweep \(ops 50 in the file, 20 here\)" \
  sweep register --variant naive --seeds $range --ops 20 --shard 0/4 --out s0.jsonl
expect_error_matching 2 "s0\.jsonl: the results of another sweep \(shard 0/4 in the file, 1/4 here\)" \
  sweep register --variant naive --seeds $range --shard 1/4 --out s0.jsonl
expect_error_matching 2 "s0\.jsonl: the results of another sweep \(faults swarm in the file, none here\)" \
  sweep register --variant naive --seeds $range --faults none --shard 0/4 --out s0.jsonl
expect_error_matching 2 "s0\.jsonl: the results of another sweep \(no_heal false in the file, true here\)" \
  sweep register --variant naive --seeds $range --no-heal --shard 0/4 --out s0.jsonl
expect_error_matching 2 "s0\.jsonl: the results of another sweep \(system register in the file, counter here\)" \
  sweep counter --seeds $range --shard 0/4 --out s0.jsonl
[ "$(md5sum <s0.jsonl)" = "$before" ] || fail "a refused resume changed the file"

# --- Files of another format and malformed lines: one line naming the file and line, exit 2.
"$seer" run register --variant naive --seed 7 --trace trace.jsonl >/dev/null
before=$(md5sum <trace.jsonl)
expect_error_matching 2 "trace\.jsonl:1: not a seer sweep output \(no \"seer_sweep\" header\)" merge trace.jsonl
expect_error_matching 2 "trace\.jsonl:1: not a seer sweep output" \
  sweep register --variant naive --seeds 1..10 --out trace.jsonl
[ "$(md5sum <trace.jsonl)" = "$before" ] || fail "--out overwrote a trace"
{ head -n 5 s0.jsonl; echo '{"seed": 3, "verdict"'; tail -n +6 s0.jsonl; } >corrupt.jsonl
expect_error_matching 2 "corrupt\.jsonl:6: not a sweep record \(not JSON\)" merge corrupt.jsonl
expect_error_matching 2 "corrupt\.jsonl:6: not a sweep record \(not JSON\)" \
  sweep register --variant naive --seeds $range --shard 0/4 --out corrupt.jsonl
{ head -n 3 s0.jsonl; echo "{\"seed\":$((n - 1)),\"verdict\":\"ok\",\"events\":1,\"wall_s\":0,\"reproduce\":\"\"}"; } >outside.jsonl
expect_error_matching 2 "outside\.jsonl:4: seed $((n - 1)) is not in the header's shard 0/4 \(seeds 1\.\.$q\)" merge outside.jsonl
: >empty.jsonl
expect_error_matching 2 "empty\.jsonl: empty, not a seer sweep output" merge empty.jsonl
head -c 3000 /dev/urandom >random.bin
expect_error 2 merge random.bin
expect_error_matching 2 "cannot read 'nosuch\.jsonl'" merge nosuch.jsonl
expect_error_matching 2 "" sweep register --seeds 1..10 --out /nonexistent-dir/out.jsonl
expect_error 2 merge

# --- Hostile shard numbers, from the flag or the environment.
for shard in 0/0 5/3 4/4 -1/4 1/4/4 x/4 "" 18446744073709551616/2 0/18446744073709551615 0/1000000001 " 0/4"; do
  expect_error_matching 2 "bad --shard" sweep register --seeds 1..10 --shard "$shard"
done
JOB_COMPLETION_INDEX=1 expect_error_matching 2 "JOB_COMPLETION_INDEX is set but SEER_SHARD_COUNT is not" \
  sweep register --seeds 1..10
JOB_COMPLETION_INDEX=4 SEER_SHARD_COUNT=4 expect_error_matching 2 "JOB_COMPLETION_INDEX 4 of SEER_SHARD_COUNT 4" \
  sweep register --seeds 1..10
SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_COUNT=99999999999999999999 expect_error_matching 2 "bad SLURM_ARRAY_TASK_COUNT" \
  sweep register --seeds 1..10
# The environment's shard is the flag's, and the flag beats it.
env JOB_COMPLETION_INDEX=1 SEER_SHARD_COUNT=4 "$seer" sweep register --variant naive --seeds $range --json >k8s.json
env SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=4 "$seer" sweep register --variant naive --seeds $range --json >slurm.json
env JOB_COMPLETION_INDEX=3 SEER_SHARD_COUNT=4 "$seer" sweep register --variant naive --seeds $range --shard 1/4 --json >flag.json
python3 - "$q" k8s.json slurm.json flag.json s1.json <<'PY' || fail "the environment's shard differs from --shard 1/4"
import json, sys
q = int(sys.argv[1])
reports = [json.load(open(p)) for p in sys.argv[2:]]
assert [r["shard"]["from"] for r in reports[:3]] == ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "--shard"], reports
for r in reports:
    assert (r["shard"]["index"], r["shard"]["count"], r["shard"]["first"], r["shard"]["last"]) == (1, 4, q + 1, 2 * q), r["shard"]
    assert r["failing"] == reports[-1]["failing"]
PY
# More shards than seeds: the empty shards hold and merge with the others.
for i in 0 1 2 3 4; do "$seer" sweep register --variant correct --seeds 1..3 --shard $i/5 --out tiny$i.jsonl >/dev/null || fail "tiny shard $i"; done
"$seer" merge --json tiny0.jsonl tiny1.jsonl tiny2.jsonl tiny3.jsonl tiny4.jsonl >tiny.json || fail "merge of tiny shards"
grep -q '"complete":true' tiny.json || fail "tiny shards should cover 1..3: $(cat tiny.json)"

# --- Liveness failures keep their kind through a shard and a merge (promises' dirty-sweep).
"$seer" sweep promises --variant dirty-sweep --seeds 1..30 --jobs 2 --json >live.json
for i in 0 1; do
  "$seer" sweep promises --variant dirty-sweep --seeds 1..30 --jobs 2 --shard $i/2 --out live$i.jsonl >/dev/null
done
"$seer" merge --json live0.jsonl live1.jsonl >live-merged.json
diff <(summary live.json) <(summary live-merged.json) >/dev/null || fail "promises shards differ from the sweep"
grep -q '"kind":"liveness"' live-merged.json || fail "expected a liveness failure among promises dirty-sweep 1..30"

finish
