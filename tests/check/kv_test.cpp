// The kv model: per-key registers checked separately (P-compositionality), in parallel.
#include "seer/check/linearizability.hpp"
#include "seer/sim/prng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace seer::check {
namespace {

Operation kv(int process, const std::string& f, nlohmann::json key, nlohmann::json in,
             nlohmann::json out, std::int64_t invoke, std::int64_t complete) {
  Operation o;
  o.process = process;
  o.f = f;
  o.key = std::move(key);
  o.input = std::move(in);
  o.output = std::move(out);
  o.invoke = invoke;
  o.complete = complete;
  return o;
}

std::vector<Operation> numbered(std::vector<Operation> ops) {
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = static_cast<int>(i);
  return ops;
}

CheckResult check_kv(const std::vector<Operation>& ops, unsigned jobs = 1) {
  auto m = make_model("kv");
  m->set_initial(0);
  CheckOptions o;
  o.jobs = jobs;
  return check_linearizable(ops, *m, o);
}

TEST(Kv, KeysAreCheckedSeparately) {
  // Interleaved across keys, each key is fine on its own.
  auto ops =
      numbered({kv(1, "put", "x", 1, nullptr, 0, 10), kv(2, "put", "y", 2, nullptr, 5, 15),
                kv(3, "get", "x", nullptr, 1, 20, 30), kv(4, "get", "y", nullptr, 2, 20, 30)});
  auto r = check_kv(ops);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.partitions, 2u);
  EXPECT_EQ(r.witness.size(), 4u);
}

TEST(Kv, ViolationNamesTheKeyAndTheOriginalOperation) {
  auto ops =
      numbered({kv(1, "put", "x", 1, nullptr, 0, 10), kv(2, "put", "y", 2, nullptr, 0, 10),
                kv(2, "get", "y", nullptr, 0, 20, 30), kv(1, "get", "x", nullptr, 1, 20, 30)});
  auto r = check_kv(ops);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.partition, "y");
  EXPECT_EQ(r.failing_op, 2);
  EXPECT_EQ(r.explanation.rfind("key \"y\": ", 0), 0u) << r.explanation;
}

TEST(Kv, ReadsJepsenIndependentTuples) {
  const std::string text = R"([{:process 0, :type :invoke, :f :write, :value [:k1 3]}
 {:process 0, :type :ok, :f :write, :value [:k1 3]}
 {:process 1, :type :invoke, :f :read, :value [:k1 nil]}
 {:process 1, :type :ok, :f :read, :value [:k1 5]}])";
  auto ops = read_history_text(text, "h.edn");
  auto r = check_kv(ops);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.partition, ":k1");
}

// Brute force over a whole multi-key history with a map as the state: no partitioning at all.
bool brute_force(const std::vector<Operation>& ops) {
  std::vector<int> order(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) order[i] = static_cast<int>(i);
  do {
    bool valid = true;
    for (std::size_t i = 0; i < order.size() && valid; ++i) {
      for (std::size_t j = i + 1; j < order.size() && valid; ++j) {
        if (ops[order[j]].complete < ops[order[i]].invoke) valid = false;
      }
    }
    std::map<std::string, std::int64_t> state;
    for (std::size_t i = 0; i < order.size() && valid; ++i) {
      const auto& op = ops[order[i]];
      const auto key = op.key.get<std::string>();
      if (op.f == "put") {
        state[key] = op.input.get<std::int64_t>();
      } else if (state.count(key) ? state[key] != op.output : op.output != 0) {
        valid = false;
      }
    }
    if (valid) return true;
  } while (std::next_permutation(order.begin(), order.end()));
  return false;
}

TEST(Kv, AgreesWithAWholeHistoryBruteForceAndWithItselfAcrossJobs) {
  sim::Prng rnd(99);
  int broken = 0;
  for (int h = 0; h < 2000; ++h) {
    std::vector<Operation> ops;
    const int n = static_cast<int>(rnd.between(1, 7));
    for (int i = 0; i < n; ++i) {
      const std::int64_t start = rnd.between(0, 20);
      const std::int64_t end = start + rnd.between(0, 10);
      const std::string key = rnd.chance(500'000) ? "a" : "b";
      if (rnd.chance(500'000)) {
        ops.push_back(kv(i, "put", key, rnd.between(0, 2), nullptr, start, end));
      } else {
        ops.push_back(kv(i, "get", key, nullptr, rnd.between(0, 2), start, end));
      }
    }
    ops = numbered(ops);
    const bool expected = brute_force(ops);
    const auto one = check_kv(ops, 1);
    const auto two = check_kv(ops, 2);
    ASSERT_EQ(one.verdict == Verdict::kLinearizable, expected) << "history " << h;
    ASSERT_EQ(one.verdict, two.verdict);
    ASSERT_EQ(one.failing_op, two.failing_op);
    broken += expected ? 0 : 1;
  }
  EXPECT_GT(broken, 300);
}

}  // namespace
}  // namespace seer::check
