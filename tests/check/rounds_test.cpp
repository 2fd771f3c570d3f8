// Keyed histories are checked in rounds of doubling step budgets (src/check/rounds.hpp): the key
// named broken is the one broken at the smallest budget, whatever --jobs, and a key that needs
// millions of steps does not delay the answer when another is broken.
#include "operation_builders.hpp"
#include "rounds_histories.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/prng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

namespace seer::check {
namespace {

using testing::add_cheap_broken;
using testing::add_hard_broken;
using testing::add_hard_linearizable;
using testing::check_keyed;
using testing::keyed;
using testing::numbered;

// Everything a caller sees, apart from the time.
void expect_same(const CheckResult& a, const CheckResult& b, const std::string& what) {
  EXPECT_EQ(a.verdict, b.verdict) << what;
  EXPECT_EQ(a.partition, b.partition) << what;
  EXPECT_EQ(a.failing_op, b.failing_op) << what;
  EXPECT_EQ(a.witness, b.witness) << what;
  EXPECT_EQ(a.explanation, b.explanation) << what;
  EXPECT_EQ(a.states_explored, b.states_explored) << what;
}

// Key "a" is linearizable but its search needs millions of steps; key "b", after it in key order,
// is broken in a few. Checked key by key in order, one job would search "a" to the end first.
TEST(Rounds, ACheapBrokenKeyIsNamedWithoutSearchingAnExpensiveOneToTheEnd) {
  std::vector<Operation> hard;
  add_hard_linearizable(hard, "a", 10);
  const auto alone = check_keyed(numbered(hard));
  ASSERT_EQ(alone.verdict, Verdict::kLinearizable);
  ASSERT_GT(alone.states_explored, 4'000'000u);

  std::vector<Operation> ops = hard;
  add_cheap_broken(ops, "b");
  ops = numbered(ops);
  const auto start = std::chrono::steady_clock::now();
  const auto one = check_keyed(ops, 1);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(one.verdict, Verdict::kNotLinearizable) << one.explanation;
  EXPECT_EQ(one.partition, "b");
  EXPECT_EQ(one.failing_op, static_cast<int>(ops.size()) - 1);  // b's read of 2
  EXPECT_EQ(one.explanation.rfind("key \"b\": ", 0), 0u) << one.explanation;
  // The first round's budget for "a", and b's few steps.
  EXPECT_LT(one.states_explored, 10'000u);
  EXPECT_LT(took, std::chrono::seconds(2));
  expect_same(check_keyed(ops, 2), one, "2 jobs");
  expect_same(check_keyed(ops, 3), one, "3 jobs");
}

// Two broken keys: the one broken at the smaller budget is named, though later in key order; with
// the cheap one gone, the expensive one is named.
TEST(Rounds, TheKeyBrokenAtTheSmallestBudgetIsNamed) {
  std::vector<Operation> ops;
  add_hard_broken(ops, "a", 8);  // about 600,000 steps
  add_cheap_broken(ops, "b");
  ops = numbered(ops);
  const auto one = check_keyed(ops, 1);
  ASSERT_EQ(one.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(one.partition, "b");
  expect_same(check_keyed(ops, 2), one, "2 jobs");

  std::vector<Operation> only_a;
  add_hard_broken(only_a, "a", 8);
  only_a.push_back(keyed(1, "put", "b", 1, nullptr, 0, 10));
  only_a.push_back(keyed(2, "get", "b", nullptr, 1, 20, 30));
  only_a = numbered(only_a);
  const auto late = check_keyed(only_a, 1);
  ASSERT_EQ(late.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(late.partition, "a");
  EXPECT_GT(late.states_explored, 500'000u);
  expect_same(check_keyed(only_a, 2), late, "2 jobs");
}

// Keys broken in the same round: the first in key order is named, not the first in the history.
TEST(Rounds, AmongKeysBrokenInTheSameRoundTheFirstInKeyOrderIsNamed) {
  std::vector<Operation> ops;
  add_cheap_broken(ops, "d");
  add_cheap_broken(ops, "c");
  ops.push_back(keyed(7, "put", "a", 1, nullptr, 0, 10));
  ops = numbered(ops);
  for (const unsigned jobs : {1u, 2u, 4u}) {
    const auto r = check_keyed(ops, jobs);
    ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
    EXPECT_EQ(r.partition, "c") << jobs << " jobs";
    EXPECT_EQ(r.failing_op, 3) << jobs << " jobs";  // c's read
  }
}

// CheckOptions::max_steps bounds each key's search: a key past it is unknown, which another key
// found broken still overrides.
TEST(Rounds, MaxStepsIsEachKeysAndABrokenKeyStillDecides) {
  std::vector<Operation> ops;
  add_hard_broken(ops, "a", 10);  // about 8 million steps
  ops.push_back(keyed(1, "put", "b", 1, nullptr, 0, 10));
  ops.push_back(keyed(2, "get", "b", nullptr, 1, 20, 30));
  ops = numbered(ops);
  CheckOptions o;
  o.max_steps = 100'000;
  const auto unknown = check_keyed(ops, 1, o);
  ASSERT_EQ(unknown.verdict, Verdict::kUnknown) << unknown.explanation;
  EXPECT_EQ(unknown.partition, "a");
  EXPECT_EQ(unknown.explanation, "key \"a\": gave up after 100000 search steps");
  expect_same(check_keyed(ops, 2, o), unknown, "2 jobs");

  add_hard_broken(ops, "c", 7);  // about 150,000 steps: past max_steps as well
  add_cheap_broken(ops, "d");
  ops = numbered(ops);
  const auto broken = check_keyed(ops, 1, o);
  ASSERT_EQ(broken.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(broken.partition, "d");
  expect_same(check_keyed(ops, 2, o), broken, "2 jobs");
}

// Random histories of several keys, cheap and expensive (searches of a few to 150,000 steps, so
// keys settle in different rounds): whatever the number of jobs, the same result, and the verdict
// of checking every key alone.
TEST(Rounds, TheResultDoesNotDependOnJobs) {
  sim::Prng rnd(2112);
  int broken = 0;
  for (int h = 0; h < 60; ++h) {
    std::vector<Operation> ops;
    bool expected = true;
    const int keys = static_cast<int>(rnd.between(2, 6));
    for (int k = 0; k < keys; ++k) {
      const std::string key = "k" + std::to_string(rnd.below(10));
      if (std::any_of(ops.begin(), ops.end(), [&](const Operation& o) { return o.key == key; })) {
        continue;
      }
      const int n = static_cast<int>(rnd.between(2, 7));
      switch (rnd.below(4)) {
        case 0:
          add_hard_linearizable(ops, key, n);
          break;
        case 1:
          add_hard_broken(ops, key, n);
          expected = false;
          break;
        case 2:
          add_cheap_broken(ops, key);
          expected = false;
          break;
        default:
          ops.push_back(keyed(1, "put", key, 3, nullptr, 0, 10));
          ops.push_back(keyed(2, "get", key, nullptr, 3, 5, 30));
      }
    }
    ops = numbered(ops);
    const auto one = check_keyed(ops, 1);
    ASSERT_EQ(one.verdict == Verdict::kLinearizable, expected) << "history " << h;
    broken += expected ? 0 : 1;
    for (const unsigned jobs : {2u, 3u, 8u}) {
      expect_same(check_keyed(ops, jobs), one,
                  "history " + std::to_string(h) + ", " + std::to_string(jobs) + " jobs");
    }
  }
  EXPECT_GT(broken, 20);
}

}  // namespace
}  // namespace seer::check
