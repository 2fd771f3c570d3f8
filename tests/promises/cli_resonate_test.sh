#!/usr/bin/env bash
# seer-resonate's contract for bad input: one error line and exit 2 (bad flags, a database that
# cannot be opened or is not one, a PostgreSQL server that cannot be reached, a port in use); a
# clean stop exits 0.
set -u
seer="$1"
source "$(dirname "$0")/../cli/lib.sh"

expect_resonate_error() {
  "$seer" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq 2 ] || fail "seer-resonate $*: exit $got, expected 2"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "seer-resonate $*: expected one error line, got: $(cat "$tmp/err")"
  grep -q '^seer-resonate: error: ' "$tmp/err" || fail "seer-resonate $*: no error prefix: $(cat "$tmp/err")"
}

expect_resonate_error --no-such-flag
expect_resonate_error --port 70000
expect_resonate_error --io-threads 0
expect_resonate_error --max-body 0
expect_resonate_error --max-body 1000 --body-budget 999
expect_resonate_error --db "$tmp/auth.db" --auth-token-file "$tmp/no-such-tokens"
printf '# only a comment\n' >"$tmp/empty-tokens"
expect_resonate_error --db "$tmp/auth.db" --auth-token-file "$tmp/empty-tokens"
printf 'not a certificate\n' >"$tmp/bad.pem"
expect_resonate_error --db "$tmp/tls.db" --tls-cert "$tmp/bad.pem" --tls-key "$tmp/bad.pem"
expect_resonate_error --db "$tmp/tls.db" --tls-cert "$tmp/bad.pem"
expect_resonate_error --db /nonexistent-dir/promises.db
echo "not a database, just text that is long enough to be read as a header" >"$tmp/text.db"
expect_resonate_error --db "$tmp/text.db"
# Port 1: nothing listens there, so the connection is refused at once.
expect_resonate_error --db postgres://seer@127.0.0.1:1/promises

# A port in use: start one server, then a second on its port.
"$seer" --db "$tmp/a.db" --port 0 --json >"$tmp/first.json" 2>/dev/null &
first=$!
for _ in $(seq 100); do [ -s "$tmp/first.json" ] && break; sleep 0.05; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$tmp/first.json")
expect_resonate_error --db "$tmp/b.db" --port "$port"
# A body that is not JSON: 400 with a JSON error envelope.
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "http://127.0.0.1:$port/" -d 'not json')
[ "$code" = 400 ] || fail "a non-JSON body got HTTP $code"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["head"]["status"] == 400' "$tmp/body" ||
  fail "the 400 body is not a JSON envelope"
# A body nested 100,000 deep: 400, and the server lives (the checks of ids and tags recursed on it
# and overflowed the stack, killing the server for every client).
python3 -c '
import sys
d = 100000
sys.stdout.write("{\"kind\":\"promise.create\",\"head\":{\"corrId\":\"c\",\"version\":\"x\"},"
                 "\"data\":{\"id\":\"deep\",\"timeoutAt\":1,\"param\":" + "[" * d + "]" * d + ",\"tags\":{}}}")
' >"$tmp/deep.json"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "http://127.0.0.1:$port/" --data-binary @"$tmp/deep.json")
[ "$code" = 400 ] || fail "a body nested 100,000 deep got HTTP $code"
grep -q "nested deeper than 512" "$tmp/body" || fail "the deep body's 400 does not say why: $(head -c 200 "$tmp/body")"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "http://127.0.0.1:$port/" -d 'not json')
[ "$code" = 400 ] || fail "after a deep body, the server answered HTTP $code (is it still up?)"
kill -TERM "$first"
wait "$first"
[ $? -eq 0 ] || fail "SIGTERM should stop the server with exit 0"
finish
