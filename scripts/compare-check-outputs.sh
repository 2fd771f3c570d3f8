#!/usr/bin/env bash
# `seer check`'s verdicts, --json output (elapsed_s left out), text output (its timing left out) and
# exit codes, from two seer binaries over the etcd, Porcupine kv and Knossos corpora: prints the
# differences and exits 1 if there are any.
# Usage: scripts/compare-check-outputs.sh BEFORE_SEER AFTER_SEER [OUTDIR]
#   env: ETCD=../porcupine-etcd KV=../shared/corpora/porcupine-kv KNOSSOS=../shared/corpora/knossos
set -u
BEFORE=$1
AFTER=$2
OUT=${3:-$(mktemp -d)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ETCD=${ETCD:-$ROOT/../porcupine-etcd}
KV=${KV:-$ROOT/../shared/corpora/porcupine-kv}
KNOSSOS=${KNOSSOS:-$ROOT/../shared/corpora/knossos}
mkdir -p "$OUT"

# run NAME ARGS...: both binaries, outputs normalised into OUT/{before,after}/NAME
run() {
  local name=$1
  shift
  for side in before after; do
    local bin=$BEFORE
    [ $side = after ] && bin=$AFTER
    mkdir -p "$OUT/$side"
    "$bin" check "$@" >"$OUT/$side/$name.raw" 2>"$OUT/$side/$name.err"
    echo "exit $?" >>"$OUT/$side/$name.err"
    sed -E 's/"elapsed_s":[0-9.e+-]+,?//; s/ operations, [0-9.]+s\)/ operations)/' \
      "$OUT/$side/$name.raw" >"$OUT/$side/$name"
  done
}

run etcd-json --model cas-register --json "$ETCD"/etcd_*.log
run etcd-text --model cas-register "$ETCD"/etcd_*.log
for f in "$KV"/*.txt; do
  b=$(basename "$f" .txt)
  run "kv-$b-json" --model kv --init '""' --jobs 1 --json "$f"
  run "kv-$b-nopart" --model kv --init '""' --jobs 1 --no-partition --json "$f"
  run "kv-$b-text" --model kv --init '""' "$f"
  run "kv-$b-edn" --model kv --init '""' --format edn --json "$f"
done
run kv-all --model kv --init '""' --jobs 1 --json "$KV"/*.txt
n=0
while IFS=$'\t' read -r file model initial _; do
  [ "$file" = file ] && continue
  n=$((n + 1))
  run "knossos-$n-json" --model "$model" --init "$initial" --json "$KNOSSOS/$file"
  run "knossos-$n-text" --model "$model" --init "$initial" "$KNOSSOS/$file"
done <"$KNOSSOS/MANIFEST.tsv"

status=0
for f in "$OUT"/before/*; do
  name=$(basename "$f")
  [[ $name == *.raw ]] && continue
  if ! cmp -s "$f" "$OUT/after/$name"; then
    echo "differs: $name"
    diff "$f" "$OUT/after/$name" | head -5
    status=1
  fi
done
echo "$(ls "$OUT"/before | grep -vc '\.raw$') outputs compared in $OUT: $([ $status = 0 ] && echo identical || echo DIFFERENT)"
exit $status
