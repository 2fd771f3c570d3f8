#include "shard.hpp"

#include "seer/assert.hpp"

#include <charconv>

namespace seer::cli {

namespace {

// Digits only (no sign, no spaces), within 64 bits.
std::optional<std::uint64_t> shard_number(const std::string& text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Checks 0 <= index < count <= kMaxShards; `what` names the input in the error.
Shard checked_shard(std::uint64_t index, std::uint64_t count, const std::string& what,
                    std::string source) {
  if (count == 0) throw UsageError(what + ": the shard count must be at least 1");
  if (count > kMaxShards) {
    throw UsageError(what + ": at most " + std::to_string(kMaxShards) + " shards");
  }
  if (index >= count) {
    throw UsageError(what + ": shard " + std::to_string(index) + " of " + std::to_string(count) +
                     " does not exist (shards are numbered 0 to " + std::to_string(count - 1) +
                     ")");
  }
  return {index, count, std::move(source)};
}

// The variable's value, or nullopt when it is unset or empty (an empty value is how a manifest
// template leaves a variable unset).
std::optional<std::string> shard_env(const EnvLookup& env, const char* name) {
  const char* value = env(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::uint64_t shard_env_number(const std::string& value, const char* name) {
  const auto n = shard_number(value);
  if (!n) {
    throw UsageError(std::string("bad ") + name + " '" + value +
                     "': expected a non-negative integer");
  }
  return *n;
}

Shard kubernetes_shard(const EnvLookup& env, const std::string& index_text) {
  const auto index = shard_env_number(index_text, "JOB_COMPLETION_INDEX");
  const auto count_text = shard_env(env, "SEER_SHARD_COUNT");
  if (!count_text) {
    throw UsageError(
        "JOB_COMPLETION_INDEX is set but SEER_SHARD_COUNT is not: set it to the Job's "
        "completions in the manifest, or pass --shard I/N (--shard 0/1 for the whole range)");
  }
  const auto count = shard_env_number(*count_text, "SEER_SHARD_COUNT");
  return checked_shard(index, count,
                       "JOB_COMPLETION_INDEX " + index_text + " of SEER_SHARD_COUNT " + *count_text,
                       "JOB_COMPLETION_INDEX");
}

Shard slurm_shard(const EnvLookup& env, const std::string& id_text) {
  const auto id = shard_env_number(id_text, "SLURM_ARRAY_TASK_ID");
  const auto count_text = shard_env(env, "SLURM_ARRAY_TASK_COUNT");
  if (!count_text) {
    throw UsageError(
        "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shard I/N");
  }
  const auto count = shard_env_number(*count_text, "SLURM_ARRAY_TASK_COUNT");
  const auto min_text = shard_env(env, "SLURM_ARRAY_TASK_MIN");
  const auto step_text = shard_env(env, "SLURM_ARRAY_TASK_STEP");
  const std::uint64_t min = min_text ? shard_env_number(*min_text, "SLURM_ARRAY_TASK_MIN") : 0;
  const std::uint64_t step = step_text ? shard_env_number(*step_text, "SLURM_ARRAY_TASK_STEP") : 1;
  const std::string what = "SLURM_ARRAY_TASK_ID " + id_text + " (min " + std::to_string(min) +
                           ", step " + std::to_string(step) + ", count " + *count_text + ")";
  // A list such as --array=1,4,9 has no such arithmetic: its task ids are not shard numbers.
  if (step == 0 || id < min || (id - min) % step != 0) {
    throw UsageError(what +
                     " is not a shard number: use an array --array=0-N (or any A-B:S), or --shard");
  }
  return checked_shard((id - min) / step, count, what, "SLURM_ARRAY_TASK_ID");
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const std::string what = "bad --shard '" + text + "'";
  const auto slash = text.find('/');
  const auto index = shard_number(text.substr(0, slash));
  const auto count =
      slash == std::string::npos ? std::nullopt : shard_number(text.substr(slash + 1));
  if (!index || !count) {
    throw UsageError(what + ": expected I/N, shard I (0 to N-1) of N, e.g. 0/4");
  }
  return checked_shard(*index, *count, what, "--shard");
}

Shard choose_shard(const std::optional<std::string>& flag, const EnvLookup& env) {
  if (flag) return parse_shard(*flag);
  if (const auto index = shard_env(env, "JOB_COMPLETION_INDEX")) {
    return kubernetes_shard(env, *index);
  }
  if (const auto id = shard_env(env, "SLURM_ARRAY_TASK_ID")) return slurm_shard(env, *id);
  return {};
}

std::optional<SeedRange> shard_seeds(const SeedRange& range, const Shard& shard) {
  const std::uint64_t total = range.last - range.first + 1;
  // Within the bounds (parse_seed_range, parse_shard, the header reader), (index + 1) * total is
  // at most 10^18, below 2^64.
  SEER_ASSERT(total <= kMaxSweepSeeds && shard.index < shard.count && shard.count <= kMaxShards,
              "a shard within the bounds");
  const std::uint64_t begin = total * shard.index / shard.count;
  const std::uint64_t end = total * (shard.index + 1) / shard.count;
  if (begin == end) return std::nullopt;
  return SeedRange{range.first + begin, range.first + end - 1};
}

}  // namespace seer::cli
