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

finish
