#!/usr/bin/env bash
# seer explain --verify on the command line: the text names each cause's check, --json carries it
# under "verify", and a trace of a system this program lacks is a usage error (exit 2).
set -u
seer="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$seer" run jobs --variant naive --seed 3 --trace "$dir/t.jsonl" >/dev/null
[ $? -eq 1 ] || fail "jobs/naive seed 3 fails"

out=$("$seer" explain "$dir/t.jsonl" --verify)
[ $? -eq 1 ] || fail "explain --verify exits 1 on a violation"
grep -q "^Checked by re-running seed 3 without what each cause shows" <<<"$out" || fail "no check section: $out"
grep -q "^  1\. lost_response: confirmed: without the loss of .*, the run holds" <<<"$out" ||
  fail "the first cause is not confirmed: $out"

grep -q "^Faults the violation needed, each removed alone (1 of 5):" <<<"$out" || fail "no faults part: $out"
grep -q "^  the loss of m43 queue -> producer (queue_reply) (#112): without it, the run holds" <<<"$out" ||
  fail "the needed fault: $out"

json=$("$seer" explain "$dir/t.jsonl" --verify --json)
python3 - "$json" <<'PY' || fail "JSON"
import json, sys
j = json.loads(sys.argv[1])
v = j["verify"]
assert v["reproduced"] is True, v
assert v["causes"][0]["verdict"] == "confirmed", v
assert v["causes"][0]["without_all"]["outcome"] == "holds", v
assert any(d["kind"] == "drop" for d in v["causes"][0]["deviations"]), v
needed = [v["faults"][i] for i in v["faults_needed"]]
assert [f["kind"] for f in needed] == ["drop"] and needed[0]["event"] == 112, v
assert v["faults_in_schedule"] == 5 and len(v["faults"]) == 5, v
PY

# Without --verify, nothing is re-run and the JSON has no "verify".
"$seer" explain "$dir/t.jsonl" --json | python3 -c 'import json,sys; assert "verify" not in json.load(sys.stdin)' ||
  fail "verify without --verify"

# A system this seer does not have: one error line, exit 2.
sed '1s/"system":"jobs"/"system":"no-such-system"/' "$dir/t.jsonl" >"$dir/other.jsonl"
"$seer" explain "$dir/other.jsonl" --verify >"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] || fail "unknown system: exit $?"
[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "one error line: $(cat "$dir/err")"
[ -s "$dir/out" ] && fail "no output on a usage error: $(cat "$dir/out")"
# A redacted trace cannot be re-run: one error line naming why, exit 2.
"$seer" run jobs --variant naive --seed 3 --trace "$dir/r.jsonl" --redact >/dev/null
"$seer" explain "$dir/r.jsonl" --verify >"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] || fail "redacted: exit $?"
grep -q "needs the full trace" "$dir/err" || fail "redacted: $(cat "$dir/err")"
[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "redacted: one error line: $(cat "$dir/err")"
echo ok
