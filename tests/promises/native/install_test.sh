#!/usr/bin/env bash
# seer-resonate-pg against the test cluster: installs into an empty database (version 0 -> 1),
# a second install changes nothing (and keeps the data), bad input is one error line and exit 2.
#   install_test.sh SEER_RESONATE_PG CLUSTER_URL
set -euo pipefail
tool=${1:?seer-resonate-pg}
cluster=${2:?cluster URL}
db=seer_pg_install_$$
url=${cluster%/*}/$db
export PGOPTIONS="-c client_min_messages=warning"
psql -q "$cluster" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
trap 'psql -q "$cluster" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

out=$("$tool" --db "$url" --json)
[ "$out" = '{"changed":true,"from":0,"to":1}' ] || fail "first install: $out"
req='{"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"o:a","timeoutAt":9000000000000000,"param":{},"tags":{}}}'
status=$(psql -At "$url" -c "SELECT resonate.resonate_rpc('$req') -> 'head' ->> 'status'")
[ "$status" = 200 ] || fail "a create after installing answered $status"
functions=$(psql -At "$url" -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'resonate'::regnamespace")
xmin=$(psql -At "$url" -c "SELECT xmin FROM pg_proc WHERE proname = 'resonate_rpc'")

out=$("$tool" --db "$url" --json)
[ "$out" = '{"changed":false,"from":1,"to":1}' ] || fail "second install: $out"
[ "$(psql -At "$url" -c "SELECT xmin FROM pg_proc WHERE proname = 'resonate_rpc'")" = "$xmin" ] ||
  fail "the second install rewrote resonate_rpc"
[ "$(psql -At "$url" -c "SELECT count(*) FROM resonate.promises")" = 1 ] || fail "data lost"
[ "$("$tool" --db "$url")" = "resonate schema up to date: version 1" ] || fail "human output"

# A function changed by hand is put back by the next install (an upgrade of the definitions).
psql -q "$url" -c "CREATE OR REPLACE FUNCTION resonate.outbox_channel(address text) RETURNS text LANGUAGE sql AS \$\$ SELECT 'x' \$\$"
out=$("$tool" --db "$url" --json)
[ "$out" = '{"changed":true,"from":1,"to":1}' ] || fail "repair: $out"
[ "$(psql -At "$url" -c "SELECT resonate.outbox_channel('a')")" = resonate_0cc175b9c0f1b6a831c399e269772661 ] ||
  fail "outbox_channel not restored"

# The SQL it prints installs the same schema with psql, and the tool then finds nothing to do.
psql -q "$cluster" -c "DROP DATABASE IF EXISTS ${db}_psql WITH (FORCE)" -c "CREATE DATABASE ${db}_psql"
"$tool" --print-sql | psql -q -v ON_ERROR_STOP=1 -1 "${cluster%/*}/${db}_psql" 2>/dev/null
out=$("$tool" --db "${cluster%/*}/${db}_psql" --json)
psql -q "$cluster" -c "DROP DATABASE ${db}_psql WITH (FORCE)"
[ "$out" = '{"changed":false,"from":1,"to":1}' ] || fail "after psql: $out"

# Bad input: one line on stderr, exit 2.
set +e
err=$("$tool" --db "postgres://seer@127.0.0.1:1/none" 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 2 ] || fail "unreachable database: exit $rc"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "unreachable database: $err"
set +e
"$tool" --bogus >/dev/null 2>&1; rc=$?
"$tool" >/dev/null 2>&1; rc2=$?
set -e
[ $rc -eq 2 ] && [ $rc2 -eq 2 ] || fail "bad options: exit $rc, $rc2"
echo "install_test: ok"
