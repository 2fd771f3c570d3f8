#!/usr/bin/env bash
# create+settle through resonate.resonate_rpc beside pgbench's built-in TPC-B-like transaction, at
# the same client counts, on one PostgreSQL database (BENCHMARKS.md, "The native target").
#   bench_native.sh SEER_RESONATE_PG CLUSTER_URL [seconds=15] [clients="1 8 32 64"]
# Each rpc row counts pairs per second (a pair = a promise.create then its promise.settle, two
# calls, two commits); "own origin" gives each client its own origin, "one origin" shares one.
set -euo pipefail
tool=${1:?seer-resonate-pg}
cluster=${2:?cluster URL}
secs=${3:-15}
clients=${4:-1 8 32 64}
pgbench=/usr/lib/postgresql/15/bin/pgbench
db=seer_native_bench
url=${cluster%/*}/$db
export PGOPTIONS="-c client_min_messages=warning"
psql -q "$cluster" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
"$tool" --db "$url" >/dev/null
"$pgbench" -q -i -s 10 "$url" >/dev/null 2>&1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
script() {  # $1: the id's origin part
  cat <<SQL
\\set n random(1, 2000000000)
SELECT resonate.resonate_rpc(('{"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"$1:' || :n || '","timeoutAt":9000000000000000,"param":{},"tags":{}}}')::jsonb);
SELECT resonate.resonate_rpc(('{"kind":"promise.settle","head":{"corrId":"c","version":"v"},"data":{"id":"$1:' || :n || '","state":"resolved","value":{}}}')::jsonb);
SQL
}
script "c' || :client_id || '" >"$tmp/own.sql"
script "one" >"$tmp/one.sql"
tps() { "$pgbench" -n -M prepared -T "$secs" -j 2 "$@" "$url" 2>/dev/null |
  sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | cut -d. -f1; }
printf '%-8s %-22s %-22s %-14s\n' clients "rpc pairs/s (own)" "rpc pairs/s (one)" "tpcb-like tps"
for c in $clients; do
  printf '%-8s %-22s %-22s %-14s\n' "$c" "$(tps -c "$c" -f "$tmp/own.sql")" \
    "$(tps -c "$c" -f "$tmp/one.sql")" "$(tps -c "$c" -b tpcb-like)"
done
psql -q "$cluster" -c "DROP DATABASE $db WITH (FORCE)"
