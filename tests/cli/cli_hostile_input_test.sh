#!/usr/bin/env bash
# Hostile and unusual input to the readers and the option parsers (issue 21): no crash, no hang and
# no false verdict. Each case answers exit 2 with one error line naming the file (and line or field),
# or the right verdict.
# Usage: cli_hostile_input_test.sh SEER [PORCUPINE_KV_DIR]
set -u
seer="$1"
porcupine="${2:-}"
source "$(dirname "$0")/lib.sh"

# expect_error_matching CODE REGEX ARGS...: as expect_error, and the line matches REGEX. Every
# command runs under a time limit: a hang is a failure, not a stuck test.
expect_error_matching() {
  local code=$1 regex=$2
  shift 2
  timeout 60 "$seer" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$code" ] || fail "seer $*: exit $got, expected $code ($(head -c 300 "$tmp/err"))"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "seer $*: expected one error line, got: $(head -c 300 "$tmp/err")"
  grep -Eq "^seer: error: $regex" "$tmp/err" || fail "seer $*: error line does not match '$regex': $(head -c 300 "$tmp/err")"
}

# --- Deep nesting: a value or key 100,000 deep (recursion in nlohmann::json::dump segfaulted).
python3 - "$tmp" <<'PY'
import sys
d, tmp = 100000, sys.argv[1]
deep = "[" * d + "]" * d
inv = '{"process":1,"type":"invoke","f":"write","value":1}'
open(f"{tmp}/deep-value.jsonl", "w").write(inv + "\n" + '{"process":1,"type":"ok","f":"write","value":' + deep + "}\n")
open(f"{tmp}/deep-value.json", "w").write("[" + inv + ',{"process":1,"type":"ok","f":"write","value":' + deep + "}]\n")
open(f"{tmp}/deep-key.jsonl", "w").write(
    '{"process":1,"type":"invoke","f":"put","key":' + deep + ',"value":1}\n'
    '{"process":1,"type":"ok","f":"put","key":' + deep + ',"value":1}\n')
open(f"{tmp}/deep.edn", "w").write("{:process 1 :type :invoke :f :write :value " + "[" * d + "]" * d + "}\n")
# A million discards before the form (EdnParser::value recursed once per discard).
open(f"{tmp}/discards.edn", "w").write("#_ 1 " * 1000000 + "{:process 1 :type :invoke :f :read}\n")
# Depth 500 is within the bound (512) and must still be read.
open(f"{tmp}/deep-ok.jsonl", "w").write(
    inv + "\n" + '{"process":1,"type":"ok","f":"write","value":1,"meta":' + "[" * 500 + "]" * 500 + "}\n")
PY
expect_error_matching 2 "$tmp/deep-value.jsonl:2: .*nested deeper than 512" check --model register "$tmp/deep-value.jsonl"
expect_error_matching 2 "$tmp/deep-value.json: .*nested deeper than 512" check --model register "$tmp/deep-value.json"
expect_error_matching 2 "$tmp/deep-value.json: .*nested deeper than 512" check --model register --format json "$tmp/deep-value.json"
expect_error_matching 2 "$tmp/deep-key.jsonl:1: .*nested deeper than 512" check --model kv "$tmp/deep-key.jsonl"
expect_error_matching 2 "$tmp/deep.edn:1: nested deeper than 512" check --model register "$tmp/deep.edn"
timeout 60 "$seer" check --model register "$tmp/discards.edn" >"$tmp/out" 2>&1
code=$?
[ "$code" -eq 0 ] || fail "a million EDN discards: exit $code ($(head -c 300 "$tmp/out"))"
grep -q "linearizable (1 operations" "$tmp/out" || fail "a million EDN discards: $(head -c 300 "$tmp/out")"
timeout 60 "$seer" check --model register "$tmp/deep-ok.jsonl" >"$tmp/out" 2>&1 ||
  fail "depth 500 is within the bound: $(head -c 300 "$tmp/out")"
# A discard with nothing to discard, and one before a closing bracket, in EDN.
printf '{:process 1 :type :invoke :f :write :value [1 #_]}\n' >"$tmp/bad-discard.edn"
expect_error_matching 2 "$tmp/bad-discard.edn:1: '#_' with no form to discard" check "$tmp/bad-discard.edn"
printf '{:process 1 :type :invoke :f :write :value 1 #_ :ignored #_ #_ 1 2}\n{:process 1 :type :ok :f :write :value 1} #_ {:trailing 1}\n' >"$tmp/discards-ok.edn"
timeout 60 "$seer" check --model register "$tmp/discards-ok.edn" >"$tmp/out" 2>&1 ||
  fail "discards inside maps and at the end: $(cat "$tmp/out")"

# --- An exception in a worker thread (kv keys are checked on --jobs threads) is an input error,
# with any number of jobs: it used to abort ("terminate called ...") unless --jobs 1.
for key in a b c d e f; do
  printf '{"process":1,"type":"invoke","f":"put","key":"%s","value":1.5}\n{"process":1,"type":"ok","f":"put","key":"%s","value":1.5}\n' "$key" "$key"
done >"$tmp/float-kv.jsonl"
for jobs in 1 4; do
  expect_error_matching 2 "$tmp/float-kv.jsonl: operation 0 \(process 1, write, line 1\): value 1.5 is not an integer" \
    check --model kv --jobs "$jobs" "$tmp/float-kv.jsonl"
done

# --- No false "linearizable (0 operations)": a non-empty file with no operation is an input error.
printf 'hello\nworld\n' >"$tmp/junk.log"
expect_error_matching 2 "$tmp/junk.log: no history events found \(read as jepsen-log\)" check --format jepsen-log "$tmp/junk.log"
printf '; only a comment\n' >"$tmp/comment.edn"
expect_error_matching 2 "$tmp/comment.edn: no history events found \(read as edn\)" check --format edn "$tmp/comment.edn"
# Events that are not client operations (Knossos' corpus has a nemesis-only history, valid) are a
# history, and so are invocations that all failed.
printf '{"process":"nemesis","type":"info","f":"start"}\n' >"$tmp/nemesis.jsonl"
"$seer" check "$tmp/nemesis.jsonl" >/dev/null || fail "a nemesis-only history is a (linearizable) history"
printf '{"process":1,"type":"invoke","f":"read"}\n{"process":1,"type":"fail","f":"read"}\n' >"$tmp/all-failed.jsonl"
"$seer" check "$tmp/all-failed.jsonl" >/dev/null || fail "invocations that all failed are a (linearizable) history"
: >"$tmp/empty.jsonl"
"$seer" check "$tmp/empty.jsonl" >/dev/null || fail "an empty file is an empty history"

# --- A time limit too large for the clock (1e300 s became a negative duration).
printf '{"process":1,"type":"invoke","f":"read"}\n' >"$tmp/one.jsonl"
expect_error_matching 2 "--timeout: Value 1e300 not in range" check --timeout 1e300 "$tmp/one.jsonl"

# --- Seed ranges: the count overflowed (0..2^64-1 ran 0 seeds) or ran for ever (1..2^64-1).
expect_error_matching 2 "bad seed range '0..18446744073709551615': at most 1000000000 seeds" sweep register --seeds 0..18446744073709551615
expect_error_matching 2 "bad seed range '1..18446744073709551615': at most 1000000000 seeds" sweep register --seeds 1..18446744073709551615
expect_error_matching 2 "bad seed '-1'" sweep register --seeds -1..5
expect_error_matching 2 "bad seed '1e300'" run register --seed 1e300
"$seer" sweep register --seeds 18446744073709551614..18446744073709551615 --json >"$tmp/out"
[ $? -le 1 ] || fail "a sweep of the last two seeds: $(cat "$tmp/out")"
grep -q '"runs":2' "$tmp/out" || fail "a sweep of the last two seeds runs 2: $(cat "$tmp/out")"

# --- Run files: times, numbers and seeds validated where they enter.
run_file() {  # FIELDS... -> a run file of register/naive with these fields replaced
  python3 - "$@" <<'PY'
import json, sys
run = {"seer_run": 1, "system": "register", "variant": "naive", "seed": 1, "ops": 5,
       "faults": "swarm", "services": {}}
for kv in sys.argv[1:]:
    k, v = kv.split("=", 1)
    run[k] = json.loads(v)
print(json.dumps(run))
PY
}
run_file 'schedule={"default_latency_ns": 9223372036854775807}' >"$tmp/latency.json"
expect_error_matching 2 "$tmp/latency.json: schedule: default_latency_ns must be from 1 to 86400000000000 ns" replay --run "$tmp/latency.json"
expect_error_matching 2 "$tmp/latency.json: schedule: default_latency_ns" shrink --from "$tmp/latency.json" -o "$tmp/o.json"
run_file 'schedule={"latencies": [["client1", "replica1", 0, 1e300]]}' >"$tmp/float-latency.json"
expect_error_matching 2 "$tmp/float-latency.json: schedule: latencies\[0\]" replay --run "$tmp/float-latency.json"
run_file 'schedule={"crashes": [{"process": "replica1", "at": 9223372036854775807, "down": 1}]}' >"$tmp/crash.json"
expect_error_matching 2 "$tmp/crash.json: schedule: crashes\[0\] has a time past one day" replay --run "$tmp/crash.json"
run_file 'ops=1000000000000' >"$tmp/ops.json"
expect_error_matching 2 "$tmp/ops.json: field 'ops' must be from 1 to 1000000" replay --run "$tmp/ops.json"
run_file 'seed=-1' >"$tmp/seed-neg.json"
expect_error_matching 2 "$tmp/seed-neg.json: field 'seed' must be an integer from 0 to 18446744073709551615" replay --run "$tmp/seed-neg.json"
run_file 'seed=1e300' >"$tmp/seed-float.json"
expect_error_matching 2 "$tmp/seed-float.json: field 'seed' must be an integer" replay --run "$tmp/seed-float.json"
run_file 'schedule={"default_latency_ns": 86400000000000}' >"$tmp/day.json"
# It ends with a verdict: the heal's final read cannot come back within its 2 s (exit 1).
timeout 60 "$seer" replay --run "$tmp/day.json" >"$tmp/out" 2>&1
[ $? -le 1 ] || fail "a latency of one day is allowed and ends: $(cat "$tmp/out")"
# --variant with a run file: only to recheck another (known) variant on its schedule.
run_file >"$tmp/plain.json"
expect_error_matching 2 "--variant with --run or --trace needs --recheck" replay --run "$tmp/plain.json" --variant correct
expect_error_matching 2 "unknown variant 'nope' of register" replay --run "$tmp/plain.json" --variant nope --recheck
"$seer" replay --run "$tmp/plain.json" --variant correct --recheck --json >"$tmp/out"
[ $? -eq 0 ] && grep -q '"variant":"correct"' "$tmp/out" ||
  fail "replay --run --variant correct --recheck runs the correct variant: $(cat "$tmp/out")"

# --- Traces: query times, a truncated trace given to shrink.
"$seer" run register --variant naive --seed 1 --trace "$tmp/t.jsonl" >/dev/null
expect_error_matching 2 "bad --from '99999999999999999999999ms': too large" query "$tmp/t.jsonl" --from 99999999999999999999999ms
expect_error_matching 2 "bad --from 'xyz': expected a number of ns, us, ms or s" query "$tmp/t.jsonl" --from xyz
expect_error_matching 2 "bad --to '1e3ms'" query "$tmp/t.jsonl" --to 1e3ms
expect_error_matching 2 "bad --in-flight-at 'nan'" query "$tmp/t.jsonl" --in-flight-at nan
"$seer" query "$tmp/t.jsonl" --from 0.5ms --to 2ms >/dev/null 2>&1
[ $? -le 1 ] || fail "query --from 0.5ms --to 2ms"
# Found by fuzz_trace_reader: a float where an event id belongs (1.7e90 converted to an integer is
# undefined behaviour) and a footer whose count is not a number.
head -n 1 "$tmp/t.jsonl" >"$tmp/float-seq.jsonl"
printf '{"seq":1.77778e+90,"time":0,"kind":"timer","parents":[],"process":"sim"}\n{"end":true,"events":1}\n' >>"$tmp/float-seq.jsonl"
expect_error_matching 2 "$tmp/float-seq.jsonl:2: corrupt trace: a number that is not an integer" query "$tmp/float-seq.jsonl"
head -n 1 "$tmp/t.jsonl" >"$tmp/bad-footer.jsonl"
printf '{"end":true,"events":"many"}\n' >>"$tmp/bad-footer.jsonl"
expect_error_matching 2 "$tmp/bad-footer.jsonl:2: corrupt trace: 'events' is missing or not an integer" explain "$tmp/bad-footer.jsonl"
head -n 5 "$tmp/t.jsonl" >"$tmp/truncated.jsonl"
expect_error_matching 2 "$tmp/truncated.jsonl:5: truncated trace \(no footer line\)" shrink --from "$tmp/truncated.jsonl" -o "$tmp/o.json"
head -n 5 "$tmp/t.jsonl" >"$tmp/cut.jsonl"
printf '{"seq": 5, "ti' >>"$tmp/cut.jsonl"
expect_error_matching 2 "$tmp/cut.jsonl:6: corrupt trace" shrink --from "$tmp/cut.jsonl" -o "$tmp/o.json"

# --- A stale read of the initial value is named as such (not "no operation ever wrote 0").
cat >"$tmp/stale-init.jsonl" <<'EOF'
{"process":1,"type":"invoke","f":"write","value":1}
{"process":1,"type":"ok","f":"write","value":1}
{"process":2,"type":"invoke","f":"read","value":null}
{"process":2,"type":"ok","f":"read","value":0}
EOF
"$seer" check --model register --init 0 "$tmp/stale-init.jsonl" >"$tmp/out"
code=$?
[ "$code" -eq 1 ] || fail "stale read of the initial value: exit $code"
grep -q "that is the initial value, and write 1 (process 1, \[0, 1\]) had replaced it" "$tmp/out" ||
  fail "stale read of the initial value: $(cat "$tmp/out")"
grep -q "ever wrote" "$tmp/out" && fail "stale read of the initial value still says 'ever wrote'"

# --- Input size: a file beyond SEER_MAX_INPUT_BYTES is refused before it is read (inputs are held in
# memory at many times their size), whatever reads it.
"$seer" run register --variant naive --seed 7 --trace "$tmp/size-trace.jsonl" --save-run "$tmp/size-run.json" >/dev/null 2>&1
expect_size_limit() {
  SEER_MAX_INPUT_BYTES=100 expect_error_matching 2 "$1: [0-9]+ bytes, more than the 100-byte input limit" "${@:2}"
}
printf '%s\n' '{"process":1,"type":"invoke","f":"write","value":1}' '{"process":1,"type":"ok","f":"write","value":1}' \
  '{"process":2,"type":"invoke","f":"read","value":null}' '{"process":2,"type":"ok","f":"read","value":1}' >"$tmp/size.jsonl"
expect_size_limit "$tmp/size.jsonl" check --model register "$tmp/size.jsonl"
SEER_MAX_INPUT_BYTES=1000 "$seer" check --model register "$tmp/size.jsonl" >/dev/null 2>&1 ||
  fail "a history within a raised limit was refused"
expect_size_limit "$tmp/size-trace.jsonl" explain "$tmp/size-trace.jsonl"
expect_size_limit "$tmp/size-trace.jsonl" replay --trace "$tmp/size-trace.jsonl"
expect_size_limit "$tmp/size-run.json" replay --run "$tmp/size-run.json"
expect_size_limit "$tmp/size-run.json" shrink --from "$tmp/size-run.json" -o "$tmp/o.json"
SEER_MAX_INPUT_BYTES=10000000 "$seer" explain "$tmp/size-trace.jsonl" >/dev/null 2>&1
[ $? -ne 2 ] || fail "a trace within a raised limit was refused"

# --- A stream has no size to refuse it by: it is bounded while it is read (/dev/zero hung every
# reader, reading until memory ran out). A history or trace piped in is still read.
expect_stream_limit() {
  SEER_MAX_INPUT_BYTES=100 expect_error_matching 2 "/dev/zero: more than the 100-byte input limit" "$@"
}
expect_stream_limit check --model register /dev/zero
expect_stream_limit explain /dev/zero
expect_stream_limit query /dev/zero
expect_stream_limit replay --trace /dev/zero
expect_stream_limit replay --run /dev/zero
expect_stream_limit shrink --from /dev/zero -o "$tmp/o.json"
SEER_MAX_INPUT_BYTES=100 expect_error_matching 2 "config /dev/zero: more than the 100-byte input limit" \
  serve-kv --config /dev/zero --name a --dir "$tmp/kv"
timeout 60 "$seer" check --model register /dev/stdin <"$tmp/size.jsonl" >"$tmp/out" 2>&1 ||
  fail "a history piped in was not checked: $(head -c 300 "$tmp/out")"
grep -q "linearizable" "$tmp/out" || fail "a history piped in: $(head -c 300 "$tmp/out")"
cat "$tmp/size-trace.jsonl" | timeout 60 "$seer" explain /dev/stdin >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "acked-write-durable" "$tmp/out" || fail "a trace piped in was not explained (exit 1: a violation): $(head -c 300 "$tmp/out")"

# --- A directory where a file is expected: one error line, never "linearizable (0 operations)"
# (std::ifstream opens a directory and then reads nothing).
mkdir -p "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" check --model register "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" check --format edn "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" explain "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" query "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" replay --trace "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" replay --run "$tmp/a-dir"
expect_error_matching 2 "$tmp/a-dir: a directory, not a file" shrink --from "$tmp/a-dir" -o "$tmp/o.json"

# --- String registers, --init with a string.
cat >"$tmp/strings.jsonl" <<'EOF'
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"ok","f":"read","value":"start"}
{"process":1,"type":"invoke","f":"write","value":"a b"}
{"process":1,"type":"ok","f":"write","value":"a b"}
{"process":2,"type":"invoke","f":"cas","value":["a b","c"]}
{"process":2,"type":"ok","f":"cas","value":["a b","c"]}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"ok","f":"read","value":"c"}
EOF
"$seer" check --model cas-register --init '"start"' "$tmp/strings.jsonl" >"$tmp/out" ||
  fail "string cas-register with --init '\"start\"': $(cat "$tmp/out")"
"$seer" check --model cas-register --init '"other"' "$tmp/strings.jsonl" >"$tmp/out"
[ $? -eq 1 ] || fail "string register read of a value it never held: $(cat "$tmp/out")"
expect_error_matching 2 "bad initial value '\"unterminated'" check --model register --init '"unterminated' "$tmp/strings.jsonl"

# --- Porcupine's kv histories (string values, append as concatenation), with their published
# verdicts.
if [ -n "$porcupine" ] && [ -d "$porcupine" ]; then
  for name in c01-ok:0 c01-bad:1 c10-ok:0; do
    file="$porcupine/${name%%:*}.txt"
    "$seer" check --model kv --init '""' "$file" >"$tmp/out"
    code=$?
    [ "$code" -eq "${name##*:}" ] || fail "porcupine ${name%%:*}: exit $code, expected ${name##*:}: $(cat "$tmp/out")"
  done
fi

finish
