// The linear-time set checker against the general search and a brute-force checker.
#include "operation_builders.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/prng.hpp"

#include "sweep_scale.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::check {
namespace {

using testing::numbered;
using testing::op;

CheckResult run(const std::vector<Operation>& ops, bool special) {
  auto m = make_model("set");
  CheckOptions options;
  options.special = special;
  return check_linearizable(ops, *m, options);
}

// Every order of every subset of unknown ops, respecting real time.
bool brute_force_set(const std::vector<Operation>& ops) {
  auto m = make_model("set");
  std::vector<int> unknown;
  for (const auto& o : ops) {
    if (o.unknown()) unknown.push_back(o.id);
  }
  for (std::uint32_t mask = 0; mask < (1u << unknown.size()); ++mask) {
    std::vector<int> chosen;
    for (const auto& o : ops) {
      if (!o.unknown()) chosen.push_back(o.id);
    }
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      if (mask & (1u << i)) chosen.push_back(unknown[i]);
    }
    std::sort(chosen.begin(), chosen.end());
    do {
      bool valid = true;
      for (std::size_t i = 0; i < chosen.size() && valid; ++i) {
        for (std::size_t j = i + 1; j < chosen.size() && valid; ++j) {
          if (ops[chosen[j]].complete < ops[chosen[i]].invoke) valid = false;
        }
      }
      if (valid && m->replay(ops, chosen)) return true;
    } while (std::next_permutation(chosen.begin(), chosen.end()));
  }
  return false;
}

// The witness must be a legal sequential run that respects real time and holds every known op.
void expect_valid_witness(const std::vector<Operation>& ops, const CheckResult& r) {
  auto m = make_model("set");
  ASSERT_TRUE(m->replay(ops, r.witness).has_value()) << "the witness is not a legal run";
  // Real time: no op may come after one that completed before it was invoked. Scanning from the
  // end with the earliest completion seen so far keeps this linear.
  std::int64_t earliest_later_completion = kNever;
  for (std::size_t i = r.witness.size(); i-- > 0;) {
    const auto& o = ops[static_cast<std::size_t>(r.witness[i])];
    ASSERT_FALSE(earliest_later_completion < o.invoke) << "witness breaks real-time order";
    earliest_later_completion = std::min(earliest_later_completion, o.complete);
  }
  std::vector<bool> in_witness(ops.size(), false);
  for (const int id : r.witness) in_witness[static_cast<std::size_t>(id)] = true;
  for (const auto& o : ops) {
    if (o.unknown() || (o.f == "read" && !o.output.is_array())) continue;
    EXPECT_TRUE(in_witness[static_cast<std::size_t>(o.id)])
        << "known op " << o.id << " missing from the witness";
  }
}

TEST(SetChecker, ExplainsIncomparableReads) {
  auto ops = numbered({op(1, "add", 1, nullptr, 0, 100), op(2, "add", 2, nullptr, 0, 100),
                       op(3, "read", nullptr, nlohmann::json::array({1}), 10, 20),
                       op(4, "read", nullptr, nlohmann::json::array({2}), 10, 30)});
  const auto r = run(ops, true);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r.explanation.find("saw 1 but not 2"), std::string::npos) << r.explanation;
  EXPECT_EQ(run(ops, false).verdict, Verdict::kNotLinearizable);
}

TEST(SetChecker, ExplainsAReadThatMissedACompletedAdd) {
  auto ops = numbered(
      {op(1, "add", 5, nullptr, 0, 10), op(2, "read", nullptr, nlohmann::json::array(), 20, 30)});
  const auto r = run(ops, true);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.failing_op, 1);
  EXPECT_NE(r.explanation.find("ended before the other began"), std::string::npos) << r.explanation;
  EXPECT_NE(r.explanation.find("did not see 5"), std::string::npos) << r.explanation;
}

TEST(SetChecker, UnknownAddMayHappenOrNot) {
  // Seen by a read: it happened. Never seen: it may never have happened.
  auto seen = numbered({op(1, "add", 5, nullptr, 0, kNever),
                        op(2, "read", nullptr, nlohmann::json::array({5}), 20, 30),
                        op(2, "read", nullptr, nlohmann::json::array({5}), 40, 50)});
  EXPECT_EQ(run(seen, true).verdict, Verdict::kLinearizable);
  auto unseen = numbered({op(1, "add", 5, nullptr, 0, kNever),
                          op(2, "read", nullptr, nlohmann::json::array(), 20, 30)});
  EXPECT_EQ(run(unseen, true).verdict, Verdict::kLinearizable);
  // Seen, then not seen: adds are never undone.
  auto flicker = numbered({op(1, "add", 5, nullptr, 0, kNever),
                           op(2, "read", nullptr, nlohmann::json::array({5}), 20, 30),
                           op(2, "read", nullptr, nlohmann::json::array(), 40, 50)});
  EXPECT_EQ(run(flicker, true).verdict, Verdict::kNotLinearizable);
}

TEST(SetChecker, AgreesWithSearchAndBruteForceOnThousandsOfSmallHistories) {
  sim::Prng rnd(99);
  int broken = 0;
  const int histories = static_cast<int>(seer::testing::sweep_seeds(4000));
  for (int h = 0; h < histories; ++h) {
    std::vector<Operation> ops;
    const int n = static_cast<int>(rnd.between(1, 7));
    std::int64_t next_value = 1;
    for (int i = 0; i < n; ++i) {
      const std::int64_t start = rnd.between(0, 20);
      std::int64_t end = start + rnd.between(0, 10);
      if (rnd.chance(150'000)) end = kNever;
      if (rnd.chance(500'000)) {
        ops.push_back(op(i, "add", next_value++, nullptr, start, end));
      } else {
        nlohmann::json seen = nlohmann::json::array();
        for (std::int64_t x = 1; x <= 4; ++x) {
          if (rnd.chance(350'000)) seen.push_back(x);
        }
        ops.push_back(op(i, "read", nullptr, end == kNever ? nlohmann::json() : seen, start, end));
      }
    }
    ops = numbered(ops);
    const bool expected = brute_force_set(ops);
    const auto fast = run(ops, true);
    ASSERT_EQ(fast.verdict == Verdict::kLinearizable, expected) << "history " << h;
    ASSERT_EQ(run(ops, false).verdict == Verdict::kLinearizable, expected) << "history " << h;
    if (expected) {
      expect_valid_witness(ops, fast);
    } else {
      EXPECT_GE(fast.failing_op, 0);
      EXPECT_FALSE(fast.explanation.empty());
    }
    broken += expected ? 0 : 1;
  }
  EXPECT_GT(broken, histories / 8);
  EXPECT_LT(broken, histories * 7 / 8);
}

TEST(SetChecker, LongHistoriesFromASequentialRunAreLinearizable) {
  sim::Prng rnd(5);
  for (int h = 0; h < 10; ++h) {
    std::vector<Operation> ops;
    nlohmann::json set = nlohmann::json::array();
    for (int i = 0; i < 2000; ++i) {
      const std::int64_t t = i * 10;
      const std::int64_t start = t - rnd.between(0, 60);
      std::int64_t end = t + rnd.between(0, 60);
      if (rnd.chance(400'000)) {
        set.push_back(i);
        if (rnd.chance(50'000)) end = kNever;
        ops.push_back(op(i % 8, "add", i, nullptr, start, end));
      } else {
        ops.push_back(op(i % 8, "read", nullptr, set, start, end));
      }
    }
    std::sort(ops.begin(), ops.end(), [](auto& a, auto& b) { return a.invoke < b.invoke; });
    ops = numbered(ops);
    const auto r = run(ops, true);
    ASSERT_EQ(r.verdict, Verdict::kLinearizable) << "history " << h << ": " << r.explanation;
    expect_valid_witness(ops, r);
  }
}

}  // namespace
}  // namespace seer::check
