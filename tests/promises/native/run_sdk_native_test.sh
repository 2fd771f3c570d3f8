#!/usr/bin/env bash
# The real @resonatehq/sdk with PostgresNetwork on the native target (sdk/app.ts): a countdown
# that calls a function on another worker and sleeps on durable timers runs to completion,
# although the worker running it is killed (SIGKILL) partway and a second worker takes over. No
# server: the nodes call resonate.sql's functions in a fresh database on the cluster.
#
#   run_sdk_native_test.sh <seer-resonate-pg> <cluster-url> [countdown=3]
#
# Installs the pinned SDK, pg and TypeScript (../package-lock.json) on first use. Exit 0: the run
# completed with the right result; 1: it did not; 77: node is not installed.
set -euo pipefail
src=${BASH_SOURCE[0]}
[[ $src == */* ]] || src=./$src
here=$(cd "${src%/*}" && pwd)
promises=$(cd "$here/.." && pwd)
tool=${1:?usage: run_sdk_native_test.sh <seer-resonate-pg> <cluster-url> [countdown]}
cluster=${2:?cluster URL}
n=${3:-3}
((n >= 2)) || { echo "the countdown needs at least 2 steps (one before the kill, one after)"; exit 2; }
command -v node >/dev/null 2>&1 || { echo "node is not installed: skipping"; exit 77; }

if [[ ! -f "$promises/node_modules/pg/package.json" || ! -f "$promises/node_modules/typescript/package.json" ]]; then
  exec 9>"${TMPDIR:-/tmp}/seer-promises-npm-ci.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  [[ -f "$promises/node_modules/pg/package.json" ]] ||
    (cd "$promises" && npm ci --no-audit --no-fund --loglevel=error)
  exec 9>&-
fi

tmp=$(mktemp -d)
pids=()
name="seer_sdk_native_$$"
export PGOPTIONS="-c client_min_messages=warning"
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$cluster" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }

"$promises/node_modules/.bin/tsc" -p "$here/sdk/tsconfig.json" --outDir "$tmp/out"
ln -s "$promises/node_modules" "$tmp/out/node_modules"
app="$tmp/out/native/sdk/app.js"
mkdir -p "$tmp/run"

psql -q "$cluster" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
db="${cluster%/*}/$name"
"$tool" --db "$db" >"$tmp/install.log" 2>&1 || fail "seer-resonate-pg could not install"

wait_for() {  # wait_for <file> <seconds>
  for _ in $(seq $(($2 * 10))); do [[ -e "$1" ]] && return 0; sleep 0.1; done
  return 1
}

node "$app" worker "$db" w1 "$tmp/run" >"$tmp/w1.log" 2>&1 &
w1=$!
pids+=($w1)
wait_for "$tmp/run/worker-w1.ready" 20 || fail "worker w1 did not start"
node "$app" driver "$db" "countdown.$n" "$n" "$tmp/run" >"$tmp/driver.out" 2>"$tmp/driver.log" &
driver=$!
pids+=($driver)

# Once the countdown has done a step and is asleep, kill its worker and start another.
wait_for "$tmp/run/reached-$n" 30 || fail "the countdown never reached its first sleep"
{ kill -9 "$w1" && wait "$w1"; } 2>/dev/null || true
node "$app" worker "$db" w2 "$tmp/run" >"$tmp/w2.log" 2>&1 &
pids+=($!)

deadline=$((SECONDS + 60))
while kill -0 "$driver" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the countdown did not finish within 60 s of the kill"
  sleep 0.2
done
wait "$driver" || fail "the driver failed"

expected=$(python3 -c "import sys; n=int(sys.argv[1]); print(','.join(str(i*i) for i in range(n,0,-1)))" "$n")
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' "$tmp/driver.out")
[[ "$got" == "$expected" ]] || fail "countdown.$n returned '$got', expected '$expected'"
for i in $(seq "$n"); do [[ -e "$tmp/run/reached-$i" ]] || fail "step $i never ran"; done
grep -q " w2$" "$tmp/run/squares.log" || fail "w2 made no call after the kill"
# No node saw its calls fail (the SDK logs "postgres drain error" / "postgres listen error").
! grep -qiE "postgres (drain|listen) error" "$tmp/driver.log" "$tmp/w2.log" ||
  fail "a node reported a database error"
# The protocol ran in the database: the countdown's promise is resolved there.
state=$(psql -At "$db" -c "SELECT state FROM resonate.promises WHERE id = 'countdown.$n'")
[[ $state == resolved ]] || fail "countdown.$n is '$state' in resonate.promises"
echo "ok: countdown.$n = $got over PostgresNetwork; worker w1 killed after step $n, w2 finished it ($(wc -l <"$tmp/run/squares.log") squares computed, $(psql -At "$db" -c 'SELECT count(*) FROM resonate.promises') promises)"
