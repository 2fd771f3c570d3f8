// Sharding a sweep over machines (issue 24): `seer sweep --shard I/N` runs shard I of N of the seed
// range, and a job array's environment (Kubernetes Indexed Jobs, Slurm arrays) gives I and N when
// the flag is absent. The partition is contiguous blocks: shard I of N gets the seeds from
// first + floor(I*T/N) to first + floor((I+1)*T/N) - 1 of the T seeds, so every seed is in exactly
// one shard (the union of the shards is the unsharded sweep), sizes differ by at most one, a shard
// is itself a range (`--seeds A..B` re-runs it on one machine) and the seeds a merge finds missing
// come in few ranges (a killed shard misses the tail of its block) rather than scattered.
#pragma once

#include "run_options.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace seer::cli {

struct Shard {
  std::uint64_t index = 0;  // 0 to count - 1: Kubernetes' JOB_COMPLETION_INDEX counts from 0 too
  std::uint64_t count = 1;
  // Where it came from ("--shard", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"), empty when the
  // sweep is not sharded (0 of 1, the whole range).
  std::string source;
};

// More shards than the most seeds a sweep runs would be empty; the bound also keeps index * seeds
// within 64 bits.
inline constexpr std::uint64_t kMaxShards = kMaxSweepSeeds;

// "I/N" with 0 <= I < N <= kMaxShards; throws UsageError naming the text and what is wrong.
Shard parse_shard(const std::string& text);

// Reads an environment variable: nullptr when unset (std::getenv, or a map in tests).
using EnvLookup = std::function<const char*(const char*)>;

// The shard a sweep runs: --shard's text if given (even empty) (it beats the environment), else
// JOB_COMPLETION_INDEX of SEER_SHARD_COUNT (a Kubernetes Indexed Job; the manifest sets the count,
// which Kubernetes does not export), else SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (counted
// from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP, so --array=1-8 works), else 0 of 1.
// A variable that is set but bad, or an index without its count, is a UsageError: running the
// whole range on every task of an array would be the same sweep N times over.
Shard choose_shard(const std::optional<std::string>& flag, const EnvLookup& env);

// The seeds of `shard` in `range` (contiguous, see above), or nullopt when the shard is empty
// (more shards than seeds).
std::optional<SeedRange> shard_seeds(const SeedRange& range, const Shard& shard);

}  // namespace seer::cli
