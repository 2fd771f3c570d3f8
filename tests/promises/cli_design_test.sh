#!/usr/bin/env bash
# The promises design from the command line (issue: "how it is checked"): a naive sweep exits 1 and
# names its failing seeds, explain on the first one reports the stale view the decision was taken
# on, the final design's sweep exits 0, and bad input is one line and exit 2.
set -u
seer="$1"
final_seeds="${2:-300}"
source "$(dirname "$0")/../cli/lib.sh"

"$seer" sweep promises --variant naive --seeds 1..100 --json >"$tmp/naive.json"
code=$?
[ "$code" -eq 1 ] || fail "naive sweep: exit $code, expected 1"
first=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['failing'][0]['seed'])" "$tmp/naive.json") ||
  fail "naive sweep --json names no failing seed"

"$seer" run promises --variant naive --seed "$first" --trace "$tmp/t.jsonl" >/dev/null
[ $? -eq 1 ] || fail "run of the first failing seed $first did not fail"
"$seer" explain "$tmp/t.jsonl" --json >"$tmp/x.json"
[ $? -eq 1 ] || fail "explain of seed $first did not report the violation"
python3 - "$tmp/x.json" <<'PY' || fail "explain of the first failing naive seed: no stale view behind it"
import json, sys
x = json.load(open(sys.argv[1]))
top = x["causes"][0]
# A decision taken on a view that was stale when served (stale_read) or by the time the decision
# took effect (outdated_read), and the write it led to.
assert top["kind"] in ("stale_read", "outdated_read"), top
assert top["causally_before"], top
PY

# Most failing naive seeds are explained by a read a lagging replica served.
python3 - "$seer" "$tmp" <<'PY' || fail "naive failures are not mostly stale reads"
import json, subprocess, sys
seer, tmp = sys.argv[1], sys.argv[2]
kinds = []
for seed in range(1, 31):
    t = f"{tmp}/s{seed}.jsonl"
    if subprocess.run([seer, "run", "promises", "--variant", "naive", "--seed", str(seed), "--trace", t],
                      capture_output=True).returncode != 1:
        continue
    out = subprocess.run([seer, "explain", t, "--json"], capture_output=True, text=True).stdout
    kinds.append(json.loads(out)["causes"][0]["kind"])
assert len(kinds) >= 20 and kinds.count("stale_read") >= 0.7 * len(kinds), kinds
PY

"$seer" sweep promises --variant final --seeds "1..$final_seeds" >"$tmp/final.txt"
code=$?
[ "$code" -eq 0 ] || fail "final sweep over 1..$final_seeds: exit $code ($(tail -3 "$tmp/final.txt"))"

expect_error 2 run promises --variant nosuch --seed 1
expect_error 2 sweep promises --service kv=nosuch --seeds 1..2
expect_error 2 sweep promises --seeds 5..1

finish
