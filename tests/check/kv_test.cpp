// The kv model: per-key registers checked separately (P-compositionality), in parallel.
#include "operation_builders.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/prng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace seer::check {
namespace {

using testing::keyed;
using testing::numbered;

CheckResult check_kv(const std::vector<Operation>& ops, unsigned jobs = 1) {
  auto m = make_model("kv");
  m->set_init("0");
  CheckOptions o;
  o.jobs = jobs;
  return check_linearizable(ops, *m, o);
}

TEST(Kv, KeysAreCheckedSeparately) {
  // Interleaved across keys, each key is fine on its own.
  auto ops = numbered(
      {keyed(1, "put", "x", 1, nullptr, 0, 10), keyed(2, "put", "y", 2, nullptr, 5, 15),
       keyed(3, "get", "x", nullptr, 1, 20, 30), keyed(4, "get", "y", nullptr, 2, 20, 30)});
  auto r = check_kv(ops);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.partitions, 2u);
  EXPECT_EQ(r.witness.size(), 4u);
}

TEST(Kv, ViolationNamesTheKeyAndTheOriginalOperation) {
  auto ops = numbered(
      {keyed(1, "put", "x", 1, nullptr, 0, 10), keyed(2, "put", "y", 2, nullptr, 0, 10),
       keyed(2, "get", "y", nullptr, 0, 20, 30), keyed(1, "get", "x", nullptr, 1, 20, 30)});
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
bool brute_force_kv(const std::vector<Operation>& ops) {
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
        ops.push_back(keyed(i, "put", key, rnd.between(0, 2), nullptr, start, end));
      } else {
        ops.push_back(keyed(i, "get", key, nullptr, rnd.between(0, 2), start, end));
      }
    }
    ops = numbered(ops);
    const bool expected = brute_force_kv(ops);
    const auto one = check_kv(ops, 1);
    const auto two = check_kv(ops, 2);
    ASSERT_EQ(one.verdict == Verdict::kLinearizable, expected) << "history " << h;
    ASSERT_EQ(one.verdict, two.verdict);
    ASSERT_EQ(one.failing_op, two.failing_op);
    broken += expected ? 0 : 1;
  }
  EXPECT_GT(broken, 300);
}

TEST(Kv, AppendBuildsAListPerKey) {
  using L = nlohmann::json;
  // Two concurrent appends may land in either order, but every later read agrees on one.
  auto ops = numbered({keyed(1, "append", "x", 1, nullptr, 0, 10),
                       keyed(2, "append", "x", 2, nullptr, 0, 10),
                       keyed(3, "read", "x", nullptr, L::array({2, 1}), 20, 30),
                       keyed(3, "read", "x", nullptr, L::array({2, 1}), 40, 50)});
  EXPECT_EQ(check_kv(ops).verdict, Verdict::kLinearizable);
  ops[3].output = L::array({1, 2});
  auto r = check_kv(ops);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.failing_op, 3);
  // Reads name list states in explanations and reports.
  auto m = make_model("kv");
  const auto appended = m->replay(numbered({keyed(1, "append", "z", 7, nullptr, 0, 1)}), {0});
  ASSERT_TRUE(appended.has_value());
  EXPECT_EQ(appended->front(), "[7]");
}

TEST(Kv, AppendReadsJepsenTuplesAndRejectsMixedKeys) {
  const std::string text = R"([{:process 0, :type :invoke, :f :append, :value [:k 3]}
 {:process 0, :type :ok, :f :append, :value [:k 3]}
 {:process 1, :type :invoke, :f :read, :value [:k nil]}
 {:process 1, :type :ok, :f :read, :value [:k [3]]}])";
  EXPECT_EQ(check_kv(read_history_text(text, "h.edn")).verdict, Verdict::kLinearizable);
  auto mixed = numbered(
      {keyed(1, "put", "x", 1, nullptr, 0, 10), keyed(2, "append", "x", 2, nullptr, 20, 30)});
  EXPECT_THROW(check_kv(mixed), HistoryError);
}

// Every order of every subset of the unknown appends, lists as the state.
bool brute_force_lists(const std::vector<Operation>& ops) {
  std::vector<int> unknown;
  for (const auto& o : ops) {
    if (o.unknown()) unknown.push_back(o.id);
  }
  for (std::uint32_t mask = 0; mask < (1u << unknown.size()); ++mask) {
    std::vector<int> order;
    for (const auto& o : ops) {
      if (!o.unknown()) order.push_back(o.id);
    }
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      if (mask & (1u << i)) order.push_back(unknown[i]);
    }
    std::sort(order.begin(), order.end());
    do {
      bool valid = true;
      for (std::size_t i = 0; i < order.size() && valid; ++i) {
        for (std::size_t j = i + 1; j < order.size() && valid; ++j) {
          if (ops[order[j]].complete < ops[order[i]].invoke) valid = false;
        }
      }
      std::map<std::string, nlohmann::json> lists;
      for (std::size_t i = 0; i < order.size() && valid; ++i) {
        const auto& op = ops[order[i]];
        auto& list =
            lists.try_emplace(op.key.get<std::string>(), nlohmann::json::array()).first->second;
        if (op.f == "append") {
          list.push_back(op.input);
        } else {
          valid = list == op.output;
        }
      }
      if (valid) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

TEST(Kv, AppendAgreesWithBruteForce) {
  sim::Prng rnd(31);
  int broken = 0;
  for (int h = 0; h < 2000; ++h) {
    std::vector<Operation> ops;
    const int n = static_cast<int>(rnd.between(1, 6));
    for (int i = 0; i < n; ++i) {
      const std::int64_t start = rnd.between(0, 20);
      const std::string key = rnd.chance(600'000) ? "a" : "b";
      if (rnd.chance(500'000)) {
        const std::int64_t end = rnd.chance(150'000) ? kNever : start + rnd.between(0, 10);
        ops.push_back(keyed(i, "append", key, rnd.between(1, 3), nullptr, start, end));
      } else {
        nlohmann::json seen = nlohmann::json::array();
        const auto length = rnd.below(3);
        for (std::uint64_t j = 0; j < length; ++j) seen.push_back(rnd.between(1, 3));
        ops.push_back(keyed(i, "read", key, nullptr, seen, start, start + rnd.between(0, 10)));
      }
    }
    ops = numbered(ops);
    const bool expected = brute_force_lists(ops);
    auto m = make_model("kv");
    ASSERT_EQ(check_linearizable(ops, *m).verdict == Verdict::kLinearizable, expected)
        << "history " << h;
    broken += expected ? 0 : 1;
  }
  EXPECT_GT(broken, 300);
  EXPECT_LT(broken, 1900);
}

// `--timeout` is the whole history's, not each key's: keys whose searches each outlast it stop
// when it is spent. Each key here is a search that cannot end in time: 14 concurrent writes and
// 14 concurrent reads, then two reads in sequence of two different written values, which no order
// allows (so every order is tried). On one job with a limit of 150 ms, the eight keys take about
// 150 ms, not eight times that.
TEST(Kv, TheTimeLimitIsTheWholeHistorysNotEachKeys) {
  std::vector<Operation> ops;
  for (int key = 0; key < 8; ++key) {
    const std::string k = "k" + std::to_string(key);
    for (int i = 1; i <= 14; ++i) {
      ops.push_back(keyed(i, "put", k, i, nullptr, 0, 100));
      ops.push_back(keyed(100 + i, "get", k, nullptr, i, 0, 100));
    }
    ops.push_back(keyed(1, "get", k, nullptr, 1, 200, 210));
    ops.push_back(keyed(1, "get", k, nullptr, 2, 220, 230));
  }
  auto m = make_model("kv");
  m->set_init("0");
  CheckOptions o;
  o.jobs = 1;
  o.timeout = std::chrono::milliseconds(150);
  const auto start = std::chrono::steady_clock::now();
  const auto r = check_linearizable(numbered(ops), *m, o);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << r.explanation;
  // Eight keys of 150 ms each would be 1.2 s; the shared limit ends them all at about 150 ms.
  EXPECT_LT(took, std::chrono::milliseconds(700));
}

}  // namespace
}  // namespace seer::check
