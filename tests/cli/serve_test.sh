#!/usr/bin/env bash
# `seer serve-kv` and `seer serve-sql` (docs/runtime.md): bad input is one error line and exit 2
# (no config, not JSON, an unknown name, a port in use, a missing schema); a server prints its
# readiness line once it listens, and SIGTERM stops it with exit 0 and what it served.
set -u
seer="$1"
source "$(dirname "$0")/lib.sh"
# Two ports the system hands out, held together so they differ (port + 1 may be another program's).
read -r port db_port < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
cat >"$tmp/deploy.json" <<JSON
{"processes": {"locks": {"id": 0, "address": "127.0.0.1:$port"},
               "db": {"id": 1, "address": "127.0.0.1:$db_port"}}}
JSON
echo '{"processes": [' >"$tmp/broken.json"

expect_error 2 serve-kv --config "$tmp/none.json" --name locks --dir "$tmp/kv"
expect_error 2 serve-kv --config "$tmp/broken.json" --name locks --dir "$tmp/kv"
expect_error 2 serve-kv --config "$tmp/deploy.json" --name nobody --dir "$tmp/kv"
expect_error 2 serve-kv --config "$tmp/deploy.json" --name locks
expect_error 2 serve-sql --config "$tmp/deploy.json" --name db --db "$tmp/db" --schema "$tmp/none.sql"

# Waits (up to 10 s) for a line matching $2 in file $1.
await_line() {
  for _ in $(seq 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

"$seer" serve-kv --config "$tmp/deploy.json" --name locks --dir "$tmp/kv" --json >"$tmp/kv.out" &
kv=$!
await_line "$tmp/kv.out" '"ready":true' || fail "serve-kv printed no readiness line"
python3 -c '
import json, sys
ready = json.loads(open(sys.argv[1]).readline())
assert ready["name"] == "locks" and ready["id"] == 0 and ready["service"] == "kv", ready' \
  "$tmp/kv.out" || fail "serve-kv's readiness line"
expect_error 2 serve-kv --config "$tmp/deploy.json" --name locks --dir "$tmp/kv2"  # port in use
kill -TERM "$kv"
wait "$kv" || fail "serve-kv exit $? on SIGTERM, expected 0"
grep -q '"stopped":true' "$tmp/kv.out" || fail "serve-kv said nothing when stopped"

echo "CREATE TABLE t (x INTEGER);" >"$tmp/schema.sql"
"$seer" serve-sql --config "$tmp/deploy.json" --name db --db "$tmp/db.sqlite" \
  --schema "$tmp/schema.sql" >"$tmp/db.out" &
db=$!
await_line "$tmp/db.out" "db: sql ready on 127.0.0.1:$db_port" || fail "serve-sql not ready"
kill -INT "$db"
wait "$db" || fail "serve-sql exit $? on SIGINT, expected 0"
python3 -c '
import sqlite3, sys
sqlite3.connect(sys.argv[1]).execute("SELECT x FROM t").fetchall()' "$tmp/db.sqlite" ||
  fail "serve-sql did not run the schema"
finish
