#!/usr/bin/env bash
# A sharded sweep through a real Slurm (docs/scale-out.md): a single-node cluster started here
# (slurm_cluster.sh), deploy/slurm/submit.sh submitting the promises sweep as an array of 4 tasks
# and its merge as a dependent job, for the naive and the final variant. The merged report must be
# the single-machine sweep's, seed for seed (runs, events, every failing seed with its invariant,
# message and reproduce line), and the merge job's exit status the sweep's (1 naive, 0 final).
# Usage: slurm_sweep_test.sh SEER SOURCE_DIR SEEDS   (exit 77, skipped, without slurm-wlm/munge or
# root: apt-get install slurm-wlm munge)
set -u
seer=$(realpath "$1")
src=$(realpath "$2")
range=$3
for tool in munged slurmctld slurmd sbatch squeue scontrol; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: no $tool (Debian: apt-get install slurm-wlm munge)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the test cluster runs its daemons as root"
  exit 77
fi
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/../cli/lib.sh"
# shellcheck source=tests/deploy/slurm_cluster.sh
source "$(dirname "$0")/slurm_cluster.sh"
trap 'slurm_stop; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
started=$SECONDS
slurm_start "$tmp/slurm" 2 || { fail "start a single-node Slurm cluster"; finish; }
echo "slurm up in $((SECONDS - started))s"

# Both variants' arrays go in at once; the node runs two tasks at a time (one CPU each).
declare -A merge_job
for variant in naive final; do
  out=$(SEER="$seer" SEER_SYSTEM=promises SEER_VARIANT=$variant SEER_SEEDS=$range \
    SEER_OUT_DIR="$tmp/$variant" "$src/deploy/slurm/submit.sh" 4 --cpus-per-task=1 2>&1) ||
    { fail "submit.sh ($variant): $out"; continue; }
  echo "$variant: $out"
  merge_job[$variant]=$(cat "$tmp/$variant/merge.jobid")
done
# Meanwhile, the single-machine sweeps to compare with.
for variant in naive final; do
  "$seer" sweep promises --variant $variant --seeds "$range" --jobs 1 --json >"single-$variant.json"
done
for variant in "${!merge_job[@]}"; do
  job=${merge_job[$variant]}
  slurm_wait_job "$job" 600 || { fail "$variant: the merge job did not end"; continue; }
  files=("$tmp/$variant"/shard-*.jsonl)
  [ ${#files[@]} -eq 4 ] || fail "$variant: expected 4 shard files, found ${#files[@]}"
  for i in 0 1 2 3; do
    head -1 "$tmp/$variant/shard-$i.jsonl" | grep -q "\"shard\":{\"index\":$i,\"count\":4}" ||
      fail "$variant: shard-$i.jsonl is not shard $i/4 (from SLURM_ARRAY_TASK_ID)"
  done
  grep -q "from SLURM_ARRAY_TASK_ID\|(SLURM_ARRAY_TASK_ID)" "$tmp/$variant"/logs/sweep-*_0.out ||
    fail "$variant: task 0 did not take its shard from Slurm: $(cat "$tmp/$variant"/logs/sweep-*_0.out)"
  code=$(scontrol show job "$job" | grep -o 'ExitCode=[0-9]*' | head -1 | cut -d= -f2)
  want=0
  [ "$variant" = naive ] && want=1
  [ "$code" = "$want" ] || fail "$variant: merge job exit $code, expected $want: $(cat "$tmp/$variant"/logs/merge-*.out)"
  python3 - "single-$variant.json" "$tmp/$variant/merged.json" "$variant" <<'PY' || fail "$variant: the merged report differs from the single-machine sweep"
import json, sys
single, merged = (json.load(open(p)) for p in sys.argv[1:3])
variant = sys.argv[3]
seeds = lambda j: [(f["seed"], f["invariant"], f["kind"], f["message"], f["reproduce"]) for f in j["failing"]]
assert merged["complete"] is True and merged["files"] == 4, merged
for k in ("system", "variant", "seeds", "runs", "events"):
    assert single[k] == merged[k], (k, single[k], merged[k])
assert seeds(single) == seeds(merged), (len(seeds(single)), len(seeds(merged)))
if variant == "naive":
    assert seeds(single), "the naive variant should fail some seeds"
else:
    assert not seeds(single), "the final variant should hold"
print(f"{variant}: {merged['runs']} seeds merged from 4 Slurm tasks, {len(seeds(merged))} failing, as on one machine")
PY
done
echo "total ${SECONDS}s"
finish
