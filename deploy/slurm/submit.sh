#!/bin/bash
# Submits a sharded sweep to Slurm: an array of TASKS shards (sweep.sbatch), then its merge
# (merge.sbatch) as a job that starts once every task has ended. Prints the two job ids.
# Usage: SEER_SYSTEM=... SEER_SEEDS=A..B SEER_OUT_DIR=/shared/dir [SEER_VARIANT=...] \
#          submit.sh TASKS [SBATCH_OPTION...]
# The options (a partition, --time, --cpus-per-task) go to both jobs, after the scripts' own.
# The jobs' logs go to $SEER_OUT_DIR/logs/. See docs/scale-out.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
  echo "seer submit.sh: error: $*" >&2
  exit 2
}
[ $# -ge 1 ] || usage "usage: submit.sh TASKS [SBATCH_OPTION...] (with SEER_SYSTEM, SEER_SEEDS, SEER_OUT_DIR set)"
tasks=$1
shift
[[ "$tasks" =~ ^[1-9][0-9]*$ ]] || usage "bad TASKS '$tasks': expected a positive number"
for name in SEER_SYSTEM SEER_SEEDS SEER_OUT_DIR; do
  [ -n "${!name:-}" ] || usage "$name is not set"
done
mkdir -p "$SEER_OUT_DIR/logs"
export SEER_SYSTEM SEER_SEEDS SEER_OUT_DIR
array=$(sbatch --parsable --array=0-$((tasks - 1)) --output="$SEER_OUT_DIR/logs/sweep-%A_%a.out" \
  "$@" "$here/sweep.sbatch")
array=${array%%;*}  # "id;cluster" on a federation
merge=$(sbatch --parsable --dependency=afterany:"$array" --kill-on-invalid-dep=yes \
  --output="$SEER_OUT_DIR/logs/merge-%j.out" "$@" "$here/merge.sbatch")
echo "${merge%%;*}" >"$SEER_OUT_DIR/merge.jobid"
echo "array $array merge ${merge%%;*}"
