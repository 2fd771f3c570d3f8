#!/bin/sh
# The container's entrypoint (deploy/Dockerfile): runs this pod's shard of a sweep, or merges the
# shards, configured from the environment so one image serves every sweep (docs/scale-out.md).
#
#   seer-shard [sweep]   run one shard: `seer sweep $SEER_SYSTEM --seeds $SEER_SEEDS ...`, its results
#                        to $SEER_OUT_DIR/shard-$INDEX.jsonl (a restarted pod resumes the file)
#   seer-shard merge     `seer merge` of $SEER_OUT_DIR/shard-*.jsonl: the report on stdout and as
#                        JSON in $SEER_OUT_DIR/merged.json; merge's exit status
#
# SEER_SYSTEM, SEER_SEEDS   required (e.g. promises, 1..100000)
# SEER_VARIANT              the system's variant (default: its first)
# SEER_ARGS                 more sweep options, split on spaces (e.g. "--faults crash,drop --ops 80")
# SEER_JOBS                 worker threads (default: all the cores the container sees)
# SEER_OUT_DIR              the shared results directory (default /results)
# SEER                      the seer binary (default: seer on PATH)
# The shard: seer reads JOB_COMPLETION_INDEX with SEER_SHARD_COUNT (a Kubernetes Indexed Job) or
# SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT itself; neither set runs the whole range.
#
# Exit status: a sweep that finds failing seeds (seer's exit 1) exits 0 here, as it did its job (the
# seeds are in its file and the merge reports them): a failed pod would be retried for nothing. A
# usage error (seer's exit 2: a bad option, a mismatched results file) stays 2, which the Job's
# podFailurePolicy turns into a failed Job rather than retries.
set -u
seer=${SEER:-seer}
out_dir=${SEER_OUT_DIR:-/results}
die() {
  echo "seer-shard: error: $*" >&2
  exit 2
}

case "${1:-sweep}" in
sweep)
  [ -n "${SEER_SYSTEM:-}" ] || die "SEER_SYSTEM is not set (the system to sweep, e.g. promises)"
  [ -n "${SEER_SEEDS:-}" ] || die "SEER_SEEDS is not set (the whole sweep's seed range, e.g. 1..100000)"
  index=${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-0}}
  mkdir -p "$out_dir" || die "cannot create $out_dir"
  # Positional parameters hold the command, so values with spaces stay whole; SEER_ARGS is split.
  set -- sweep "$SEER_SYSTEM" --seeds "$SEER_SEEDS" --out "$out_dir/shard-$index.jsonl"
  [ -z "${SEER_VARIANT:-}" ] || set -- "$@" --variant "$SEER_VARIANT"
  [ -z "${SEER_JOBS:-}" ] || set -- "$@" --jobs "$SEER_JOBS"
  # shellcheck disable=SC2086 # split on purpose
  set -- "$@" ${SEER_ARGS:-}
  echo "seer-shard: $seer $*"
  "$seer" "$@"
  code=$?
  [ "$code" -le 1 ] && exit 0
  exit "$code"
  ;;
merge)
  shift
  set -- "$out_dir"/shard-*.jsonl
  [ -e "$1" ] || die "no shard results in $out_dir (shard-*.jsonl)"
  "$seer" merge "$@"
  code=$?
  # The same report as JSON, for tools; written whole or not at all (its errors were just shown).
  "$seer" merge --json "$@" >"$out_dir/merged.json.tmp" 2>/dev/null
  if [ -s "$out_dir/merged.json.tmp" ]; then
    mv "$out_dir/merged.json.tmp" "$out_dir/merged.json"
  else
    rm -f "$out_dir/merged.json.tmp"
  fi
  exit "$code"
  ;;
*)
  die "unknown mode '$1' (expected sweep or merge)"
  ;;
esac
