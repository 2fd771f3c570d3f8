// What a system gets without ceremony: checks at quiescence (add_final_check), invariants that run
// only when what they read changed (ChangeWatch, when_changed), RunConfig::service_or, and the
// history check derived from SystemInfo::history_model.
#include "seer/check/model_registry.hpp"
#include "seer/sim/system.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

namespace seer::sim::system_helpers_test {
namespace {

struct Orders {
  int placed = 0;
  int shipped = 0;
};

struct Placed : Payload {
  std::string_view type() const override { return "placed"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};

Task<void> ship(Env& env, std::shared_ptr<Orders> orders, bool lazy) {
  for (;;) {
    co_await env.receive();
    if (!lazy) ++orders->shipped;
  }
}

Task<void> place(Env& env, ProcessId shipper, std::shared_ptr<Orders> orders, int n) {
  for (int i = 0; i < n; ++i) {
    ++orders->placed;
    env.send(shipper, std::make_shared<Placed>());
    co_await env.sleep(milliseconds(1));
  }
  co_await env.sleep(milliseconds(5));  // every order delivered before the run ends
}

// A client places three orders; a shipper ships each one it hears of, unless `lazy`.
RunResult run_orders(bool lazy, int* final_calls = nullptr) {
  RunConfig config;
  config.faults = std::vector<FaultKind>{};
  config.record_trace = true;
  Simulator sim(config);
  auto orders = std::make_shared<Orders>();
  const auto shipper =
      sim.add_process("shipper", [orders, lazy](Env& env) { return ship(env, orders, lazy); },
                      {.crashable = false});
  sim.add_process("client", [shipper, orders](Env& env) { return place(env, shipper, orders, 3); },
                  {.crashable = false, .client = true});
  // Mid-run an order may still be on its way: only at the end must every order have shipped.
  sim.add_final_check("every-order-shipped", [orders, final_calls]() -> std::optional<std::string> {
    if (final_calls) ++*final_calls;
    if (orders->shipped == orders->placed) return std::nullopt;
    return std::to_string(orders->placed - orders->shipped) + " orders never shipped";
  });
  return sim.run();
}

TEST(FinalCheck, RunsOnceAtTheEndAndHolds) {
  int calls = 0;
  const auto r = run_orders(false, &calls);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(calls, 1);
}

TEST(FinalCheck, AFailureIsReportedLikeAnInvariantViolation) {
  const auto r = run_orders(true);
  ASSERT_TRUE(r.violation);
  EXPECT_EQ(r.violation->invariant, "every-order-shipped");
  EXPECT_EQ(r.violation->message, "3 orders never shipped");
  EXPECT_EQ(r.violation->event + 1, r.events);  // after the run's last event, then the violation
  const auto last = nlohmann::json::parse(r.trace_lines.back());
  EXPECT_EQ(last["kind"], "violation");
  EXPECT_EQ(last["invariant"], "every-order-shipped");
}

TEST(FinalCheck, DoesNotRunAfterAnInvariantFailed) {
  RunConfig config;
  config.faults = std::vector<FaultKind>{};
  Simulator sim(config);
  sim.add_process("client", [](Env& env) -> Task<void> { co_await env.sleep(milliseconds(1)); },
                  {.crashable = false, .client = true});
  sim.add_invariant("always-fails", [] { return std::optional<std::string>("no"); });
  int calls = 0;
  sim.add_final_check("counted", [&calls] {
    ++calls;
    return std::optional<std::string>();
  });
  const auto r = sim.run();
  ASSERT_TRUE(r.violation);
  EXPECT_EQ(r.violation->invariant, "always-fails");
  EXPECT_EQ(calls, 0);
}

// A run whose client sleeps `sleeps` times (an event each); `setup` adds the invariants.
RunResult run_sleeper(int sleeps, const std::function<void(Simulator&)>& setup) {
  RunConfig config;
  config.faults = std::vector<FaultKind>{};
  Simulator sim(config);
  sim.add_process("client",
                  [sleeps](Env& env) -> Task<void> {
                    for (int i = 0; i < sleeps; ++i) co_await env.sleep(milliseconds(1));
                  },
                  {.crashable = false, .client = true});
  setup(sim);
  return sim.run();
}

TEST(InvariantSet, NamesTheOneThatFailedAfterTheEventItFailedAt) {
  int calls = 0;
  const auto r = run_sleeper(5, [&calls](Simulator& sim) {
    sim.add_invariants({"first", "second", "third"},
                       [&calls, &sim]() -> std::optional<InvariantFailure> {
                         ++calls;
                         if (sim.current_event() < 4) return std::nullopt;
                         return InvariantFailure{1, Finding("broken", {"entity/1"})};
                       });
  });
  ASSERT_TRUE(r.violation);
  EXPECT_EQ(r.violation->invariant, "second");
  EXPECT_EQ(r.violation->message, "broken");
  EXPECT_EQ(r.violation->entities, std::vector<std::string>{"entity/1"});
  EXPECT_EQ(r.violation->event, 4U);
  EXPECT_EQ(calls, 4);  // once after each event, the run stopping at the first violation
}

TEST(InvariantSet, TakesItsPlaceAmongSingleInvariantsInTheOrderAdded) {
  const auto fails = [](const char* name) {
    return [name]() -> std::optional<Finding> { return Finding(name); };
  };
  const auto set_fails = []() -> std::optional<InvariantFailure> {
    return InvariantFailure{0, Finding("set")};
  };
  const auto before = run_sleeper(2, [&](Simulator& sim) {
    sim.add_invariants({"in-set"}, set_fails);
    sim.add_invariant("single", fails("single"));
  });
  ASSERT_TRUE(before.violation);
  EXPECT_EQ(before.violation->invariant, "in-set");
  const auto after = run_sleeper(2, [&](Simulator& sim) {
    sim.add_invariant("single", fails("single"));
    sim.add_invariants({"in-set"}, set_fails);
  });
  ASSERT_TRUE(after.violation);
  EXPECT_EQ(after.violation->invariant, "single");
}

TEST(InvariantSet, HoldingSetsLetTheRunEndOk) {
  int calls = 0;
  const auto r = run_sleeper(3, [&calls](Simulator& sim) {
    sim.add_invariants({"a", "b"}, [&calls]() -> std::optional<InvariantFailure> {
      ++calls;
      return std::nullopt;
    });
  });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(static_cast<std::uint64_t>(calls), r.events);  // after every event
}

TEST(InvariantSet, ASetOfNoNamesIsRefused) {
  Simulator sim(RunConfig{});
  EXPECT_THROW(sim.add_invariants({}, [] { return std::optional<InvariantFailure>(); }),
               std::invalid_argument);
}

TEST(ChangeWatch, SaysChangedFirstThenOnlyWhenTheVersionMoves) {
  std::uint64_t version = 7;
  ChangeWatch watch([&version] { return version; });
  EXPECT_TRUE(watch.changed());
  EXPECT_FALSE(watch.changed());
  version = 8;
  EXPECT_TRUE(watch.changed());
  EXPECT_FALSE(watch.changed());
}

TEST(ChangeWatch, WhenChangedRunsTheCheckOnlyAfterAChange) {
  std::uint64_t version = 0;
  int runs = 0;
  const auto check = when_changed([&version] { return version; },
                                  [&runs]() -> std::optional<std::string> {
                                    ++runs;
                                    return std::nullopt;
                                  });
  check();
  check();
  version = 1;
  check();
  check();
  EXPECT_EQ(runs, 2);
}

TEST(RunConfig, ServiceOrGivesTheChoiceOrTheFallback) {
  RunConfig config;
  config.services["kv"] = "stale";
  EXPECT_EQ(config.service_or("kv", "linearizable"), "stale");
  EXPECT_EQ(config.service_or("queue", "at-least-once"), "at-least-once");
  EXPECT_EQ(config.service_or("queue"), "");
}

// A system that names a history model gets its history checked without writing check_history.
class NamedModelSystem final : public System {
 public:
  SystemInfo info() const override {
    SystemInfo i{"named-model", "", {"default"}, {}};
    i.history_model = "register";
    i.history_init = "0";
    return i;
  }
  void setup(Simulator&, const std::string&) const override {}
};

TEST(HistoryCheck, DerivesFromTheSystemsHistoryModel) {
  NamedModelSystem system;
  // A read of 1 where nothing ever wrote 1: not linearizable as a register starting at 0.
  std::vector<HistoryEntry> history = {
      {0, 1, 0, OpType::kInvoke, "read", nullptr, {}},
      {1, 2, 0, OpType::kOk, "read", 1, {}},
  };
  const auto v = system.check_history(history);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->invariant, "linearizable");
  history[1].value = 0;
  EXPECT_FALSE(system.check_history(history));
}

// Registers keyed by [key value] tuples, keyed with partition_key: the checker moves each op into
// its key's sub-history (and back), as it does the promises model's.
struct KeyedRegisters {
  using State = std::int64_t;
  using Input = std::optional<std::int64_t>;  // a write's value
  using Output = std::int64_t;                // a read's
  State init() const { return 0; }
  nlohmann::json partition_key(const check::Operation& op) const { return op.input[0]; }
  check::Call<Input, Output> compile(const check::Operation& op) const {
    if (op.f == "write") return {op.input[1].get<std::int64_t>(), std::nullopt};
    if (op.unknown()) return {};
    return {std::nullopt, op.output[1].get<std::int64_t>()};
  }
  std::optional<State> step(State s, const Input& write, const std::optional<Output>& read) const {
    if (read && *read != s) return std::nullopt;
    return write ? *write : s;
  }
  std::string describe_state(State s) const { return std::to_string(s); }
};
SEER_REGISTER_MODEL("test-keyed-registers", "registers by [key value]", KeyedRegisters);

// A keyed history with a failed and an unknown operation: the values check_own_history lends the
// checker come back to their entries, whatever the verdict.
std::vector<HistoryEntry> keyed_history(int read_value) {
  const nlohmann::json nil;
  return {
      {0, 1, 0, OpType::kInvoke, "write", {"a", 1}, {}},
      {1, 2, 1, OpType::kInvoke, "write", {"b", 2}, {}},
      {2, 3, 0, OpType::kOk, "write", {"a", 1}, {}},
      {3, 4, 1, OpType::kFail, "write", {"b", 2}, {}},
      {4, 5, 2, OpType::kInvoke, "write", {"b", 3}, {}},
      {5, 6, 0, OpType::kInvoke, "read", {"a", nil}, {}},
      {6, 7, 0, OpType::kOk, "read", {"a", read_value}, {}},
      {7, 8, 2, OpType::kInfo, "write", {"b", 3}, {}},
  };
}

class KvSystem final : public System {
 public:
  SystemInfo info() const override {
    SystemInfo i{"kv-model", "", {"default"}, {}};
    i.history_model = "test-keyed-registers";
    return i;
  }
  void setup(Simulator&, const std::string&) const override {}
};

bool same_values(const std::vector<HistoryEntry>& a, const std::vector<HistoryEntry>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].value != b[i].value) return false;
  }
  return true;
}

TEST(HistoryCheck, OwnHistoryGetsTheSameVerdictAndItsValuesBack) {
  KvSystem system;
  for (const int read : {1, 7}) {  // linearizable, then a read of a value never written
    const auto original = keyed_history(read);
    auto history = original;
    const auto lent = system.check_own_history(history);
    const auto copied = system.check_history(original);
    EXPECT_EQ(lent.has_value(), read != 1);
    ASSERT_EQ(lent.has_value(), copied.has_value());
    if (lent) EXPECT_EQ(lent->message, copied->message);
    EXPECT_TRUE(same_values(history, original));
  }
}

// An override that calls the default check and then reads the history sees it unchanged.
class ReadsAfterTheDefault final : public System {
 public:
  SystemInfo info() const override {
    SystemInfo i{"reads-after", "", {"default"}, {}};
    i.history_model = "test-keyed-registers";
    return i;
  }
  void setup(Simulator&, const std::string&) const override {}
  std::optional<Violation> check_history(const std::vector<HistoryEntry>& history) const override {
    auto v = System::check_history(history);
    seen = history;
    return v;
  }
  mutable std::vector<HistoryEntry> seen;
};

TEST(HistoryCheck, AnOverrideSeesItsOwnHistoryUnchanged) {
  ReadsAfterTheDefault system;
  const auto original = keyed_history(1);
  auto history = original;
  EXPECT_FALSE(system.check_own_history(history));
  EXPECT_TRUE(same_values(system.seen, original));
  EXPECT_TRUE(same_values(history, original));
}

// sim.host and sim.client: a host is crashed and paused by the faults, a client never is, and the
// run ends when the clients return.
Task<void> echo(Env& env) {
  for (;;) {
    const auto m = co_await env.receive();
    env.send(m.from, std::make_shared<Placed>());
  }
}

Task<void> ping(Env& env, ProcessId host, int* returned) {
  for (int i = 0; i < 40; ++i) {
    env.send(host, std::make_shared<Placed>());
    co_await env.receive_for(milliseconds(20));
    co_await env.sleep(milliseconds(20));  // a run long enough for crashes and pauses to come
  }
  ++*returned;
}

TEST(HostAndClient, FaultsHitTheHostOnlyAndTheRunEndsWithTheClients) {
  std::map<std::string, int> crashed;
  std::map<std::string, int> paused;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    RunConfig config;
    config.seed = seed;
    config.faults = std::vector<FaultKind>{FaultKind::kCrash, FaultKind::kPause};
    config.record_trace = true;
    Simulator sim(config);
    int returned = 0;
    const auto host = sim.host("server", [](Env& env) { return echo(env); });
    sim.client("client", [host, &returned](Env& env) { return ping(env, host, &returned); });
    const auto result = sim.run();
    EXPECT_EQ(returned, 1) << "seed " << seed << ": the run ended before its client returned";
    for (const auto& line : result.trace_lines) {
      const auto e = nlohmann::json::parse(line);
      if (e.value("kind", "") == "crash") ++crashed[e.value("process", "")];
      if (e.value("kind", "") == "pause") ++paused[e.value("process", "")];
    }
  }
  EXPECT_GT(crashed["server"], 0);
  EXPECT_GT(paused["server"], 0);
  EXPECT_EQ(crashed.count("client"), 0u);
  EXPECT_EQ(paused.count("client"), 0u);
}

}  // namespace
}  // namespace seer::sim::system_helpers_test
