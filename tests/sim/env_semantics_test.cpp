// The Env contract as processes see it: messages, timeouts, sleeping, durable storage, crash
// semantics.
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

namespace seer::sim {
namespace {

struct Text : Payload {
  explicit Text(std::string s) : text(std::move(s)) {}
  std::string text;
  std::string_view type() const override { return "text"; }
  nlohmann::json to_json() const override { return {{"text", text}}; }
};

RunConfig quiet(std::uint64_t seed = 1) {
  RunConfig c;
  c.seed = seed;
  c.faults = std::vector<FaultKind>{};
  c.record_trace = true;
  return c;
}

TEST(EnvSemantics, PingPongDeliversInOrderWithLatency) {
  Simulator sim(quiet());
  std::vector<std::string> got;
  Time received_at = -1;
  ProcessId ponger = sim.add_process("ponger", [](Env& env) -> Task<void> {
    for (;;) {
      auto m = co_await env.receive();
      env.send(m.from, make_payload<Text>("pong:" + m.as<Text>()->text));
    }
  });
  sim.add_process("pinger",
                  [&, ponger](Env& env) -> Task<void> {
                    for (int i = 0; i < 3; ++i) {
                      env.send(ponger, make_payload<Text>(std::to_string(i)));
                      auto m = co_await env.receive();
                      got.push_back(m.as<Text>()->text);
                      received_at = env.now();
                    }
                  },
                  {.crashable = false, .client = true});
  auto r = sim.run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(got, (std::vector<std::string>{"pong:0", "pong:1", "pong:2"}));
  EXPECT_EQ(r.delivered, 6u);
  EXPECT_GT(received_at, 0);  // messages take time
}

TEST(EnvSemantics, ReceiveForTimesOutAndSleepAdvancesTime) {
  Simulator sim(quiet());
  Time before = 0, after_timeout = 0, after_sleep = 0;
  bool timed_out = false;
  sim.add_process("loner",
                  [&](Env& env) -> Task<void> {
                    before = env.now();
                    auto m = co_await env.receive_for(milliseconds(10));
                    timed_out = !m.has_value();
                    after_timeout = env.now();
                    co_await env.sleep(milliseconds(5));
                    after_sleep = env.now();
                  },
                  {.crashable = false, .client = true});
  ASSERT_TRUE(sim.run().ok());
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(after_timeout - before, milliseconds(10));
  EXPECT_EQ(after_sleep - after_timeout, milliseconds(5));
}

TEST(EnvSemantics, StorageReadsOwnWritesAndSyncMakesDurable) {
  Simulator sim(quiet());
  std::optional<std::string> read_back;
  ProcessId writer = sim.add_process("writer",
                                     [&](Env& env) -> Task<void> {
                                       env.storage().put("a", "1");
                                       read_back = env.storage().get("a");
                                       co_await env.sync();
                                       env.storage().put("b", "2");
                                     },
                                     {.crashable = false, .client = true});
  ASSERT_TRUE(sim.run().ok());
  EXPECT_EQ(read_back, "1");
  auto disk = sim.disk(writer);
  EXPECT_EQ(disk.durable->count("a"), 1u);
  EXPECT_EQ(disk.durable->count("b"), 0u);  // never synced
  EXPECT_EQ(disk.current("b"), "2");
}

TEST(EnvSemantics, UncaughtExceptionIsAViolation) {
  Simulator sim(quiet());
  sim.add_process("thrower",
                  [](Env&) -> Task<void> {
                    throw std::runtime_error("boom");
                    co_return;
                  },
                  {.crashable = false, .client = true});
  auto r = sim.run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "no-uncaught-exception");
  EXPECT_NE(r.violation->message.find("boom"), std::string::npos);
}

TEST(EnvSemantics, InvariantIsCheckedAfterEachStep) {
  Simulator sim(quiet());
  int counter = 0;
  sim.add_process("counter",
                  [&](Env& env) -> Task<void> {
                    for (int i = 0; i < 10; ++i) {
                      ++counter;
                      co_await env.sleep(milliseconds(1));
                    }
                  },
                  {.crashable = false, .client = true});
  sim.add_invariant("below-five", [&]() -> std::optional<std::string> {
    if (counter < 5) return std::nullopt;
    return "counter reached " + std::to_string(counter);
  });
  auto r = sim.run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "below-five");
  EXPECT_EQ(r.violation->message, "counter reached 5");  // caught at the first bad step, not later
}

TEST(EnvSemantics, CrashLosesVolatileStateAndUnsyncedWritesButKeepsSynced) {
  // Crash-only profile; the process counts restarts in durable storage and keeps an unsynced
  // marker.
  RunConfig c = quiet(3);
  c.faults = std::vector<FaultKind>{FaultKind::kCrash};
  Simulator sim(c);
  int starts = 0;
  int max_volatile = 0;
  ProcessId victim = sim.add_process("victim", [&](Env& env) -> Task<void> {
    ++starts;
    int volatile_ticks = 0;  // lives in the coroutine frame: must restart from zero
    auto boots = env.storage().get("boots");
    env.storage().put("boots", std::to_string(boots ? std::stoi(*boots) + 1 : 1));
    co_await env.sync();
    env.storage().put("unsynced", "x");
    for (;;) {
      ++volatile_ticks;
      max_volatile = std::max(max_volatile, volatile_ticks);
      co_await env.sleep(milliseconds(1));
    }
  });
  sim.add_process("clock", [](Env& env) -> Task<void> { co_await env.sleep(seconds(5)); },
                  {.crashable = false, .client = true});
  auto r = sim.run();
  ASSERT_TRUE(r.ok());
  ASSERT_GT(starts, 1) << "the crash fault should have hit in 5s";
  auto disk = sim.disk(victim);
  EXPECT_EQ(disk.durable->at("boots"), std::to_string(starts));
  EXPECT_LT(max_volatile, 5000);  // counting restarted after crashes
  bool saw_lost_unsynced = false;
  for (const auto& line : r.trace_lines) {
    auto j = nlohmann::json::parse(line);
    if (j["kind"] == "crash" && !j["oracle"]["lost_unsynced_writes"].empty()) {
      EXPECT_EQ(j["oracle"]["lost_unsynced_writes"][0]["key"], "unsynced");
      saw_lost_unsynced = true;
    }
  }
  EXPECT_TRUE(saw_lost_unsynced);
}

TEST(EnvSemantics, ClockSkewGivesProcessesDifferentLocalTimes) {
  RunConfig c = quiet(9);
  c.faults = std::vector<FaultKind>{FaultKind::kClock};
  Simulator sim(c);
  std::vector<Time> seen(4);
  for (int i = 0; i < 4; ++i) {
    sim.add_process("p" + std::to_string(i),
                    [&seen, i](Env& env) -> Task<void> {
                      co_await env.sleep(milliseconds(100));
                      seen[i] = env.now();
                    },
                    {.crashable = false, .client = true});
  }
  ASSERT_TRUE(sim.run().ok());
  std::sort(seen.begin(), seen.end());
  EXPECT_NE(seen.front(), seen.back()) << "skewed clocks should disagree";
}

}  // namespace
}  // namespace seer::sim
