#!/usr/bin/env bash
# seer explain / seer query from the command line: exit codes, one-line errors, JSON shape.
set -u
seer="$1"
source "$(dirname "$0")/../cli/lib.sh"

"$seer" run counter --variant naive --seed 1 --trace "$tmp/t.jsonl" >/dev/null
head -n 20 "$tmp/t.jsonl" >"$tmp/truncated.jsonl"
printf '{"seer_trace":1,"processes":["a"]}\n{"seq":1,\n' >"$tmp/corrupt.jsonl"
printf 'not json at all\n' >"$tmp/garbage.jsonl"
for cmd in explain query; do
  expect_error 2 $cmd "$tmp/truncated.jsonl"
  expect_error 2 $cmd "$tmp/corrupt.jsonl"
  expect_error 2 $cmd "$tmp/garbage.jsonl"
  expect_error 2 $cmd /nonexistent/trace.jsonl
  expect_error 2 $cmd "$tmp/t.jsonl" --no-such-flag
done
expect_error 2 query "$tmp/t.jsonl" --process nobody
expect_error 2 query "$tmp/t.jsonl" --before 99999
expect_error 2 query "$tmp/t.jsonl" --from 5parsecs
expect_error 2 query "$tmp/t.jsonl" --knows client1

# A violation is explained (exit 1) with ranked causes and event ids.
"$seer" explain "$tmp/t.jsonl" --json >"$tmp/x.json"
code=$?
[ "$code" -eq 1 ] || fail "explain on a failing trace: exit $code, expected 1"
python3 - "$tmp/x.json" <<'PY' || fail "explain --json shape"
import json, sys
x = json.load(open(sys.argv[1]))
top = x["causes"][0]
assert top["rank"] == 1 and top["kind"] == "outdated_read" and top["process"] == "client2", top
assert all(isinstance(e, int) for e in top["events"])
assert x["slice"][-1]["kind"] == "violation"
PY
"$seer" explain "$tmp/t.jsonl" | grep -q '^Most likely cause (outdated_read)' || fail "explain text"

# A run that held: exit 0.
"$seer" run counter --variant cas --seed 1 --trace "$tmp/ok.jsonl" >/dev/null
"$seer" explain "$tmp/ok.jsonl" >/dev/null || fail "explain on a held run should exit 0"

# Query: matches exit 0, none exit 1; JSON carries the events.
"$seer" query "$tmp/t.jsonl" --process client2 --kind deliver --json >"$tmp/q.json" ||
  fail "query with matches should exit 0"
python3 -c "
import json,sys
q=json.load(open('$tmp/q.json'))
assert q['count']==len(q['events'])>0
assert all(e['process']=='client2' and e['kind']=='deliver' for e in q['events'])
" || fail "query --json shape"
"$seer" query "$tmp/t.jsonl" --key no-such-key >/dev/null
[ $? -eq 1 ] || fail "query without matches should exit 1"

# A newer format is refused, naming both versions.
sed '1s/"seer_trace":2/"seer_trace":3/' "$tmp/t.jsonl" >"$tmp/v3.jsonl"
expect_error 2 explain "$tmp/v3.jsonl"
grep -q 'format version 3 (this seer reads 2' "$tmp/err" || fail "trace version message: $(cat "$tmp/err")"
expect_error 2 replay --run "$tmp/v3.jsonl"
"$seer" run counter --variant naive --seed 1 --save-run "$tmp/r1.json" >/dev/null
sed 's/"seer_run":2/"seer_run":7/' "$tmp/r1.json" >"$tmp/r7.json"
expect_error 2 replay --run "$tmp/r7.json"
grep -q 'run file: format version 7' "$tmp/err" || fail "run file version message: $(cat "$tmp/err")"

# A redacted trace: no forbidden facts left; explain and query still read it; replay refuses it.
"$seer" run counter --variant naive --seed 1 --trace "$tmp/r.jsonl" --redact >/dev/null
! grep -q '"oracle"' "$tmp/r.jsonl" || fail "--redact left oracle facts"
grep -q '"redacted":true' "$tmp/r.jsonl" || fail "--redact header"
"$seer" explain "$tmp/r.jsonl" >/dev/null
[ $? -eq 1 ] || fail "explain on a redacted failing trace should exit 1"
"$seer" query "$tmp/r.jsonl" --key counter >/dev/null || fail "query --key on a redacted trace"
expect_error 2 replay --trace "$tmp/r.jsonl"
expect_error 2 run counter --variant naive --seed 1 --redact

# Re-testing a fix: --recheck answers the verdict on the current code, never 4.
"$seer" run counter --variant naive --seed 1 --save-run "$tmp/run.json" >/dev/null
"$seer" replay --run "$tmp/run.json" --recheck >/dev/null
[ $? -eq 1 ] || fail "replay --recheck of a violating run should exit 1"
python3 - "$tmp/run.json" "$tmp/fixed.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
run["variant"] = "cas"  # the fix, as a changed design would be
run.pop("expect", None)
json.dump(run, open(sys.argv[2], "w"))
PY
"$seer" replay --run "$tmp/fixed.json" --recheck >/dev/null
[ $? -eq 0 ] || fail "replay --recheck of the fixed design should exit 0"

[ "$failures" -eq 0 ] && echo "all explain CLI checks passed"
exit "$failures"
