// Splitting a keyed model's history without copying its operations: partition_key (the key alone),
// partition_call (the key and the op's call, compiled once) and check_linearizable on a history the
// caller gives up. Each gives the verdicts, witnesses and failing ops partition() gives.
#include "operation_builders.hpp"
#include "register_models.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/check/model_registry.hpp"

#include <gtest/gtest.h>

namespace seer::check {
namespace {

using testing::keyed;
using testing::KeyOnlyRegister;
using testing::numbered;
using testing::RegisterPerKey;

// Keyed by partition(): the reference the others must agree with.
struct KeyedRegister : RegisterPerKey {
  std::pair<nlohmann::json, Operation> partition(const Operation& op) const { return {op.key, op}; }
};

// The same, compiling each op while keying it; compile_all(ops, calls) sees every call of a key.
struct PreparedRegister : RegisterPerKey {
  static inline int compiled = 0;         // partition_call's calls
  static inline int finished_ops = 0;     // the ops compile_all(ops, calls) was given
  static inline bool calls_match = true;  // each call handed back is its op's
  std::pair<nlohmann::json, CallOf<RegisterPerKey>> partition_call(const Operation& op) const {
    ++compiled;
    return {op.key, compile(op)};
  }
  std::vector<CallOf<RegisterPerKey>> compile_all(const std::vector<Operation>& ops,
                                                  std::vector<CallOf<RegisterPerKey>> calls) const {
    finished_ops += static_cast<int>(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) calls_match &= calls[i] == compile(ops[i]);
    return calls;
  }
};

std::vector<Operation> history() {
  return numbered(
      {keyed(0, "write", "x", 1, nullptr, 0, 10), keyed(1, "write", "y", 2, nullptr, 0, 10),
       keyed(2, "write", "x", 3, nullptr, 5, kNever),  // outcome unknown
       keyed(0, "read", "x", nullptr, 1, 20, 30), keyed(1, "read", "y", nullptr, 2, 20, 30),
       keyed(3, "read", "z", nullptr, 0, 20, 30)});
}

void expect_same(const CheckResult& a, const CheckResult& b) {
  EXPECT_EQ(a.verdict, b.verdict);
  EXPECT_EQ(a.witness, b.witness);
  EXPECT_EQ(a.failing_op, b.failing_op);
  EXPECT_EQ(a.partition, b.partition);
  EXPECT_EQ(a.partitions, b.partitions);
  EXPECT_EQ(a.explanation, b.explanation);
  EXPECT_EQ(a.states_explored, b.states_explored);
}

TEST(KeyedSplit, PartitionKeyLeavesTheOpsToTheChecker) {
  const auto m = erase_model<KeyOnlyRegister>("key-only");
  EXPECT_TRUE(m->partitioned());
  const auto ops = history();
  const auto parts = m->split(ops);
  ASSERT_EQ(parts.keys.size(), 3u);
  EXPECT_EQ(parts.keys[0], "x");
  EXPECT_EQ(parts.members[0], (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(parts.members[2], (std::vector<int>{5}));
  EXPECT_TRUE(parts.inner.empty()) << "the per-key ops are the history's";
  // partition() still answers for the other users of a keyed model (reports, replay).
  const auto [key, inner] = m->partition(ops[4]);
  EXPECT_EQ(key, "y");
  EXPECT_EQ(inner.input, ops[4].input);
}

TEST(KeyedSplit, TheDefaultSplitGivesEachKeysOpsRenumbered) {
  const auto m = erase_model<KeyedRegister>("keyed");
  const auto parts = m->split(history());
  ASSERT_EQ(parts.inner.size(), 3u);
  ASSERT_EQ(parts.inner[0].size(), 3u);
  EXPECT_EQ(parts.inner[0][2].id, 2);
  EXPECT_EQ(parts.inner[0][2].f, "read");
  EXPECT_EQ(parts.members[1], (std::vector<int>{1, 4}));
}

TEST(KeyedSplit, EveryWayOfKeyingGivesTheSameResults) {
  const auto reference = erase_model<KeyedRegister>("keyed");
  const auto key_only = erase_model<KeyOnlyRegister>("key-only");
  const auto prepared = erase_model<PreparedRegister>("prepared");
  auto bad = history();
  bad[4].output = 7;  // y was 2
  for (const auto& ops : {history(), bad}) {
    for (const bool partition : {true, false}) {
      CheckOptions options;
      options.partition = partition;
      const auto expected = check_linearizable(ops, *reference, options);
      for (const AnyModel* m : {reference.get(), key_only.get(), prepared.get()}) {
        SCOPED_TRACE(m->name() + (partition ? "" : " --no-partition"));
        expect_same(check_linearizable(ops, *m, options), expected);
        auto given_up = ops;
        expect_same(check_linearizable(std::move(given_up), *m, options), expected);
      }
    }
  }
  EXPECT_EQ(check_linearizable(bad, *prepared).failing_op, 4);
}

TEST(KeyedSplit, PartitionCallCompilesEachOpOnceAndHandsTheCallsBack) {
  const auto m = erase_model<PreparedRegister>("prepared");
  const auto ops = history();
  PreparedRegister::compiled = 0;
  PreparedRegister::finished_ops = 0;
  PreparedRegister::calls_match = true;
  const auto r = check_linearizable(ops, *m);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(PreparedRegister::compiled, static_cast<int>(ops.size())) << "one compile per op";
  EXPECT_EQ(PreparedRegister::finished_ops, static_cast<int>(ops.size()));
  EXPECT_TRUE(PreparedRegister::calls_match);
  // Compiled without a split (a report, --no-partition), the calls are made the same way.
  PreparedRegister::finished_ops = 0;
  const auto history = m->compile(ops);
  EXPECT_EQ(history->size(), ops.size());
  EXPECT_EQ(PreparedRegister::finished_ops, static_cast<int>(ops.size()));
  EXPECT_TRUE(PreparedRegister::calls_match);
}

TEST(KeyedSplit, ABuiltInModelGivesTheSameResultOnAHistoryGivenUp) {
  const auto m = make_model("kv");
  ASSERT_TRUE(m);
  auto ops = numbered({keyed(0, "write", "a", 1, nullptr, 0, 10),
                       keyed(1, "read", "a", nullptr, 2, 11, 20),  // never written
                       keyed(2, "write", "b", 2, nullptr, 0, 10)});
  const auto expected = check_linearizable(ops, *m);
  EXPECT_EQ(expected.verdict, Verdict::kNotLinearizable);
  expect_same(check_linearizable(std::move(ops), *m), expected);
}

}  // namespace
}  // namespace seer::check
