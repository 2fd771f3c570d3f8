#!/usr/bin/env bash
# seer on Porcupine's published kv histories (shared/corpora/porcupine-kv): the verdict and the
# median check time of 11 runs (`elapsed_s`, reading and checking; one job), per key and without
# partitioning. Prints the BENCHMARKS.md table.
# Usage: bench/check/porcupine_kv.sh [SEER] [CORPUS_DIR]
set -euo pipefail
seer="${1:-build/release/src/cli/seer}"
dir="${2:-../shared/corpora/porcupine-kv}"
echo "| history | clients | operations | expected | seer, per key | median time | states | seer, no partition | median time | states |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for name in c01-ok c01-bad c10-ok; do
  file="$dir/$name.txt"
  [ -f "$file" ] || continue
  row="| $name | ${name:1:2} | "
  for mode in "" --no-partition; do
    runs=()
    for _ in $(seq 11); do
      runs+=("$("$seer" check --model kv --init '""' --jobs 1 $mode --json "$file" || true)")
    done
    summary=$(printf '%s\n' "${runs[@]}" | python3 -c '
import json, statistics, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
t = statistics.median(r["elapsed_s"] for r in rs) * 1000
print(rs[0]["operations"], rs[0]["verdict"], f"{t:.2f} ms", rs[0]["states_explored"])')
    read -r ops verdict time unit states <<<"$summary"
    if [ -z "$mode" ]; then
      expected=$([ "${name#*-}" = ok ] && echo linearizable || echo not-linearizable)
      row+="$ops | $expected | $verdict | $time $unit | $states | "
    else
      row+="$verdict | $time $unit | $states |"
    fi
  done
  echo "$row"
done
