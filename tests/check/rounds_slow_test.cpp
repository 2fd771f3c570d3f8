// Checking keys in rounds, on keys whose searches outgrow what a paused key may keep between
// rounds (linearizability.cpp, kKeepPausedSteps): dropped, they start over and retrace their
// steps. Label slow: each key needs 17 million steps, searched twice.
#include "operation_builders.hpp"
#include "rounds_histories.hpp"

#include <gtest/gtest.h>

namespace seer::check {
namespace {

using testing::add_hard_linearizable;
using testing::check_keyed;
using testing::numbered;

TEST(RoundsSlow, KeysDroppedBetweenRoundsStartOverAndGiveTheSameWitness) {
  std::vector<Operation> a;
  std::vector<Operation> b;
  add_hard_linearizable(a, "a", 11);
  add_hard_linearizable(b, "b", 11);
  // Alone in its rounds, a key is never dropped.
  const auto alone_a = check_keyed(numbered(a));
  const auto alone_b = check_keyed(numbered(b));
  ASSERT_EQ(alone_a.verdict, Verdict::kLinearizable);
  ASSERT_EQ(alone_b.verdict, Verdict::kLinearizable);
  ASSERT_GT(alone_a.states_explored, 2u * (1u << 23));  // past the round that drops it

  std::vector<Operation> both = a;
  both.insert(both.end(), b.begin(), b.end());
  both = numbered(both);
  for (const unsigned jobs : {1u, 2u}) {
    const auto r = check_keyed(both, jobs);
    ASSERT_EQ(r.verdict, Verdict::kLinearizable) << jobs << " jobs";
    std::vector<int> expected = alone_a.witness;
    for (const int id : alone_b.witness) expected.push_back(id + static_cast<int>(a.size()));
    EXPECT_EQ(r.witness, expected) << jobs << " jobs";
    EXPECT_EQ(r.states_explored, alone_a.states_explored + alone_b.states_explored);
  }
}

}  // namespace
}  // namespace seer::check
