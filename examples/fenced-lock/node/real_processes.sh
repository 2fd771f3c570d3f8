#!/usr/bin/env bash
# fenced-lock as real processes on this machine (docs/tutorial.md, "The same design as real
# processes"): the KV store and the SQL database as `fenced-lock serve-kv` / `serve-sql`, three
# fenced-lock-client processes over TCP on loopback; client2 is killed with SIGKILL mid-run. Then
# the counter in the database must be what the clients' merged history says: linearizable for
# increment-and-get, every acknowledged increment in it exactly once.
# Usage: real_processes.sh FENCED_LOCK FENCED_LOCK_CLIENT [INCREMENTS_PER_CLIENT]
set -u
seer="$1"
client="$2"
increments="${3:-20}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
die() {
  echo "FAILED: $*"
  for f in "$tmp"/*.out "$tmp"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
  exit 1
}

# Five free ports on loopback, and the deployment's config.
python3 - "$tmp/deploy.json" <<'PY' || die "no free ports"
import json, socket, sys
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
names = ["locks", "db", "client1", "client2", "client3"]
config = {"processes": {n: {"id": i, "address": "127.0.0.1:%d" % s.getsockname()[1]}
                        for i, (n, s) in enumerate(zip(names, socks))}}
json.dump(config, open(sys.argv[1], "w"), indent=1)
PY

# Waits (up to 20 s) for a line matching $2 in file $1.
await_line() {
  for _ in $(seq 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

"$seer" serve-kv --config "$tmp/deploy.json" --name locks --dir "$tmp/locks" \
  >"$tmp/locks.out" 2>"$tmp/locks.err" &
pids+=($!)
"$seer" serve-sql --config "$tmp/deploy.json" --name db --db "$tmp/db.sqlite" \
  --schema "$here/schema.sql" >"$tmp/db.out" 2>"$tmp/db.err" &
pids+=($!)
await_line "$tmp/locks.out" "ready" || die "the KV store did not start"
await_line "$tmp/db.out" "ready" || die "the SQL database did not start"
echo "locks and db ready"

declare -A client_pid
for c in client1 client2 client3; do
  "$client" --config "$tmp/deploy.json" --name "$c" --variant fenced \
    --increments "$increments" --history "$tmp/$c.jsonl" >"$tmp/$c.out" 2>"$tmp/$c.err" &
  client_pid[$c]=$!
  pids+=($!)
done
# Kill client2 once it has finished a few increments: mid-run, lease or not.
await_line "$tmp/client2.jsonl" '"type":"ok".*' || die "client2 made no progress"
for _ in $(seq 200); do
  [ "$(grep -c '"type":"ok"' "$tmp/client2.jsonl")" -ge 3 ] && break
  sleep 0.05
done
{
  kill -9 "${client_pid[client2]}"
  wait "${client_pid[client2]}"
} 2>/dev/null  # not bash's "Killed" notice
grep -q done "$tmp/client2.out" && die "client2 had finished before it was killed"
echo "client2 killed (SIGKILL)"
# The others finish (within 120 s: a client that hangs fails the test, and is killed on exit).
for c in client1 client3; do
  for _ in $(seq 1200); do
    kill -0 "${client_pid[$c]}" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "${client_pid[$c]}" 2>/dev/null && die "$c did not finish"
  wait "${client_pid[$c]}" || die "$c exited $?"
  grep done "$tmp/$c.out" | sed -e 's/: done: .*/: done/'
done
kill -TERM "${pids[0]}" "${pids[1]}"
wait "${pids[0]}" "${pids[1]}" || die "a server did not stop cleanly"

# One history, by time; the counter as the database has it.
python3 - "$tmp" <<'PY' || exit 1
import json, sqlite3, sys
tmp = sys.argv[1]
events = []
for c in ("client1", "client2", "client3"):
    for line in open("%s/%s.jsonl" % (tmp, c)):
        line = line.strip()
        if line.endswith("}"):  # a line cut short by the kill is not an event
            events.append(json.loads(line))
events.sort(key=lambda e: e["time"])
with open(tmp + "/history.jsonl", "w") as out:
    for e in events:
        out.write(json.dumps(e) + "\n")
oks = [e["value"] for e in events if e["type"] == "ok"]
open_ops = {}
for e in events:
    if e["type"] == "invoke":
        open_ops[e["process"]] = True
    else:
        open_ops.pop(e["process"], None)
unknown = sum(1 for e in events if e["type"] == "info") + len(open_ops)
counter = sqlite3.connect(tmp + "/db.sqlite").execute(
    "SELECT value FROM counter WHERE id = 1").fetchone()[0]
if len(set(oks)) != len(oks):
    sys.exit("FAILED: an acknowledged value was returned twice: %s" % sorted(oks))
if not len(oks) <= counter <= len(oks) + unknown:
    sys.exit("FAILED: counter %d, %d acknowledged, %d unknown" % (counter, len(oks), unknown))
if oks and max(oks) > counter:
    sys.exit("FAILED: counter %d below an acknowledged %d" % (counter, max(oks)))
fails = sum(1 for e in events if e["type"] == "fail")
print("counter matches the history: every acknowledged increment in it once "
      "(counter %d: %d ok, %d unknown, %d failed)" % (counter, len(oks), unknown, fails))
PY
"$seer" check "$tmp/history.jsonl" --model increment-and-get >"$tmp/check.out" 2>&1 ||
  die "the merged history is not linearizable: $(cat "$tmp/check.out")"
echo "history linearizable (increment-and-get)"
