#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the live tests, on 127.0.0.1 only, trust authentication
# for the user `seer`; fsync and synchronous_commit stay on (the defaults: seer-resonate refuses a
# server without fsync). Run as root it runs as the `postgres` user (PostgreSQL refuses root).
#   postgres_cluster.sh start STATE_DIR PORT   # STATE_DIR remembers where the cluster lives
#   postgres_cluster.sh restart STATE_DIR      # an immediate shutdown (a crash: no checkpoint,
#                                              # recovery from the WAL), then a start on the same port
#   postgres_cluster.sh stop STATE_DIR
set -euo pipefail
action=${1:?start or stop}
state=${2:?state directory}
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/initdb" ]; then
  echo "postgres_cluster: PostgreSQL 15 is not installed ($bin; scripts/install-deps.sh --test)" >&2
  exit 1
fi
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop() {
  [ -f "$state/data-dir" ] || return 0
  local data
  data=$(cat "$state/data-dir")
  if [ -d "$data/db" ]; then as_owner "$bin/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$data" "$state/data-dir"
}

# A throwaway cluster of this script's still serving on `port` whose state directory is gone (a
# killed test run whose build tree was then removed, e.g. a clean clone made again at the same
# path, which derives the same port): found by its socket in a /tmp/seer-postgres-* directory, so
# nothing but this script's own clusters is ever stopped.
stop_orphan_on() {
  local socket data
  for socket in /tmp/seer-postgres-*/.s.PGSQL."$1"; do
    [ -S "$socket" ] || continue
    data=$(dirname "$socket")
    echo "postgres_cluster: stopping a cluster left on port $1 by an interrupted run ($data)" >&2
    if [ -d "$data/db" ]; then as_owner "$bin/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$data"
  done
}

case "$action" in
  start)
    port=${3:?port}
    stop  # a cluster left by an interrupted run of this tree
    stop_orphan_on "$port"
    mkdir -p "$state"
    data=$(mktemp -d /tmp/seer-postgres-XXXXXX)
    echo "$data" >"$state/data-dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$data"; fi
    if ! as_owner "$bin/initdb" -D "$data/db" -U seer -A trust --no-sync >"$data/initdb.log" 2>&1; then
      cat "$data/initdb.log" >&2
      exit 1
    fi
    if ! as_owner "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null; then
      cat "$data/server.log" >&2
      exit 1
    fi
    echo "postgres_cluster: PostgreSQL 15 on 127.0.0.1:$port ($data)"
    ;;
  restart)
    [ -f "$state/data-dir" ] || { echo "postgres_cluster: no cluster in $state" >&2; exit 1; }
    data=$(cat "$state/data-dir")
    # pg_ctl restart starts the server again with the options it was started with (postmaster.opts).
    if ! as_owner "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -m immediate -w -t 60 \
        restart >/dev/null; then
      tail -n 20 "$data/server.log" >&2
      exit 1
    fi
    ;;
  stop) stop ;;
  *) echo "postgres_cluster: start, restart or stop, not $action" >&2; exit 2 ;;
esac
