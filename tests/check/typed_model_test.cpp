// The typed model API as a user meets it: a model defined outside the checker library, registered
// by name, with and without the optional members.
#include "operation_builders.hpp"
#include "register_models.hpp"
#include "seer/check/html_report.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/check/model_registry.hpp"

#include <gtest/gtest.h>

#include <set>

namespace seer::check {
namespace {

using testing::numbered;
using testing::op;

// The example at the top of seer/check/model.hpp, as written there.
struct Counter {
  using State = std::int64_t;
  using Input = std::int64_t;   // how much an add adds (0 for a read)
  using Output = std::int64_t;  // what a read returned
  State init() const { return 0; }
  Call<Input, Output> compile(const Operation& op) const {
    if (op.f == "add") return {op.input.get<std::int64_t>(), std::nullopt};
    if (op.f == "read")
      return {0, op.unknown() ? std::nullopt : std::optional(op.output.get<std::int64_t>())};
    throw HistoryError("unknown function " + op.f);
  }
  std::optional<State> step(State s, Input add, const std::optional<Output>& read) const {
    if (read && *read != s) return std::nullopt;  // the read saw something else
    return s + add;
  }
  std::string describe_state(State s) const { return std::to_string(s); }
};
SEER_REGISTER_MODEL("doc-counter", "add n / read", Counter);

static_assert(CheckerModel<Counter>);
static_assert(!CheckerModel<int>);

TEST(TypedModel, ARegisteredModelIsFoundByNameAndListed) {
  auto m = make_model("doc-counter");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name(), "doc-counter");
  EXPECT_FALSE(m->partitioned());
  EXPECT_NE(model_names().find("doc-counter"), std::string::npos);
  bool listed = false;
  for (const auto& e : registered_models()) listed |= e.name == "doc-counter" && !e.summary.empty();
  EXPECT_TRUE(listed);
  EXPECT_EQ(make_model("no-such-model"), nullptr);
}

TEST(TypedModel, ANameIsRegisteredOnce) {
  EXPECT_THROW(register_model<Counter>("doc-counter", "again"), std::invalid_argument);
  EXPECT_THROW(register_model<Counter>("register", "a built-in name"), std::invalid_argument);
}

TEST(TypedModel, ChecksHistoriesAndExplainsAFailureWithoutAModelSentence) {
  auto m = make_model("doc-counter");
  const auto ok = numbered({op(1, "add", 2, nullptr, 0, 10), op(2, "add", 3, nullptr, 0, 10),
                            op(3, "read", nullptr, 2, 5, 8), op(3, "read", nullptr, 5, 20, 30)});
  EXPECT_EQ(check_linearizable(ok, *m).verdict, Verdict::kLinearizable);
  const auto lost = numbered({op(1, "add", 2, nullptr, 0, 10), op(3, "read", nullptr, 0, 20, 30)});
  const auto r = check_linearizable(lost, *m);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.failing_op, 1);
  EXPECT_EQ(r.explanation,
            "process 3 read returned 0 during [20, 30], but no order of the operations around it "
            "allows that result.");
  EXPECT_EQ(m->replay(ok, {0, 2, 1, 3}), (std::vector<std::string>{"2", "2", "5", "5"}));
  EXPECT_FALSE(m->replay(ok, {0, 1, 2}).has_value()) << "a read of 2 after both adds";
}

TEST(TypedModel, AModelWithoutSetInitRefusesAnInit) {
  auto m = make_model("doc-counter");
  EXPECT_NO_THROW(m->set_init(""));
  try {
    m->set_init("5");
    FAIL() << "an --init was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "model doc-counter takes no --init");
  }
}

// A register whose writes may be lost: several next states, a string state (no hash member: the
// table uses std::hash), and a model-specific explanation.
struct LossyRegister {
  using State = std::string;
  using Input = std::optional<std::string>;  // written, or nullopt for a read
  using Output = std::string;
  State init() const { return "empty"; }
  Call<Input, Output> compile(const Operation& op) const {
    if (op.f == "write") return {op.input.get<std::string>(), std::nullopt};
    Call<Input, Output> c;
    if (!op.unknown()) c.output = op.output.get<std::string>();
    return c;
  }
  void step(const State& s, const Input& write, const std::optional<Output>& read,
            std::vector<State>& next) const {
    if (write) {
      next.push_back(*write);  // it landed
      next.push_back(s);       // or it was lost
    } else if (!read || *read == s) {
      next.push_back(s);
    }
  }
  std::string describe_state(const State& s) const { return "holds " + s; }
  std::optional<std::string> explain_failure(const std::vector<Operation>& ops,
                                             const Operation& failing) const {
    return "read " + failing.output.get<std::string>() + " among " + std::to_string(ops.size()) +
           " operations";
  }
};

TEST(TypedModel, AnOperationMayHaveSeveralEffectsAndTheWitnessNamesTheOneChosen) {
  const auto m = erase_model<LossyRegister>("lossy");
  // The write completed, yet the read sees the old value: only a lost write explains it.
  const auto ops =
      numbered({op(1, "write", "a", nullptr, 0, 10), op(2, "read", nullptr, "empty", 20, 30)});
  CheckOptions options;
  options.witness_states = true;
  const auto r = check_linearizable(ops, *m, options);
  ASSERT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.witness_states, (std::vector<std::string>{"holds empty", "holds empty"}));
  const auto html = render_html_report("lossy", ops, r, *m);
  EXPECT_NE(html.find("holds empty"), std::string::npos);
  // A value never written cannot be read, and the model's own sentence says why.
  auto bad = ops;
  bad[1].output = "b";
  const auto v = check_linearizable(bad, *m);
  ASSERT_EQ(v.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(v.explanation, "read b among 2 operations");
}

// LossyRegister telling the checker which effect leaves the state as it was (NextStates): the
// same verdicts, witnesses, states and steps.
struct TellingLossyRegister : LossyRegister {
  void step(const State& s, const Input& write, const std::optional<Output>& read,
            NextStates<State>& next) const {
    if (write) {
      next.push(*write);      // it landed
      next.push_unchanged();  // or it was lost
    } else if (!read || *read == s) {
      next.push_unchanged();
    }
  }
};
static_assert(CheckerModel<TellingLossyRegister>);

TEST(TypedModel, AStepMayTellAnUnchangedStateWithTheSameResults) {
  const auto plain = erase_model<LossyRegister>("lossy");
  const auto telling = erase_model<TellingLossyRegister>("telling");
  const std::vector<std::vector<Operation>> histories = {
      numbered({op(1, "write", "a", nullptr, 0, 10), op(2, "read", nullptr, "empty", 20, 30)}),
      numbered({op(1, "write", "a", nullptr, 0, 10), op(2, "read", nullptr, "b", 20, 30)}),
      numbered({op(1, "write", "a", nullptr, 0, 50), op(2, "write", "b", nullptr, 5, 40),
                op(3, "read", nullptr, "a", 45, 60), op(1, "read", nullptr, "b", 61, 70),
                op(2, "read", nullptr, "empty", 71, 80)}),
  };
  CheckOptions options;
  options.witness_states = true;
  for (const auto& ops : histories) {
    const auto a = check_linearizable(ops, *plain, options);
    const auto b = check_linearizable(ops, *telling, options);
    EXPECT_EQ(a.verdict, b.verdict);
    EXPECT_EQ(a.witness, b.witness);
    EXPECT_EQ(a.witness_states, b.witness_states);
    EXPECT_EQ(a.states_explored, b.states_explored);
    EXPECT_EQ(a.failing_op, b.failing_op);
    EXPECT_EQ(a.explanation, b.explanation);
  }
}

TEST(TypedModel, OperationsMovedIntoTheirKeysComeBack) {
  const auto m = erase_model<testing::KeyOnlyRegister>("key-only");
  ASSERT_TRUE(m->partitioned());
  for (const int read : {1, 5}) {  // linearizable, then not
    const auto original = numbered({keyed(1, "write", "x", 1, nullptr, 0, 10),
                                    keyed(2, "write", "y", 2, nullptr, 0, 10),
                                    keyed(3, "write", "y", 3, nullptr, 5, kNever),
                                    keyed(1, "read", "x", nullptr, read, 20, 30)});
    auto ops = original;
    const auto r = check_linearizable(std::move(ops), *m);
    EXPECT_EQ(r.verdict, read == 1 ? Verdict::kLinearizable : Verdict::kNotLinearizable);
    ASSERT_EQ(ops.size(), original.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      EXPECT_EQ(ops[i].id, original[i].id);
      EXPECT_EQ(ops[i].input, original[i].input);
      EXPECT_EQ(ops[i].output, original[i].output);
      EXPECT_EQ(ops[i].key, original[i].key);
    }
  }
}

// A keyed model whose step counts its calls: with kMemoizeSteps each (state, op) pair is stepped
// once, however often the search backtracks over it.
struct CountedKeyedRegister : testing::RegisterPerKey {
  static constexpr bool kMemoizeSteps = true;
  static inline std::set<std::pair<State, std::int64_t>>* seen = nullptr;
  static inline int repeats = 0;
  std::pair<nlohmann::json, Operation> partition(const Operation& op) const { return {op.key, op}; }
  std::optional<State> step(State s, const Input& in, const std::optional<Output>& out) const {
    // The pair (state, input) stands for (state, op) here: every write in the test is distinct.
    if (seen && in && !seen->insert({s, *in}).second) ++repeats;
    if (in) return *in;
    if (out && *out != s) return std::nullopt;
    return s;
  }
};

TEST(TypedModel, KeysAreCheckedApartOrTogetherWithOneVerdictAndMemoizedSteps) {
  const auto m = erase_model<CountedKeyedRegister>("counted");
  EXPECT_TRUE(m->partitioned());
  std::vector<Operation> ops;
  // Overlapping writes on two keys, then reads of the first value written to each: the search
  // backtracks through many orders of the writes, meeting the same (state, write) pairs again.
  for (int i = 0; i < 6; ++i) {
    auto w = op(i, "write", 10 + i, nullptr, 0, 100);
    w.key = i % 2 == 0 ? "x" : "y";
    ops.push_back(w);
  }
  auto rx = op(7, "read", nullptr, 10, 200, 210);
  rx.key = "x";
  auto ry = op(8, "read", nullptr, 11, 200, 210);
  ry.key = "y";
  ops.push_back(rx);
  ops.push_back(ry);
  ops = numbered(ops);
  for (const bool partition : {true, false}) {
    std::set<std::pair<std::int64_t, std::int64_t>> seen;
    CountedKeyedRegister::seen = &seen;
    CountedKeyedRegister::repeats = 0;
    CheckOptions options;
    options.partition = partition;
    const auto r = check_linearizable(ops, *m, options);
    EXPECT_EQ(r.verdict, Verdict::kLinearizable) << partition;
    EXPECT_EQ(r.partitions, partition ? 2u : 1u);
    EXPECT_EQ(CountedKeyedRegister::repeats, 0) << "a transition stepped twice";
    auto bad = ops;
    bad[7].output = 99;
    const auto v = check_linearizable(bad, *m, options);
    EXPECT_EQ(v.verdict, Verdict::kNotLinearizable) << partition;
    EXPECT_EQ(v.partition, "y") << partition;
    EXPECT_EQ(v.failing_op, 7) << partition;
    CountedKeyedRegister::seen = nullptr;
  }
}

// A model's own checker for a special case runs first, unless turned off.
struct SpecialCounter : Counter {
  std::optional<CheckResult> check_special(const std::vector<Operation>& ops) const {
    if (ops.size() != 1) return std::nullopt;  // handles one-op histories only
    CheckResult r;
    r.verdict = Verdict::kLinearizable;
    r.explanation = "special";
    return r;
  }
};

TEST(TypedModel, ASpecialCheckerRunsFirstUnlessTurnedOff) {
  const auto m = erase_model<SpecialCounter>("special-counter");
  const auto one = numbered({op(3, "read", nullptr, 7, 0, 1)});  // 7 is wrong: the search says so
  EXPECT_EQ(check_linearizable(one, *m).explanation, "special");
  CheckOptions general;
  general.special = false;
  EXPECT_EQ(check_linearizable(one, *m, general).verdict, Verdict::kNotLinearizable);
  const auto two = numbered({op(1, "add", 1, nullptr, 0, 1), op(3, "read", nullptr, 7, 2, 3)});
  EXPECT_EQ(check_linearizable(two, *m).verdict, Verdict::kNotLinearizable);
}

}  // namespace
}  // namespace seer::check
