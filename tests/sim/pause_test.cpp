// Pauses as on a real machine: what arrived during a pause may win over a timeout that passed in it
// (the seed decides), any process may be paused, and a fault's intensity level can be pinned.
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <utility>

namespace seer::sim::pause_test {
namespace {

struct Ping : Payload {
  std::string_view type() const override { return "ping"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};

struct Got {
  bool returned = false;
  bool message = false;
  Time at = 0;
};

// The waiter waits up to 5 ms at t=0; the sender's message arrives at 2.5 ms; the schedule pauses
// the waiter from 1 ms to 11 ms, so both the message and the timeout come in the pause.
Got wait_through_a_pause(bool receive_first) {
  FaultSchedule schedule;
  schedule.pauses.push_back({"waiter", milliseconds(1), milliseconds(10), receive_first});
  RunConfig config;
  config.faults = std::vector<FaultKind>{};
  config.schedule = std::make_shared<const FaultSchedule>(schedule);
  Simulator sim(config);
  auto got = std::make_shared<Got>();
  sim.add_process("waiter",
                  [got](Env& env) -> Task<void> {
                    const auto m = co_await env.receive_for(milliseconds(5));
                    got->returned = true;
                    got->message = m.has_value();
                    got->at = env.now();
                  },
                  {.crashable = false, .client = true, .pausable = true});
  sim.add_process("sender",
                  [](Env& env) -> Task<void> {
                    co_await env.sleep(milliseconds(2));
                    env.send(0, std::make_shared<Ping>());
                  },
                  {.crashable = false});
  EXPECT_TRUE(sim.run().ok());
  return *got;
}

TEST(Pause, AMessageThatArrivedDuringThePauseCanWinOnResume) {
  const auto got = wait_through_a_pause(true);
  EXPECT_TRUE(got.returned);
  EXPECT_TRUE(got.message);
  EXPECT_EQ(got.at, milliseconds(11));
}

TEST(Pause, OrTheTimeoutThatPassedDuringItWins) {
  const auto got = wait_through_a_pause(false);
  EXPECT_TRUE(got.returned);
  EXPECT_FALSE(got.message);
  EXPECT_EQ(got.at, milliseconds(11));
}

// A non-crashable waiter (pausable by its options) that keeps waiting 1 ms, 300 times, for a
// sender's steady stream (one message every 0.3 ms).
void add_waiter_and_sender(Simulator& sim) {
  const auto waiter = sim.add_process("waiter",
                                      [](Env& env) -> Task<void> {
                                        for (int i = 0; i < 300; ++i)
                                          co_await env.receive_for(milliseconds(1));
                                      },
                                      {.crashable = false, .client = true, .pausable = true});
  sim.add_process("sender",
                  [waiter](Env& env) -> Task<void> {
                    for (;;) {
                      env.send(waiter, std::make_shared<Ping>());
                      co_await env.sleep(microseconds(300));
                    }
                  },
                  {.crashable = false});
}

// Seeded runs under the pause fault: pauses longer than the waiter's 1 ms race its timeout against
// a message; across seeds each side wins some, and the winner is what the waiter sees on resume.
TEST(Pause, TheSeedDecidesWhoWinsAndNonCrashableProcessesCanBePaused) {
  int message_first = 0;
  int timeout_first = 0;
  int bystander_paused = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    RunConfig config;
    config.seed = seed;
    config.faults = std::vector<FaultKind>{FaultKind::kPause, FaultKind::kCrash};
    config.record_trace = true;
    Simulator sim(config);
    add_waiter_and_sender(sim);
    const auto r = sim.run();
    ASSERT_TRUE(r.ok()) << r.violation->message;
    std::vector<nlohmann::json> events;
    for (const auto& line : r.trace_lines) events.push_back(nlohmann::json::parse(line));
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      if (e["process"] == "sender" && (e["kind"] == "pause" || e["kind"] == "crash")) {
        ++bystander_paused;  // not crashable, not pausable: never
      }
      if (e["kind"] != "resume" || !e["oracle"].contains("receive_race")) continue;
      ASSERT_EQ(e["process"], "waiter");
      // The waiter's next event: its timer if the timeout won, else what it did with the message.
      std::size_t next = i + 1;
      while (next < events.size() && events[next]["process"] != "waiter") ++next;
      if (next == events.size()) continue;  // the waiter had returned: the run ended there
      const bool timer = events[next]["kind"] == "timer";
      if (e["oracle"]["receive_race"] == "message_first") {
        ++message_first;
        EXPECT_FALSE(timer) << "seed " << seed;
      } else {
        ++timeout_first;
        EXPECT_TRUE(timer) << "seed " << seed;
      }
    }
  }
  EXPECT_GT(message_first, 0);
  EXPECT_GT(timeout_first, 0);
  EXPECT_EQ(bystander_paused, 0);
}

// A recorded run replays to the same trace, race outcomes included.
TEST(Pause, RaceOutcomesAreRecordedAndReplayed) {
  int recorded = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    RunConfig config;
    config.seed = seed;
    config.faults = std::vector<FaultKind>{FaultKind::kPause};
    config.record_schedule = true;
    const auto make = [](RunConfig c) {
      auto sim = std::make_unique<Simulator>(std::move(c));
      add_waiter_and_sender(*sim);
      return sim;
    };
    const auto seeded = make(config)->run();
    ASSERT_TRUE(seeded.schedule);
    for (const auto& p : seeded.schedule->pauses) recorded += p.receive_first ? 1 : 0;
    RunConfig replay = config;
    replay.record_schedule = false;
    replay.schedule = seeded.schedule;
    EXPECT_EQ(make(replay)->run().trace_hash, seeded.trace_hash) << "seed " << seed;
    // The outcome is the schedule's: without it, every race goes to the timeout.
    auto without = std::make_shared<FaultSchedule>(*seeded.schedule);
    bool any = false;
    for (auto& p : without->pauses) any = std::exchange(p.receive_first, false) || any;
    replay.schedule = without;
    if (any) {
      EXPECT_NE(make(replay)->run().trace_hash, seeded.trace_hash) << "seed " << seed;
    }
  }
  EXPECT_GT(recorded, 0);  // some race went to the message
}

TEST(FaultLevel, ParsedFromTheFaultList) {
  std::map<FaultKind, int> levels;
  const auto kinds = FaultProfile::parse_list("clock:3,drop", &levels);
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], FaultKind::kClock);
  EXPECT_EQ(levels.at(FaultKind::kClock), 3);
  EXPECT_EQ(levels.count(FaultKind::kDrop), 0u);
  EXPECT_EQ(FaultProfile::spec_of(FaultKind::kClock, levels), "clock:3");
  EXPECT_EQ(FaultProfile::spec_of(FaultKind::kDrop, levels), "drop");
  EXPECT_THROW(FaultProfile::parse_list("clock:5", &levels), std::invalid_argument);
  EXPECT_THROW(FaultProfile::parse_list("clock:0", &levels), std::invalid_argument);
  EXPECT_THROW(FaultProfile::parse_list("clock:x", &levels), std::invalid_argument);
  EXPECT_THROW(FaultProfile::parse_list("clock:", &levels), std::invalid_argument);
  EXPECT_THROW(FaultProfile::parse_list("clock:3"), std::invalid_argument);  // nowhere to put it
}

// A pinned level is the run's: 150 ms of skew is clock at level 3 (level 2 gives 100 ms).
TEST(FaultLevel, APinnedLevelIsTheRunsAndShowsInItsProfile) {
  RunConfig config;
  config.faults = std::vector<FaultKind>{FaultKind::kClock, FaultKind::kDrop};
  config.fault_levels = {{FaultKind::kClock, 3}};
  Simulator sim(config);
  sim.add_process("client", [](Env& env) -> Task<void> { co_await env.sleep(milliseconds(1)); },
                  {.crashable = false, .client = true});
  const auto r = sim.run();
  EXPECT_EQ(r.profile.clock_skew_max, milliseconds(150));
  EXPECT_EQ(r.profile.drop_ppm, 20'000u);  // the default level, 2
  const auto j = r.profile.to_json();
  EXPECT_EQ(j["levels"]["clock"], 3);
  EXPECT_EQ(j["levels"]["drop"], 2);
}

}  // namespace
}  // namespace seer::sim::pause_test
