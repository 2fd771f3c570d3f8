#!/usr/bin/env bash
# resonate_load_test.sh LOAD SERVER [FLAGS...]: resonate_load drives SERVER with 4 clients for a
# second and every request is answered 200: operations done, no error, no broken connection, and
# both kinds' latencies reported.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$1" --server "$2" --clients 4 --seconds 1 --json --dir "$dir/load" "${@:3}")
python3 - "$out" <<'PY'
import json, sys
load = json.loads(sys.argv[1])["loads"][0]
problems = []
if load["ops"] < 8: problems.append(f"only {load['ops']} operations")
if load["errors"] != 0: problems.append(f"{load['errors']} errors")
if load["connection_failed"]: problems.append("a connection failed")
for kind in ("create", "settle"):
    if "p99_ms" not in load[kind]: problems.append(f"no {kind} latencies")
if problems:
    sys.exit("resonate_load: " + "; ".join(problems) + f" ({load['driver']})")
print(f"{load['driver']}: {load['ops_per_sec']:.0f} ops/s, no errors")
PY
