#!/usr/bin/env bash
# seer-resonate when its store fails: it answers nothing it has not made durable, logs one clear
# line, keeps serving, and loses nothing it acknowledged.
#   store_faults_test.sh SERVER full-disk          # SQLite on a 1 MB tmpfs (needs root; else 77)
#   store_faults_test.sh SERVER lost-session URL   # PostgreSQL: its session killed mid-run
#   store_faults_test.sh SERVER file-identity      # SQLite: the file deleted, replaced, shared
#   store_faults_test.sh SERVER corrupt-page       # SQLite: a page overwritten with garbage
set -u
seer="$1"
mode="$2"
source "$(dirname "$0")/../cli/lib.sh"
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE lines from psql

post() {  # post KIND DATA -> prints the HTTP status, body in $tmp/body
  curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$port/" \
    -d "{\"kind\":\"$1\",\"head\":{\"corrId\":\"t\",\"version\":\"2026-04-01\"},\"data\":$2}"
}
create() { post promise.create "{\"id\":\"$1\",\"timeoutAt\":99999999999999,\"param\":{\"data\":\"$2\"},\"tags\":{}}"; }
get() { post promise.get "{\"id\":\"$1\"}"; }

start_server() {  # start_server DB [REQUEST-TIMEOUT-MS]
  "$seer" --db "$1" --port 0 --json --request-timeout-ms "${2:-1000}" >"$tmp/listen.json" 2>>"$tmp/server.err" &
  server=$!
  # Up to 30 s: opening the connections on a loaded 2-core machine (CI builds alongside) is slow.
  for _ in $(seq 600); do [ -s "$tmp/listen.json" ] && break; sleep 0.05; done
  port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$tmp/listen.json")
  : >"$tmp/listen.json"
}
stop_server() {
  kill -TERM "$server"
  wait "$server"
  [ $? -eq 0 ] || fail "SIGTERM should stop the server with exit 0"
}
# Every promise acknowledged is still there, with its value.
check_acked() {
  for id in "${acked[@]}"; do
    [ "$(get "$id")" = 200 ] || { fail "acknowledged $id is gone"; continue; }
    grep -q "\"data\":\"v-$id\"" "$tmp/body" || fail "acknowledged $id has another value: $(cat "$tmp/body")"
  done
}

acked=()
case "$mode" in
  full-disk)
    [ "$(id -u)" -eq 0 ] || { echo "skipped: mounting a small tmpfs needs root"; exit 77; }
    disk="$tmp/disk"
    mkdir -p "$disk"
    mount -t tmpfs -o size=1m tmpfs "$disk" 2>/dev/null || { echo "skipped: cannot mount tmpfs"; exit 77; }
    trap 'umount "$disk" 2>/dev/null; rm -rf "$tmp"' EXIT
    start_server "$disk/promises.db"
    # Large values fill the disk within a few hundred creates.
    pad=$(head -c 3000 /dev/zero | tr '\0' x)
    refused=0
    for i in $(seq 1 600); do
      code=$(create "p$i" "v-p$i$pad")
      if [ "$code" = 200 ]; then acked+=("p$i"); else refused=$((refused + 1)); fi
      [ "$refused" -ge 5 ] && break
    done
    [ "$refused" -ge 5 ] || fail "the disk never filled (${#acked[@]} creates acknowledged)"
    [ "$code" = 503 ] || fail "a create on a full disk got HTTP $code, expected 503"
    grep -q "full" "$tmp/server.err" || fail "no log line says the disk is full: $(tail -3 "$tmp/server.err")"
    # Values were padded: check only that each acknowledged promise is readable and its own.
    for id in "${acked[@]}"; do
      [ "$(get "$id")" = 200 ] || fail "acknowledged $id is gone while the disk is full"
    done
    stop_server
    start_server "$disk/promises.db"  # the file as it is on the full disk
    for id in "${acked[@]}"; do
      [ "$(get "$id")" = 200 ] || fail "acknowledged $id is gone after a restart"
      grep -q "\"data\":\"v-$id" "$tmp/body" || fail "acknowledged $id has another value"
    done
    stop_server
    echo "full disk: ${#acked[@]} creates acknowledged, then $refused refused with 503; the log:"
    grep -m1 "full" "$tmp/server.err"
    ;;
  lost-session)
    cluster="${3:?cluster URL}"
    db="seer_lost_session_$$"
    psql -q "$cluster" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" ||
      { fail "cannot create a database on $cluster"; finish; }
    url="${cluster%/*}/$db"
    start_server "$url"
    for i in 1 2 3; do [ "$(create "a$i" "v-a$i")" = 200 ] && acked+=("a$i"); done
    [ "${#acked[@]}" -eq 3 ] || fail "creates before the fault: ${#acked[@]} of 3 acknowledged"
    for round in 1 2 3; do
      psql -qAt "$cluster" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db'" >/dev/null
      # The request that meets the dead session is answered only if it could be made durable
      # (after the store reconnected); one never answered gets 503.
      code=$(create "b$round" "v-b$round")
      case "$code" in
        200) acked+=("b$round") ;;
        503) ;;
        *) fail "a create across a lost session got HTTP $code" ;;
      esac
      [ "$(create "c$round" "v-c$round")" = 200 ] && acked+=("c$round") ||
        fail "the server did not recover from the lost session (round $round)"
    done
    grep -q "terminat\|connection\|server closed" "$tmp/server.err" ||
      fail "no log line says the session was lost: $(tail -3 "$tmp/server.err")"
    check_acked
    stop_server
    start_server "$url"
    check_acked
    stop_server
    psql -q "$cluster" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    echo "lost session: ${#acked[@]} acknowledged, every one read back; the log:"
    grep -m1 "terminat\|connection\|server closed" "$tmp/server.err"
    ;;
  file-identity)
    # Deleted under a running server: it answers no more writes, logs why, and exits 1.
    start_server "$tmp/a.db"
    [ "$(create a1 v-a1)" = 200 ] || fail "a create before the deletion failed"
    rm "$tmp/a.db"
    code=$(create a2 v-a2)
    [ "$code" != 200 ] || fail "a create after the database file was deleted was acknowledged"
    wait "$server"
    status=$?
    [ "$status" -eq 1 ] || fail "the server exited $status after its file was deleted, expected 1"
    grep -q "a.db was deleted" "$tmp/server.err" || fail "no log line says the file was deleted"
    # Replaced (another file moved over it) while idle: noticed within a second or so, exit 1.
    : >"$tmp/server.err"
    start_server "$tmp/b.db"
    cp "$tmp/b.db" "$tmp/b2.db"
    mv "$tmp/b2.db" "$tmp/b.db"
    for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$server" 2>/dev/null && fail "the server went on with its file replaced"
    wait "$server"
    status=$?
    [ "$status" -eq 1 ] || fail "the server exited $status after its file was replaced, expected 1"
    grep -q "b.db was replaced" "$tmp/server.err" || fail "no log line says the file was replaced"
    # A second server on the same file: refused at start, one error line, exit 2.
    start_server "$tmp/c.db"
    "$seer" --db "$tmp/c.db" --port 0 >/dev/null 2>"$tmp/second.err"
    status=$?
    [ "$status" -eq 2 ] || fail "a second server on the same file exited $status, expected 2"
    [ "$(wc -l <"$tmp/second.err")" -eq 1 ] && grep -q "in use by another seer-resonate" "$tmp/second.err" ||
      fail "the second server's error: $(cat "$tmp/second.err")"
    [ "$(create c1 v-c1)" = 200 ] || fail "the first server stopped serving"
    # SIGBUS (what a -shm file that cannot be mapped raises): one fatal line, exit 1.
    kill -BUS "$server"
    wait "$server"
    status=$?
    [ "$status" -eq 1 ] || fail "SIGBUS ended the server with $status, expected 1"
    grep -q "fatal: SIGBUS" "$tmp/server.err" || fail "no log line for SIGBUS"
    echo "file identity: deleted, replaced, second server and SIGBUS each stop with a line:"
    grep -h "deleted\|replaced\|SIGBUS" "$tmp/server.err" "$tmp/second.err" | cut -c1-150
    ;;
  corrupt-page)
    start_server "$tmp/p.db"
    pad=$(head -c 2000 /dev/zero | tr '\0' x)
    for i in $(seq 1 60); do [ "$(create "p$i" "v-p$i$pad")" = 200 ] || fail "create p$i failed"; done
    stop_server
    # The second half of the file's pages overwritten with garbage: the promises' rows and their
    # indices, written after the schema's pages (the page size is the header's bytes 16-17).
    size=$(stat -c %s "$tmp/p.db")
    [ "$size" -gt 100000 ] || fail "the database is smaller than expected ($size bytes)"
    page=$(od -An -tu1 -j16 -N2 "$tmp/p.db" | awk '{print $1 * 256 + $2}')
    pages=$((size / page))
    head -c $(((pages - pages / 2) * page)) /dev/urandom |
      dd of="$tmp/p.db" bs="$page" seek=$((pages / 2)) conv=notrunc 2>/dev/null
    : >"$tmp/server.err"
    # A read that fails is not answered: each get waits out two request timeouts (short here).
    start_server "$tmp/p.db" 200
    # Many requests meet the corrupt pages at once: 16 clients, 100 gets.
    seq 1 100 | xargs -P 16 -I{} curl -s -o /dev/null --max-time 10 -X POST "http://127.0.0.1:$port/" \
      -d '{"kind":"promise.get","head":{"corrId":"t","version":"v"},"data":{"id":"p{}"}}' &&
      true
    kill -TERM "$server"
    wait "$server"
    lines=$(wc -l <"$tmp/server.err")
    grep -q "malformed\|corrupt\|not a database" "$tmp/server.err" ||
      fail "no log line says the database is corrupt: $(head -3 "$tmp/server.err")"
    [ "$lines" -le 20 ] || fail "$lines log lines for one corrupt database (at most 20): $(sort "$tmp/server.err" | uniq -c | sort -rn | head -5)"
    echo "corrupt page: 100 gets logged $lines lines:"
    head -5 "$tmp/server.err" | cut -c1-200
    ;;
  *) fail "unknown mode $mode" ;;
esac
finish
