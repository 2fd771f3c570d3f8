#!/usr/bin/env bash
# The real @resonatehq/sdk against seer-resonate (sdk/app.ts): a countdown that calls a function
# on another worker through the server (rpc) and sleeps on durable timers runs to completion,
# although the worker running it is killed (SIGKILL) partway and a second worker takes over.
#
#   run_sdk_test.sh <path-to-seer-resonate> [countdown=3] [postgres-cluster-url]
#
# With a PostgreSQL cluster's URL (postgres://user@host:port/postgres) the server runs on a fresh
# database there instead of a SQLite file.
# With SEER_SDK_SECURE=1 the server serves HTTPS (a self-signed certificate made here, trusted by
# node through NODE_EXTRA_CA_CERTS) and requires a bearer token (--auth-token-file), which the SDK
# sends from RESONATE_TOKEN; a client with a wrong token must see its 401, and the server's log
# (--verbose) must never show the token.
# Installs the pinned SDK and TypeScript (package-lock.json) on first use. Exit 0: the run
# completed with the right result; 1: it did not; 77: node is not installed.
set -euo pipefail
src=${BASH_SOURCE[0]}
[[ $src == */* ]] || src=./$src
here=$(cd "${src%/*}" && pwd)
server_bin=${1:?usage: run_sdk_test.sh <seer-resonate> [countdown]}
n=${2:-3}
((n >= 2)) || { echo "the countdown needs at least 2 steps (one before the kill, one after)"; exit 2; }
command -v node >/dev/null 2>&1 || { echo "node is not installed: skipping"; exit 77; }

if [[ ! -f "$here/node_modules/typescript/package.json" ]]; then
  exec 9>"${TMPDIR:-/tmp}/seer-promises-npm-ci.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  [[ -f "$here/node_modules/typescript/package.json" ]] ||
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  exec 9>&-
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }

"$here/node_modules/.bin/tsc" -p "$here/sdk/tsconfig.json" --outDir "$tmp/out"
ln -s "$here/node_modules" "$tmp/out/node_modules"
app="$tmp/out/app.js"
mkdir -p "$tmp/run"

db="$tmp/promises.db"
if [[ -n ${3:-} ]]; then
  name="seer_sdk_$$"
  PGOPTIONS="-c client_min_messages=warning" psql -q "$3" \
    -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  db="${3%/*}/$name"
fi
secure=()
scheme=http
if [[ -n ${SEER_SDK_SECURE:-} ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null || fail "openssl could not make a certificate"
  token=$(openssl rand -hex 16)
  printf '# the SDK run\n%s\n' "$token" >"$tmp/tokens"
  secure=(--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --auth-token-file "$tmp/tokens" --verbose)
  scheme=https
  export NODE_EXTRA_CA_CERTS="$tmp/cert.pem" RESONATE_TOKEN="$token"
fi
"$server_bin" --db "$db" --port 0 --json ${SEER_SDK_TEST_VERBOSE:+--verbose} "${secure[@]}" >"$tmp/server.out" 2>"$tmp/server.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$tmp/server.out" ]] && break; sleep 0.1; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$tmp/server.out") ||
  fail "the server did not start"
url="$scheme://127.0.0.1:$port"
if [[ -n ${SEER_SDK_SECURE:-} ]]; then
  # No token, or a wrong one: 401, and the SDK says so.
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/cert.pem" -X POST "$url/" -d '{}')
  [[ $code == 401 ]] || fail "a request without a token got HTTP $code, expected 401"
  RESONATE_TOKEN=wrong timeout 4 node "$app" driver "$url" unauthorized.1 1 "$tmp/run" \
    >"$tmp/unauthorized.log" 2>&1 || true
  grep -q "HTTP 401" "$tmp/unauthorized.log" || fail "the SDK with a wrong token did not report HTTP 401"
fi

wait_for() {  # wait_for <file> <seconds>
  for _ in $(seq $(($2 * 10))); do [[ -e "$1" ]] && return 0; sleep 0.1; done
  return 1
}

node "$app" worker "$url" w1 "$tmp/run" >"$tmp/w1.log" 2>&1 &
w1=$!
pids+=($w1)
wait_for "$tmp/run/worker-w1.ready" 20 || fail "worker w1 did not start"
node "$app" driver "$url" "countdown.$n" "$n" "$tmp/run" >"$tmp/driver.out" 2>"$tmp/driver.log" &
driver=$!
pids+=($driver)

# Once the countdown has done a step and is asleep, kill its worker and start another.
wait_for "$tmp/run/reached-$n" 30 || fail "the countdown never reached its first sleep"
kill -9 "$w1"
node "$app" worker "$url" w2 "$tmp/run" >"$tmp/w2.log" 2>&1 &
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
# Steps after the kill ran on w2 (w1 is dead): their rpc calls carry its name.
grep -q " w2$" "$tmp/run/squares.log" || fail "w2 made no call after the kill"
if [[ -n ${SEER_SDK_SECURE:-} ]]; then
  grep -q "POST / " "$tmp/server.log" || fail "the verbose log shows no requests"
  ! grep -qF "$token" "$tmp/server.log" || fail "the server's log shows the token"
fi
echo "ok${SEER_SDK_SECURE:+ (https, bearer token)}: countdown.$n = $got; worker w1 killed after step $n, w2 finished it ($(wc -l <"$tmp/run/squares.log") squares computed)"
