// The heal phase and bounded liveness properties: after the clients return, faults stop and what
// they broke comes back; a property that comes true ends the run, one that does not within its
// bound is a liveness violation; --no-heal checks none; the heal is the same in a replay.
#include "builtin_system.hpp"
#include "seer/sim/simulator.hpp"
#include "seer/sim/system.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace seer::sim::liveness_test {
namespace {

// A worker that sets `done` at `done_at` (never, if negative), ticking every 10 ms so there is
// always something left to happen; a client that returns at once.
struct World {
  bool done = false;
  int starts = 0;
  Time started_at = 0;
};

RunConfig quiet(bool heal = true) {
  RunConfig config;
  config.faults = std::vector<FaultKind>{};
  config.heal = heal;
  return config;
}

RunResult run_worker(const RunConfig& config, Duration done_at, Duration bound, bool ticks = true) {
  Simulator sim(config);
  auto world = std::make_shared<World>();
  sim.host("worker", [world, done_at, ticks](Env& env) -> Task<void> {
    if (done_at >= 0) {
      co_await env.sleep(done_at);
      world->done = true;
    }
    while (ticks) co_await env.sleep(milliseconds(10));
  });
  sim.client("client", [](Env&) -> Task<void> { co_return; });
  sim.add_liveness("worker-done", bound, [world]() -> std::optional<std::string> {
    if (world->done) return std::nullopt;
    return std::string("the worker has not finished");
  });
  return sim.run();
}

// run_worker with the property checked in place (add_liveness_update): the check writes its
// finding into the slot once and leaves it there after; `calls` counts the checks.
RunResult run_worker_in_place(Duration done_at, Duration bound, int& calls) {
  Simulator sim(quiet());
  auto world = std::make_shared<World>();
  sim.host("worker", [world, done_at](Env& env) -> Task<void> {
    if (done_at >= 0) {
      co_await env.sleep(done_at);
      world->done = true;
    }
    for (;;) co_await env.sleep(milliseconds(10));
  });
  sim.client("client", [](Env&) -> Task<void> { co_return; });
  sim.add_liveness_update("worker-done", bound, [world, &calls](std::optional<Finding>& awaited) {
    ++calls;
    if (world->done) return true;
    if (!awaited) awaited = Finding{"the worker has not finished", {"w/1"}};
    return false;
  });
  return sim.run();
}

TEST(Liveness, ACheckInPlaceIsTheSamePropertyAndKeepsWhatItLeftInItsSlot) {
  int calls = 0;
  const auto held = run_worker_in_place(milliseconds(300), seconds(1), calls);
  ASSERT_TRUE(held.ok()) << held.violation->message;
  EXPECT_GT(calls, 1);
  const auto same = run_worker(quiet(), milliseconds(300), seconds(1));
  EXPECT_EQ(held.end_time, same.end_time);
  EXPECT_EQ(held.trace_hash, same.trace_hash);  // the same events, held at the same one
  // Never true: the violation reports what the check left in the slot at its first call.
  calls = 0;
  const auto failed = run_worker_in_place(-1, milliseconds(500), calls);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.violation->liveness);
  EXPECT_EQ(failed.violation->time, milliseconds(500));
  EXPECT_NE(failed.violation->message.find("the worker has not finished"), std::string::npos)
      << failed.violation->message;
  EXPECT_EQ(failed.violation->entities, std::vector<std::string>{"w/1"});
  EXPECT_GT(calls, 1);
  const auto same_failed = run_worker(quiet(), -1, milliseconds(500));
  EXPECT_EQ(failed.trace_hash, same_failed.trace_hash);
}

TEST(Liveness, APropertyThatComesTrueAfterTheHealEndsTheRun) {
  const auto r = run_worker(quiet(), milliseconds(300), seconds(1));
  ASSERT_TRUE(r.ok()) << r.violation->message;
  ASSERT_TRUE(r.healed_at.has_value());
  EXPECT_EQ(*r.healed_at, 0);  // the client returned at once
  // The run ended when the worker finished, not at the bound.
  EXPECT_EQ(r.end_time, milliseconds(300));
}

TEST(Liveness, APropertyStillAwaitedAtItsBoundIsALivenessViolation) {
  const auto r = run_worker(quiet(), -1, milliseconds(500));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.violation->liveness);
  EXPECT_EQ(r.violation->invariant, "worker-done");
  EXPECT_EQ(r.violation->time, milliseconds(500));
  EXPECT_NE(r.violation->message.find("the worker has not finished"), std::string::npos)
      << r.violation->message;
  EXPECT_NE(r.violation->message.find("0.500 s"), std::string::npos) << r.violation->message;
  // A bound too short for the worker is a violation too: the bound is the property's.
  const auto late = run_worker(quiet(), milliseconds(800), milliseconds(500));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.violation->time, milliseconds(500));
}

TEST(Liveness, NothingLeftToHappenFailsAtOnce) {
  const auto r = run_worker(quiet(), -1, seconds(5), false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.violation->liveness);
  EXPECT_LT(r.violation->time, seconds(5));
  EXPECT_NE(r.violation->message.find("nothing was left to happen"), std::string::npos)
      << r.violation->message;
}

TEST(Liveness, WithoutTheHealNoPropertyIsChecked) {
  const auto r = run_worker(quiet(false), -1, milliseconds(500));
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.healed_at.has_value());
  EXPECT_EQ(r.end_time, 0);
}

// Under hard crashes, pauses and partitions a worker rarely lives 200 ms; after the heal nothing
// stops it, and the crashed one was restarted at the heal.
// Hard crashes and pauses, partitions, clock skew and drops.
RunConfig hard_faults(std::uint64_t seed) {
  RunConfig config;
  config.seed = seed;
  config.faults =
      std::vector<FaultKind>{FaultKind::kCrash, FaultKind::kPause, FaultKind::kPartition,
                             FaultKind::kClock, FaultKind::kDrop};
  config.fault_levels = {{FaultKind::kCrash, 4}, {FaultKind::kPause, 4}};
  return config;
}

RunResult run_survivor(std::uint64_t seed, std::shared_ptr<const FaultSchedule> schedule = nullptr,
                       bool record = false) {
  auto config = hard_faults(seed);
  config.schedule = std::move(schedule);
  config.record_schedule = record;
  config.record_trace = true;
  Simulator sim(config);
  auto world = std::make_shared<World>();
  sim.host("worker", [world](Env& env) -> Task<void> {
    ++world->starts;
    world->started_at = env.now();
    for (;;) co_await env.sleep(milliseconds(10));
  });
  sim.host("peer", [](Env& env) -> Task<void> {
    for (;;) co_await env.sleep(milliseconds(7));
  });
  sim.client("client", [](Env& env) -> Task<void> { co_await env.sleep(seconds(3)); });
  const auto* simulator = &sim;
  sim.add_liveness("worker-lives-200ms", seconds(2), [world, simulator] {
    const bool lived = simulator->is_up(0) && simulator->healed() &&
                       simulator->true_now() - world->started_at >= milliseconds(200);
    return lived ? std::nullopt : std::optional<std::string>("the worker keeps going down");
  });
  auto r = sim.run();
  EXPECT_GT(world->starts, 1) << "seed " << seed
                              << ": no crash before the heal, the test checks less";
  return r;
}

TEST(Liveness, TheHealStopsFaultsAndBringsBackCrashedProcesses) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto r = run_survivor(seed);
    ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.violation->message;
    ASSERT_TRUE(r.healed_at.has_value());
    // Nothing after the heal is a fault.
    bool after = false;
    for (const auto& line : r.trace_lines) {
      const auto e = nlohmann::json::parse(line);
      if (e.value("kind", "") == "annotation" && e.value("what", "") == "heal") {
        after = true;
        continue;
      }
      if (!after) continue;
      const auto kind = e.value("kind", "");
      EXPECT_TRUE(kind != "crash" && kind != "pause" && kind != "partition" && kind != "drop")
          << "seed " << seed << ": a fault after the heal: " << line;
    }
    EXPECT_TRUE(after) << "seed " << seed << ": no heal event in the trace";
  }
}

TEST(Liveness, AReplayHealsTheSameWay) {
  const auto seeded = run_survivor(3, nullptr, true);
  ASSERT_TRUE(seeded.schedule);
  const auto replayed = run_survivor(3, seeded.schedule);
  EXPECT_EQ(replayed.trace_hash, seeded.trace_hash);
  EXPECT_EQ(replayed.healed_at, seeded.healed_at);
  EXPECT_EQ(run_survivor(3).trace_hash, seeded.trace_hash);  // same seed, same run
}

// Jepsen's final reads: a process the heal starts. It must not change a seed's faults (no clock,
// crash, pause or partition draw counts it), must not run before the heal, and nothing may fault
// it.
struct Number : Payload {
  explicit Number(std::int64_t value) : value(value) {}
  std::int64_t value;
  std::string_view type() const override { return "number"; }
  nlohmann::json to_json() const override { return value; }
};

struct FinalReader {
  bool started_before_heal = false;
  Time started_at = -1;
  Duration clock_error = -1;  // its clock against the true time when it started
  bool read = false;
};

RunResult run_with_final_reader(std::uint64_t seed, bool add_reader, bool heal,
                                std::shared_ptr<FinalReader> reader = nullptr) {
  auto config = hard_faults(seed);
  config.record_trace = true;
  config.heal = heal;
  Simulator sim(config);
  if (!reader) reader = std::make_shared<FinalReader>();
  sim.host("server", [](Env& env) -> Task<void> {
    for (;;) {
      auto m = co_await env.receive_for(milliseconds(5));
      if (m) env.send(m->from, std::make_shared<const Number>(42));
    }
  });
  sim.host("peer", [](Env& env) -> Task<void> {
    for (;;) {
      env.send(0, std::make_shared<const Number>(1));
      co_await env.sleep(milliseconds(7));
    }
  });
  sim.client("client", [](Env& env) -> Task<void> { co_await env.sleep(seconds(3)); });
  const auto* simulator = &sim;
  if (add_reader) {
    sim.add_process("final-reader",
                    [reader, simulator](Env& env) -> Task<void> {
                      reader->started_before_heal = !simulator->healed();
                      reader->started_at = simulator->true_now();
                      reader->clock_error = env.now() - simulator->true_now();
                      for (;;) {
                        env.send(0, std::make_shared<const Number>(0));
                        auto m = co_await env.receive_for(milliseconds(50));
                        if (m && m->as<Number>() && m->as<Number>()->value == 42) break;
                      }
                      reader->read = true;
                    },
                    {.crashable = false, .client = true, .starts_at_heal = true});
  }
  sim.add_liveness("final-read", seconds(1), [reader, add_reader] {
    return !add_reader || reader->read ? std::nullopt
                                       : std::optional<std::string>("no final read yet");
  });
  return sim.run();
}

std::vector<std::string> lines_before_heal(const RunResult& r) {
  std::vector<std::string> lines;
  for (const auto& line : r.trace_lines) {
    if (line.find("\"what\":\"heal\"") != std::string::npos) break;
    lines.push_back(line);
  }
  return lines;
}

TEST(Liveness, AProcessTheHealStartsChangesNoFaultAndRunsOnlyAfterTheHeal) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    // Without the heal it never runs, and the run is the one without it, event for event.
    const auto plain = run_with_final_reader(seed, false, false);
    const auto unhealed = run_with_final_reader(seed, true, false);
    EXPECT_EQ(unhealed.trace_hash, plain.trace_hash) << "seed " << seed;
    EXPECT_EQ(unhealed.trace_lines, plain.trace_lines) << "seed " << seed;

    auto reader = std::make_shared<FinalReader>();
    const auto healed = run_with_final_reader(seed, true, true, reader);
    ASSERT_TRUE(healed.ok()) << "seed " << seed << ": " << healed.violation->message;
    ASSERT_TRUE(healed.healed_at.has_value());
    EXPECT_EQ(lines_before_heal(healed),
              lines_before_heal(run_with_final_reader(seed, false, true)))
        << "seed " << seed << ": the reader changed the run before the heal";
    EXPECT_FALSE(reader->started_before_heal);
    EXPECT_EQ(reader->started_at, *healed.healed_at);
    EXPECT_EQ(reader->clock_error, 0) << "seed " << seed << ": its clock was skewed";
    EXPECT_TRUE(reader->read);
    // The heal names it, and nothing after its start faults it.
    bool starting_named = false;
    for (const auto& line : healed.trace_lines) {
      const auto e = nlohmann::json::parse(line);
      if (e.value("what", "") == "heal") {
        starting_named = e.at("oracle").value("starting", nlohmann::json::array()) ==
                         nlohmann::json::array({"final-reader"});
      }
      const auto kind = e.value("kind", "");
      if (e.value("process", "") == "final-reader") {
        EXPECT_TRUE(kind != "crash" && kind != "pause") << "seed " << seed << ": " << line;
      }
    }
    EXPECT_TRUE(starting_named) << "seed " << seed;
  }
}

// The jobs system's `claim` never runs a job twice, and a consumer crashing between its claim and
// the effect leaves the job never run: safety holds on that seed, liveness fails.
TEST(Liveness, JobsClaimLeavesAJobNeverRunAfterACrash) {
  const auto& jobs = seer::testing::builtin_system("jobs");
  int liveness = 0;
  for (std::uint64_t seed = 1; seed <= 200 && liveness == 0; ++seed) {
    RunConfig config;
    config.seed = seed;
    config.faults = std::vector<FaultKind>{FaultKind::kCrash};
    const auto r = run_system(jobs, "claim", config);
    if (r.ok()) continue;
    ASSERT_TRUE(r.violation->liveness) << "seed " << seed << ": " << r.violation->invariant;
    EXPECT_EQ(r.violation->invariant, "every-job-runs");
    EXPECT_NE(r.violation->message.find("never ran"), std::string::npos) << r.violation->message;
    ++liveness;
    config.heal = false;
    EXPECT_TRUE(run_system(jobs, "claim", config).ok()) << "seed " << seed << " without the heal";
  }
  EXPECT_EQ(liveness, 1) << "no seed of 1..200 left a claimed job never run";
}

}  // namespace
}  // namespace seer::sim::liveness_test
