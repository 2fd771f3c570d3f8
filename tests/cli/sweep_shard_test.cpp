// `seer sweep --shard I/N` (src/cli/shard.hpp): the partition covers the range exactly once, the
// text and the job arrays' environment are validated, and an explicit --shard beats the
// environment.
#include "shard.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>

namespace seer::cli {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(SweepShard, ParsesIndexOfCount) {
  const auto s = parse_shard("3/4");
  EXPECT_EQ(s.index, 3u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.source, "--shard");
  EXPECT_EQ(parse_shard("0/1").count, 1u);
  EXPECT_EQ(parse_shard("999999999/1000000000").index, 999999999u);
}

TEST(SweepShard, RefusesHostileText) {
  for (const char* text : {"0/0",
                           "5/3",
                           "4/4",
                           "-1/3",
                           "1/-3",
                           "+1/4",
                           "1",
                           "",
                           "/",
                           "1/",
                           "/4",
                           "a/4",
                           "1/b",
                           "1/2/3",
                           " 1/4",
                           "1/4 ",
                           "0x1/4",
                           "1.0/4",
                           "18446744073709551616/1",
                           "0/18446744073709551616",
                           "0/18446744073709551615",
                           "0/1000000001"}) {
    EXPECT_THROW(parse_shard(text), UsageError) << text;
  }
}

// Every seed in exactly one shard, the shards in order, their sizes within one of each other.
void expect_partition(const SeedRange& range, std::uint64_t count) {
  const std::uint64_t total = range.last - range.first + 1;
  std::uint64_t next = range.first;
  std::uint64_t covered = 0;
  std::uint64_t smallest = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t largest = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto block = shard_seeds(range, {i, count, "--shard"});
    const std::uint64_t size = block ? block->last - block->first + 1 : 0;
    smallest = std::min(smallest, size);
    largest = std::max(largest, size);
    if (!block) continue;
    ASSERT_EQ(block->first, next) << "shard " << i << "/" << count;
    ASSERT_LE(block->first, block->last);
    covered += size;
    next = block->last + 1;  // wraps to 0 after the last seed 2^64-1, and is not used again
  }
  EXPECT_EQ(covered, total) << range.first << ".." << range.last << " in " << count;
  EXPECT_LE(largest - smallest, 1u);
}

TEST(SweepShard, ShardsPartitionTheRange) {
  for (const std::uint64_t count : {1, 2, 3, 4, 7, 10, 999, 1000, 1001, 5000}) {
    expect_partition({1, 1000}, count);
    expect_partition({0, 0}, count);
    expect_partition({17, 53}, count);
  }
}

TEST(SweepShard, ContiguousBlocks) {
  EXPECT_EQ(shard_seeds({1, 1000}, {0, 4, ""})->last, 250u);
  EXPECT_EQ(shard_seeds({1, 1000}, {1, 4, ""})->first, 251u);
  EXPECT_EQ(shard_seeds({1, 1000}, {3, 4, ""})->last, 1000u);
  // More shards than seeds: some shards are empty, the others hold one seed each.
  EXPECT_FALSE(shard_seeds({1, 3}, {0, 8, ""}));
  EXPECT_EQ(shard_seeds({1, 3}, {7, 8, ""})->first, 3u);
}

TEST(SweepShard, LargestBoundsDoNotOverflow) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const SeedRange top{max - (kMaxSweepSeeds - 1), max};
  const auto last = shard_seeds(top, {kMaxShards - 1, kMaxShards, ""});
  ASSERT_TRUE(last);
  EXPECT_EQ(last->first, max);
  EXPECT_EQ(last->last, max);
  EXPECT_EQ(shard_seeds(top, {0, kMaxShards, ""})->first, top.first);
  expect_partition({max - 999, max}, 7);
}

TEST(SweepShard, NoFlagNoEnvironmentIsTheWholeRange) {
  const auto s = choose_shard(std::nullopt, env_of({}));
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(s.count, 1u);
  EXPECT_TRUE(s.source.empty());
}

TEST(SweepShard, FlagBeatsTheEnvironment) {
  const auto env = env_of({{"JOB_COMPLETION_INDEX", "2"},
                           {"SEER_SHARD_COUNT", "4"},
                           {"SLURM_ARRAY_TASK_ID", "1"},
                           {"SLURM_ARRAY_TASK_COUNT", "2"}});
  const auto s = choose_shard(std::string("1/3"), env);
  EXPECT_EQ(s.index, 1u);
  EXPECT_EQ(s.count, 3u);
  // Even a bad environment does not matter then.
  EXPECT_NO_THROW(choose_shard(std::string("0/1"), env_of({{"JOB_COMPLETION_INDEX", "x"}})));
  // An explicit empty --shard is an error, not "no flag".
  EXPECT_THROW(choose_shard(std::string(), env), UsageError);
}

TEST(SweepShard, KubernetesIndexedJob) {
  const auto s = choose_shard(std::nullopt,
                              env_of({{"JOB_COMPLETION_INDEX", "2"}, {"SEER_SHARD_COUNT", "4"}}));
  EXPECT_EQ(s.index, 2u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.source, "JOB_COMPLETION_INDEX");
  // Kubernetes beats Slurm (neither should be set with the other).
  EXPECT_EQ(choose_shard(std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "1"},
                                               {"SEER_SHARD_COUNT", "2"},
                                               {"SLURM_ARRAY_TASK_ID", "0"},
                                               {"SLURM_ARRAY_TASK_COUNT", "3"}}))
                .count,
            2u);
  // The index without its count would run the whole range on every task.
  EXPECT_THROW(choose_shard(std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "2"}})), UsageError);
  for (const auto& [index, count] :
       std::vector<std::pair<std::string, std::string>>{{"4", "4"},
                                                        {"0", "0"},
                                                        {"x", "4"},
                                                        {"-1", "4"},
                                                        {"1", "4x"},
                                                        {"99999999999999999999", "4"}}) {
    EXPECT_THROW(choose_shard(std::nullopt, env_of({{"JOB_COMPLETION_INDEX", index},
                                                    {"SEER_SHARD_COUNT", count}})),
                 UsageError)
        << index << " of " << count;
  }
  // An empty value is an unset variable.
  EXPECT_TRUE(choose_shard(std::nullopt, env_of({{"JOB_COMPLETION_INDEX", ""}})).source.empty());
}

TEST(SweepShard, SlurmArray) {
  auto s = choose_shard(std::nullopt,
                        env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  EXPECT_EQ(s.index, 3u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.source, "SLURM_ARRAY_TASK_ID");
  // --array=1-4: ids 1 to 4 are shards 0 to 3.
  s = choose_shard(std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "4"},
                                         {"SLURM_ARRAY_TASK_COUNT", "4"},
                                         {"SLURM_ARRAY_TASK_MIN", "1"}}));
  EXPECT_EQ(s.index, 3u);
  // --array=0-6:2: ids 0, 2, 4, 6 are shards 0 to 3.
  s = choose_shard(std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "6"},
                                         {"SLURM_ARRAY_TASK_COUNT", "4"},
                                         {"SLURM_ARRAY_TASK_MIN", "0"},
                                         {"SLURM_ARRAY_TASK_STEP", "2"}}));
  EXPECT_EQ(s.index, 3u);
  const std::vector<std::map<std::string, std::string>> bad = {
      {{"SLURM_ARRAY_TASK_ID", "3"}},  // no count
      {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}},
      {{"SLURM_ARRAY_TASK_ID", "0"},
       {"SLURM_ARRAY_TASK_COUNT", "4"},
       {"SLURM_ARRAY_TASK_MIN", "1"}},
      {{"SLURM_ARRAY_TASK_ID", "5"},
       {"SLURM_ARRAY_TASK_COUNT", "4"},
       {"SLURM_ARRAY_TASK_STEP", "2"}},  // not on the step
      {{"SLURM_ARRAY_TASK_ID", "1"},
       {"SLURM_ARRAY_TASK_COUNT", "4"},
       {"SLURM_ARRAY_TASK_STEP", "0"}},
      {{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "0"}},
  };
  for (const auto& vars : bad) {
    EXPECT_THROW(choose_shard(std::nullopt, env_of(vars)), UsageError);
  }
}

}  // namespace
}  // namespace seer::cli
