// The promises design (systems/promises/design): each variant fails the way NOTES.md tells, seer
// explains why, and the final design holds under swarm faults on every store implementation.
#include "../explain/trace_fixture.hpp"
#include "promises/design/messages.hpp"
#include "promises/design/partition.hpp"
#include "promises/design/partition_store.hpp"
#include "promises/design/requests.hpp"
#include "promises/design/server.hpp"
#include "promises/model/parse.hpp"
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/services/kv.hpp"
#include "seer/sim/run_file.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"
#include "variant_holds.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using json = nlohmann::json;
using seer::sim::RunConfig;
using seer::sim::RunResult;

const seer::sim::System& promises() {
  seer::sim::register_builtin_systems();
  return *seer::sim::SystemRegistry::instance().find("promises");
}

RunResult run(const std::string& variant, std::uint64_t seed,
              std::map<std::string, std::string> services = {}) {
  RunConfig c;
  c.seed = seed;
  c.services = std::move(services);
  return seer::sim::run_system(promises(), variant, c);
}

seer::explain::Explanation explain(const std::string& variant, std::uint64_t seed) {
  const auto trace = seer::explain::testing::recorded("promises", variant, seed);
  const seer::explain::CausalGraph graph(trace);
  return seer::explain::explain_trace(trace, graph);
}

// A KV read whose reply carries the writer's decoded partition (partition.hpp) gives the partition
// that decoding the stored value gives: the state, the clock, the revision read.
TEST(PromisesDesign, AReadPartitionFromTheDecodedValueIsTheDecodedOne) {
  using namespace seer::promises;
  State state;
  Promise p;
  p.id = "o1:1";
  p.seq = 1;
  p.param.data = "in";
  p.tags = {{"resonate:target", "workers"}};
  p.timeout_at = 500;
  p.created_at = 100;
  p.callbacks.add("o1");
  state.promises.emplace(p.id, p);
  state.creation_order.push_back(p.id);
  state.tasks.emplace(p.id, Task{p.id, TaskState::acquired, 2, "w1", 300, {}});
  state.task_timeouts.upsert(p.id, {TimeoutKind::lease, 400});
  for (const std::int64_t clock : {std::int64_t{250}, seer::promises::design::kNoClock}) {
    const auto value =
        std::make_shared<const json>(seer::promises::design::encode_partition(state, clock));
    seer::services::KvSharedResult read;
    read.value = value;
    read.revision = 9;
    const auto decoded = seer::promises::design::decode_partition(read);
    read.decoded = std::make_shared<const seer::promises::design::DecodedPartitionValue>(
        std::make_shared<const State>(state), clock);
    const auto taken = seer::promises::design::read_partition(read);
    EXPECT_EQ(decoded.state, state);
    EXPECT_EQ(taken.state, decoded.state);
    EXPECT_EQ(taken.clock, decoded.clock);
    EXPECT_EQ(taken.clock, clock);
    EXPECT_EQ(taken.revision, 9);
    EXPECT_EQ(decoded.revision, 9);
  }
}

// NOTES.md, step 1: a server read its partition from a lagging replica and wrote back the state it
// computed from it, erasing a promise another server had just created. (Seed 2 until the workload
// gained long-lived promises and awaiting workers, issue 22; seed 2 is now the race below.)
TEST(PromisesDesign, NaiveSeed4WritesBackAStaleRead) {
  const auto r = run("naive", 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "settled-once");
  EXPECT_NE(r.violation->message.find("disappeared"), std::string::npos) << r.violation->message;
  const auto x = explain("naive", 4);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_read") << top.summary;
  EXPECT_TRUE(top.facts.contains("decision_event")) << "the stale read led to a write";
  EXPECT_TRUE(top.facts.value("stale", false));
}

// Step 1 too: two servers read the same fresh partition and the second write undid the first.
// (Seed 24 until issue 22's workload change; seed 24 now fails on a clock.)
TEST(PromisesDesign, NaiveSeed2IsARaceBetweenTwoReadModifyWrites) {
  const auto r = run("naive", 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.violation->message.find("disappeared"), std::string::npos) << r.violation->message;
  const auto x = explain("naive", 2);
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, "outdated_read") << x.causes.front().summary;
}

// Step 2: with compare-and-set no write is lost, but a request that changes nothing is answered
// from whatever replica served the read.
TEST(PromisesDesign, CasSeed1AnswersFromAStaleRead) {
  const auto r = run("cas", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "linearizable");
  const auto x = explain("cas", 1);
  ASSERT_TRUE(x.failing_op.is_object());
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_read") << top.summary;
  // The server's read during the failing request, before its answer.
  const auto read = top.events.front();
  EXPECT_GT(read, x.failing_op["invoke_event"].get<std::uint64_t>());
  EXPECT_LT(read, x.failing_op["complete_event"].get<std::uint64_t>());
}

// Step 3: reads validated on the leader, but each server takes `now` from its own clock; one that
// is behind writes a time older than one already stored. (Seed 27 until issue 22's workload
// change; seed 27 now breaks I14 outright, as the seeds below do.)
TEST(PromisesDesign, ValidatedSeed24LetsTimeGoBackwards) {
  const auto r = run("validated", 24);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "linearizable");
  const auto x = explain("validated", 24);
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, "clock_behind") << x.causes.front().summary;
  // Other seeds break the spec's state invariants outright (createdAt or settledAt out of order).
  int invariant_failures = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const auto v = run("validated", seed);
    if (!v.ok() && v.violation->invariant == "state-invariants") {
      ++invariant_failures;
      EXPECT_TRUE(v.violation->message.rfind("I14", 0) == 0 ||
                  v.violation->message.rfind("I2", 0) == 0)
          << v.violation->message;
    }
  }
  EXPECT_GT(invariant_failures, 0);
}

// What fenced connections repair (NOTES.md): the network duplicated a task.create, the server
// executed the first copy and crashed before its reply, and its next life executed the copy too,
// answering 409 "Task already exists" to a client whose first execution held the task. Found as
// seed 28175 of clocked (one in 100,000; kept as runs/clocked_28175.json, whose run no longer
// reproduces since issue 22 changed the workload: every seed is a new run, and no new seed showed
// it in 10,000 of clocked under duplicates and crashes). So the scenario is built here, on a
// schedule: a probe connects to server1 and sends one task.create; the network copies it (the copy
// 10 ms late); server1 crashes after its write took effect and before its reply, and restarts.
// Messages take 0.5 ms each, so: connect 0-1 ms, request at 1.5, read 2-2.5, write applied at 3,
// reply due at 3.5: the crash is at 3.2.
struct Probed {
  std::vector<json> answers;  // to the task.create, in order; "reset" for a ConnectionReset
  std::string holder;         // the task's pid in the store at the end
};

seer::sim::Task<void> create_probe(seer::sim::Env& env, seer::sim::ProcessId server, Probed& out) {
  env.send(server, std::make_shared<seer::promises::design::ConnectRequest>(1));
  std::uint64_t life = 0;
  for (;;) {
    auto m = co_await env.receive_for(seer::sim::milliseconds(50));
    if (!m) co_return;
    if (const auto* c = m->as<seer::promises::design::ConnectReply>()) {
      life = c->life;
      break;
    }
  }
  const auto create = seer::promises::design::task_create(
      "probe", 10'000,
      seer::promises::design::promise_create("o1", seer::promises::design::kEpochMs + 3'600'000,
                                             {{"resonate:target", "poll://any@workers"}}));
  env.send(server, std::make_shared<seer::promises::design::ProtocolRequest>(2, create, life));
  for (;;) {
    auto m = co_await env.receive_for(seer::sim::milliseconds(100));
    if (!m) co_return;
    if (const auto* reply = m->as<seer::promises::design::ProtocolResponse>()) {
      out.answers.push_back(reply->response);
    } else if (m->as<seer::promises::design::ConnectionReset>()) {
      out.answers.push_back("reset");
    }
  }
}

Probed duplicated_create_across_a_restart(const std::string& variant) {
  auto schedule = std::make_shared<seer::sim::FaultSchedule>();
  schedule->duplicates.push_back({"probe", "server1", 1, seer::sim::milliseconds(10)});
  schedule->crashes.push_back(
      {"server1", seer::sim::microseconds(3'200), seer::sim::milliseconds(1)});
  RunConfig config;
  config.seed = 1;
  config.schedule = schedule;
  seer::sim::Simulator sim(config);
  const auto kv =
      seer::services::add_kv_service(sim, "kv", seer::services::kv_config("linearizable"));
  auto deployment = std::make_shared<seer::promises::design::Deployment>();
  deployment->kv = kv.process;
  const auto& v = seer::promises::design::variant_named(variant);
  deployment->fenced_connections = v.fenced_connections;
  seer::promises::design::ServerConfig server_config{
      v, deployment, &sim.history(), std::make_shared<seer::promises::design::HistoryIds>()};
  server_config.sweep_every = 0;
  server_config.make_store = seer::promises::design::simulated_store(v, deployment);
  const auto server = sim.add_process("server1", [server_config](seer::sim::Env& env) {
    return seer::promises::design::run_server(env, server_config);
  });
  deployment->servers.push_back(server);
  Probed out;
  sim.add_process("probe", [&](seer::sim::Env& env) { return create_probe(env, server, out); },
                  {.crashable = false, .client = true});
  const auto result = sim.run();
  EXPECT_TRUE(result.ok()) << result.violation->message;
  const auto stored = kv.truth->latest("p/o1");
  if (!stored.exists) return out;
  const auto state =
      seer::promises::design::decode_state(stored.encoded());  // the design defers its encoding
  const auto task = state.tasks.find("o1");
  if (task != state.tasks.end()) out.holder = task->second.pid.value_or("");
  return out;
}

TEST(PromisesDesign, ClockedExecutesADuplicatedTaskCreateAgainAfterARestart) {
  const auto clocked = duplicated_create_across_a_restart("clocked");
  // The first execution took effect: the probe holds the task ...
  EXPECT_EQ(clocked.holder, "probe");
  // ... and the only answer it got is the second execution's.
  ASSERT_EQ(clocked.answers.size(), 1u);
  EXPECT_EQ(clocked.answers[0]["head"]["status"], 409) << clocked.answers[0].dump();
  EXPECT_NE(clocked.answers[0].dump().find("Task already exists"), std::string::npos);
  // final refuses the copy, sent to the server's earlier life: the probe learns nothing wrong.
  const auto final_run = duplicated_create_across_a_restart("final");
  EXPECT_EQ(final_run.holder, "probe");
  ASSERT_EQ(final_run.answers.size(), 1u);
  EXPECT_EQ(final_run.answers[0], "reset");
}

// Regression (seed 6): client2 returned, then crashed; the heal restarted it, it returned at once
// and the count of running clients went below zero, so the run never ended (run-completes at the
// time limit). A client that returned stays down at the heal; the sweeps then time out what is due.
// Since issue 22's workload change seed 6 no longer has a client down at the heal; seed 12 has
// client1 down (it returned, then crashed).
TEST(PromisesDesign, FinalSeed12EndsAfterTheHealThoughAReturnedClientHadCrashed) {
  seer::sim::RunConfig c;
  c.seed = 12;
  c.record_trace = true;
  const auto r = seer::sim::run_system(promises(), "final", c);
  ASSERT_TRUE(r.ok()) << r.violation->invariant << ": " << r.violation->message;
  ASSERT_TRUE(r.healed_at.has_value());
  EXPECT_LT(r.end_time, *r.healed_at + seer::sim::seconds(2));
  bool heal_seen = false;
  for (const auto& line : r.trace_lines) {
    const auto e = json::parse(line);
    if (e.value("what", "") != "heal") continue;
    heal_seen = true;
    for (const auto& name : e["oracle"]["restarting"]) EXPECT_NE(name, "client1");
  }
  EXPECT_TRUE(heal_seen);
  // The scenario is there: client1's last crash before the heal has no restart after it.
  std::string last;
  for (const auto& line : r.trace_lines) {
    const auto e = json::parse(line);
    if (e.value("what", "") == "heal") break;
    if (e.value("process", "") == "client1" &&
        (e.value("kind", "") == "crash" || e.value("kind", "") == "restart")) {
      last = e.value("kind", "");
    }
  }
  EXPECT_EQ(last, "crash");
}

// A progress bug the safety checks cannot see: dirty-sweep never breaks an invariant or the
// history, but leaves due targeted promises pending; only the heal's timeouts-settle catches it.
TEST(PromisesDesign, DirtySweepIsSafeButLeavesDueTimeoutsPending) {
  if (seer::testing::kSanitized) GTEST_SKIP() << seer::testing::kAcrossSeedsOnly;
  int stuck = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const auto r = run("dirty-sweep", seed);
    if (r.ok()) continue;
    EXPECT_TRUE(r.violation->liveness) << "seed " << seed << ": " << r.violation->invariant;
    // The sweep that forgets an origin forgets its timeouts, its expired leases and its tasks'
    // retries alike.
    EXPECT_TRUE(r.violation->invariant == "timeouts-settle" ||
                r.violation->invariant == "leases-expire" ||
                r.violation->invariant == "tasks-progress")
        << r.violation->invariant;
    ++stuck;
    RunConfig c;
    c.seed = seed;
    c.heal = false;
    EXPECT_TRUE(seer::sim::run_system(promises(), "dirty-sweep", c).ok()) << "seed " << seed;
  }
  EXPECT_GE(stuck, 5);
}

// A liveness violation of `variant` on `seed` that the safety checks do not see: with the heal off
// the same run passes.
seer::sim::Violation stuck_but_safe(const std::string& variant, std::uint64_t seed) {
  const auto r = run(variant, seed);
  EXPECT_FALSE(r.ok()) << variant << " seed " << seed;
  if (r.ok()) return {};
  EXPECT_TRUE(r.violation->liveness) << r.violation->invariant << ": " << r.violation->message;
  RunConfig c;
  c.seed = seed;
  c.heal = false;
  EXPECT_TRUE(seer::sim::run_system(promises(), variant, c).ok()) << variant << " seed " << seed;
  return *r.violation;
}

// Another progress bug (issue 22): a worker whose call on its task got no answer keeps
// heartbeating the task. Its lease never expires and the task's promise is a long-lived one, so
// neither timeouts-settle nor leases-expire has anything to say; only tasks-progress does. Seeds
// 127, 129, 141 and 240 fail of 1..300; 129 is pinned as the cheapest to check (the others run 2 to
// 5 s: half a minute of heartbeats in the history).
TEST(PromisesDesign, StickyWorkerIsSafeButLeavesTasksAcquiredForever) {
  for (const std::uint64_t seed : {129}) {
    const auto v = stuck_but_safe("sticky-worker", seed);
    EXPECT_EQ(v.invariant, "tasks-progress") << "seed " << seed << ": " << v.message;
    EXPECT_NE(v.message.find("is still acquired"), std::string::npos) << v.message;
    ASSERT_EQ(v.entities.size(), 1u);
    EXPECT_NE(v.message.find("task " + v.entities.front() + " "), std::string::npos) << v.message;
    EXPECT_TRUE(run("final", seed).ok()) << "seed " << seed;
  }
}

// What explain says of a sticky worker (issue 22): the property waited for a task its worker
// still held; the worker's last operation on it before its heartbeats got no answer, and it
// renewed the task instead of finishing or releasing it. That story (kept_alive) is the top cause,
// the worker's own, ahead of the clock skews and stale copies the servers' writes show (clock_ahead
// ranked first on seed 129). Seed 129 fails at a task.fulfill (a connection reset), 127 at a
// task.fence (a timeout), after which the worker also works on the origin's other tasks.
TEST(PromisesDesign, StickyWorkerExplainsAsAHolderThatKeptTheTaskAlive) {
  if (seer::testing::kSanitized) GTEST_SKIP() << seer::testing::kAcrossSeedsOnly;
  for (const std::uint64_t seed : {127, 129}) {
    const auto x = explain("sticky-worker", seed);
    ASSERT_TRUE(x.stuck.is_object()) << "seed " << seed;
    EXPECT_EQ(x.stuck["pattern"], "kept_alive") << "seed " << seed;
    const auto& kept = x.stuck["kept_alive"];
    ASSERT_TRUE(kept.is_object()) << "seed " << seed;
    EXPECT_EQ(kept["renewal"]["f"], "task.heartbeat") << "seed " << seed;
    EXPECT_GE(kept["renewal"]["count"].get<std::size_t>(), 2u);
    EXPECT_NE(kept["attempt"].value("type", ""), "ok") << "seed " << seed;
    // The message names the holder; the analysis found the same one.
    const auto holder = kept["process"].get<std::string>();
    EXPECT_NE(x.violation.value("message", "").find("by " + holder), std::string::npos)
        << x.violation.dump();
    // It starts from the unanswered operation's end, and that is the top cause, the holder's.
    ASSERT_FALSE(x.causes.empty());
    const auto& top = x.causes.front();
    EXPECT_EQ(top.kind, "kept_alive") << "seed " << seed << ": " << top.summary;
    EXPECT_EQ(top.process, holder);
    EXPECT_EQ(x.anchors.front(), x.stuck["last_progress"]["event"].get<std::uint64_t>());
    for (const auto& c : x.causes) {
      if (c.kind == "clock_ahead" || c.kind == "clock_behind") {
        EXPECT_LT(c.score, top.score);
      }
    }
  }
}

// dirty-sweep's runs where the server that last wrote the stuck promise's origin crashed: its
// sweep marks died with it, so no sweep ever visits the origin again. The crash is the top cause
// (it ranked fifth on seed 10, behind stale listings of servers that never had the origin to
// sweep). Of seeds 1..40, these are the holder_crashed ones.
TEST(PromisesDesign, DirtySweepExplainsACrashedHolderFirst) {
  if (seer::testing::kSanitized) GTEST_SKIP() << seer::testing::kAcrossSeedsOnly;
  for (const std::uint64_t seed : {6, 7, 10, 12, 17, 21, 22, 25, 28, 31, 36, 39}) {
    const auto x = explain("dirty-sweep", seed);
    ASSERT_TRUE(x.stuck.is_object()) << "seed " << seed;
    ASSERT_EQ(x.stuck["pattern"], "holder_crashed") << "seed " << seed;
    const auto holder = x.stuck["holder"]["process"].get<std::string>();
    EXPECT_EQ(holder.rfind("server", 0), 0u) << holder;
    ASSERT_FALSE(x.causes.empty());
    const auto& top = x.causes.front();
    EXPECT_EQ(top.kind, "crash_lost_data") << "seed " << seed << ": " << top.summary;
    EXPECT_EQ(top.process, holder) << "seed " << seed;
    EXPECT_EQ(top.facts.value("crash", std::uint64_t{0}),
              x.stuck["holder"]["crashed_at"].get<std::uint64_t>());
  }
}

// dirty-sweep's other stuck runs, with no crash: the server that last swept the stuck promise's
// origin found nothing due there and dropped the origin from its sweeps, which no event shows; it
// went on listing the partitions (the origin among them) and sweeping the others. Explain derives
// the forgetting from those visits that stop (pattern forgotten) and ranks it first, ahead of the
// stale reads and stale copies that led before (seeds 3, 9, 14, 20, 24, 33, 40 of the 14
// no-crash seeds in 1..40: each property and each earlier pattern; 33 forgot after the heal).
TEST(PromisesDesign, DirtySweepExplainsAForgottenOriginFirst) {
  if (seer::testing::kSanitized) GTEST_SKIP() << seer::testing::kAcrossSeedsOnly;
  for (const std::uint64_t seed : {3, 9, 14, 20, 24, 33, 40}) {
    const auto trace = seer::explain::testing::recorded("promises", "dirty-sweep", seed);
    const seer::explain::CausalGraph graph(trace);
    const auto x = seer::explain::explain_trace(trace, graph);
    ASSERT_TRUE(x.stuck.is_object()) << "seed " << seed;
    ASSERT_EQ(x.stuck["pattern"], "forgotten") << "seed " << seed;
    const auto& forgot = x.stuck["forgotten"];
    const auto server = forgot["process"].get<std::string>();
    EXPECT_EQ(server.rfind("server", 0), 0u) << server;
    // The key is the stuck promise's origin's partition, and the last visit a read of it.
    const auto entity = x.stuck["entity"].get<std::string>();
    const auto key = "p/" + entity.substr(0, entity.find(':'));
    EXPECT_EQ(forgot["key"], key) << "seed " << seed;
    const auto last = forgot["last_visit"].get<std::uint64_t>();
    const auto& visit = trace.at(last).line;
    EXPECT_EQ(visit["process"], server);
    EXPECT_EQ(visit["payload"]["op"], "get") << visit.dump();
    EXPECT_EQ(visit["payload"]["key"], key) << visit.dump();
    EXPECT_GE(forgot["listings"].get<std::size_t>(), 2u);
    ASSERT_FALSE(x.causes.empty());
    const auto& top = x.causes.front();
    EXPECT_EQ(top.kind, "forgotten_sweep") << "seed " << seed << ": " << top.summary;
    EXPECT_EQ(top.process, server) << "seed " << seed;
    EXPECT_EQ(top.events.front(), last);
  }
}

// And one on the listeners' side (spec §7): an application that registers its listener once and
// never again waits forever when the one unblock was lost; final's re-registration makes up for
// it. Seeds 67, 119 and 122 are the first of 9 failing in 1..300.
TEST(PromisesDesign, ListenOnceIsSafeButLeavesApplicationsWaiting) {
  for (const std::uint64_t seed : {67, 119, 122}) {
    const auto v = stuck_but_safe("listen-once", seed);
    EXPECT_EQ(v.invariant, "listeners-learn") << "seed " << seed << ": " << v.message;
    ASSERT_EQ(v.entities.size(), 1u);
    EXPECT_NE(v.message.find("still awaits promise " + v.entities.front() + ","), std::string::npos)
        << v.message;
    EXPECT_TRUE(run("final", seed).ok()) << "seed " << seed;
  }
}

TEST(PromisesDesign, EveryVariantButFinalFailsWithinTheFirstSeeds) {
  if (seer::testing::kSanitized) GTEST_SKIP() << seer::testing::kAcrossSeedsOnly;
  for (const char* variant : {"naive", "cas", "validated"}) {
    int failing = 0;
    for (std::uint64_t seed = 1; seed <= 50; ++seed) failing += run(variant, seed).ok() ? 0 : 1;
    EXPECT_GE(failing, 10) << variant;
  }
}

TEST(PromisesDesign, FinalHoldsUnderSwarmFaults) {
  seer::testing::expect_holds(promises(), "final", seer::testing::sweep_seeds(2000, 100));
}

TEST(PromisesDesign, FinalHoldsOnEveryStoreImplementation) {
  for (const char* impl : {"linearizable", "stale-bounded"}) {
    seer::testing::expect_holds(promises(), "final", seer::testing::sweep_seeds(200),
                                {{"kv", impl}});
  }
}

// The concrete SQL (concrete/README.md) under the same sweep: the statements the production server
// runs, on an in-memory SQLite per simulated database, with crashes dropping uncommitted work.
TEST(PromisesDesign, FinalOnTheConcreteSqlHoldsUnderSwarmFaults) {
  seer::testing::expect_holds(promises(), "final-sql", seer::testing::sweep_seeds(500));
}

// Seed 9745 (found by the 20,000-seed final-sql sweep): task o1:2's execute was lost before the
// heal, came back with the 30 s retry, and the workload's application then dropped or released
// the task seven runs in a row; it was done 2.0 s after the retry, past the old 2 s slack. Not a
// design bug: tasks-progress allows 5 s after the retry.
TEST(PromisesDesign, FinalSqlSeed9745ATaskTheApplicationDroppedSevenTimesHolds) {
  const auto r = run("final-sql", 9745);
  EXPECT_TRUE(r.ok()) << r.violation->invariant << ": " << r.violation->message;
  ASSERT_TRUE(r.healed_at.has_value());
  EXPECT_GT(r.end_time - *r.healed_at, seer::sim::seconds(32));  // it needed more than 30 s + 2 s
}

// The workload reaches what the design is about: tasks acquired, suspended and resumed, leases
// released by sweeps, promises timed out, listeners registered.
TEST(PromisesDesign, TheWorkloadExercisesTheProtocol) {
  if (seer::testing::kSanitized) GTEST_SKIP() << seer::testing::kAcrossSeedsOnly;
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    for (const auto& e : run("final", seed).history) {
      if (e.type != seer::sim::OpType::kOk) continue;
      const auto status = e.value.value("status", 0);
      std::string what = e.f + " " + std::to_string(status);
      const auto& data = e.value["data"];
      if (data.is_object() && data.contains("task")) what += " " + data["task"].value("state", "");
      if (data.is_object() && data.contains("promise"))
        what += " " + data["promise"].value("state", "");
      seen.insert(what);
    }
  }
  for (const char* expected :
       {"task.acquire 200 acquired pending", "task.suspend 200", "task.suspend 300",
        "task.fulfill 200 resolved", "task.release 200", "task.heartbeat 200",
        "promise.get 200 rejected_timedout", "promise.register_listener 200 pending",
        "promise.register_callback 200 pending", "debug.tick 200",
        "task.create 200 acquired pending", "task.fence 200", "task.get 200 acquired"}) {
    EXPECT_TRUE(seen.count(expected)) << "never saw " << expected;
  }
}

TEST(PromisesDesign, SameSeedSameTrace) {
  for (const char* variant : {"final", "final-sql"}) {
    seer::testing::expect_same_trace(promises(), variant, seer::testing::sweep_seeds(20));
  }
}

// A probe that sends each request to one server and keeps the answers.
seer::sim::Task<void> probe(seer::sim::Env& env, seer::sim::ProcessId server,
                            std::vector<json> requests, std::vector<json>& answers) {
  std::uint64_t call = 1;
  for (auto& request : requests) {
    env.send(server, std::make_shared<seer::promises::design::ProtocolRequest>(call, request));
    for (;;) {
      auto m = co_await env.receive_for(seer::sim::milliseconds(500));
      if (!m) {
        answers.push_back(nullptr);
        break;
      }
      const auto* reply = m->as<seer::promises::design::ProtocolResponse>();
      if (reply && reply->call == call) {
        answers.push_back(reply->response);
        break;
      }
    }
    ++call;
  }
}

// A probe that sends each request with its parse given (ProtocolRequest::parsed, as
// seer-resonate's front end sends them) and keeps the answers.
seer::sim::Task<void> parsed_probe(
    seer::sim::Env& env, seer::sim::ProcessId server,
    std::vector<std::pair<json, std::shared_ptr<const seer::promises::Request>>> requests,
    std::vector<json>& answers) {
  std::uint64_t call = 1;
  for (auto& [request, parsed] : requests) {
    env.send(server,
             std::make_shared<seer::promises::design::ProtocolRequest>(call, request, parsed));
    for (;;) {
      auto m = co_await env.receive_for(seer::sim::milliseconds(500));
      if (!m) {
        answers.push_back(nullptr);
        break;
      }
      const auto* reply = m->as<seer::promises::design::ProtocolResponse>();
      if (reply && reply->call == call) {
        answers.push_back(reply->response);
        break;
      }
    }
    ++call;
  }
}

std::shared_ptr<const seer::promises::Request> parsed(const json& request) {
  auto p = seer::promises::parse_request(request);
  return std::make_shared<const seer::promises::Request>(
      std::move(std::get<seer::promises::Request>(p)));
}

TEST(PromisesDesign, TheServerTakesAParseItIsGivenAndDoesNotParseAgain) {
  const json head = {{"corrId", "c"}, {"version", "v"}};
  const json create = {{"kind", "promise.create"},
                       {"head", head},
                       {"data",
                        {{"id", "a"},
                         {"timeoutAt", 1'800'000'000'000},
                         {"param", {{"headers", json::object()}, {"data", "cA=="}}},
                         {"tags", json::object()}}}};
  const json get = {{"kind", "promise.get"}, {"head", head}, {"data", {{"id", "a"}}}};
  // The JSON alone would be a 400; the parse given is of `get`, which the server answers.
  const json garbage = "not an envelope";
  std::vector<std::pair<json, std::shared_ptr<const seer::promises::Request>>> requests = {
      {create, parsed(create)}, {get, parsed(get)}, {garbage, parsed(get)}, {garbage, nullptr}};

  RunConfig config;
  config.seed = 1;
  config.faults = std::vector<seer::sim::FaultKind>{};
  seer::sim::Simulator sim(config);
  const auto kv =
      seer::services::add_kv_service(sim, "kv", seer::services::kv_config("linearizable"));
  auto deployment = std::make_shared<seer::promises::design::Deployment>();
  deployment->kv = kv.process;
  seer::promises::design::ServerConfig server_config{
      seer::promises::design::variant_named("final"), deployment, &sim.history(),
      std::make_shared<seer::promises::design::HistoryIds>()};
  server_config.sweep_every = 0;
  server_config.make_store =
      seer::promises::design::simulated_store(server_config.variant, deployment);
  const auto server = sim.add_process("server1", [server_config](seer::sim::Env& env) {
    return seer::promises::design::run_server(env, server_config);
  });
  deployment->servers.push_back(server);
  std::vector<json> answers;
  sim.add_process("probe",
                  [&](seer::sim::Env& env) { return parsed_probe(env, server, requests, answers); },
                  {.crashable = false, .client = true});
  const auto result = sim.run();
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0]["head"]["status"], 200) << answers[0].dump();
  EXPECT_EQ(answers[1]["head"]["status"], 200) << answers[1].dump();
  EXPECT_EQ(answers[1]["data"]["promise"]["id"], "a");
  EXPECT_EQ(answers[2], answers[1]);  // answered from the parse, not from the JSON
  EXPECT_EQ(answers[3]["head"]["status"], 400) << answers[3].dump();  // no parse: parsed here
  EXPECT_EQ(kv.truth->revision(), 1);                                 // the create, once
}

TEST(PromisesDesign, MalformedRequestsGet400AndTouchNothing) {
  const json head = {{"corrId", "c"}, {"version", "v"}};
  const std::vector<json> malformed = {
      "not an envelope",
      json::array({1, 2}),
      {{"kind", "promise.explode"}, {"head", head}, {"data", json::object()}},
      {{"kind", "promise.create"},
       {"head", head},
       {"data", {{"id", "a"}, {"param", json::object()}, {"tags", json::object()}}}},
      {{"kind", "promise.get"}, {"head", head}, {"data", {{"id", 42}}}},
      {{"kind", "promise.get"}, {"head", {{"version", "v"}}}, {"data", {{"id", "a"}}}},
      {{"kind", "promise.settle"},
       {"head", head},
       {"data", {{"id", "a"}, {"state", "pending"}, {"value", json::object()}}}},
      {{"kind", "promise.register_callback"},
       {"head", head},
       {"data", {{"awaited", "a"}, {"awaiter", "a"}}}},
      {{"kind", "debug.reset"}, {"head", head}, {"data", json::object()}},
      {{"kind", "promise.register_callback"},
       {"head", head},
       {"data", {{"awaited", "a:1"}, {"awaiter", "b"}}}},
  };
  std::vector<json> requests = malformed;
  // A well-formed request, so the test can tell 400 from any answer.
  requests.push_back({{"kind", "promise.get"}, {"head", head}, {"data", {{"id", "a"}}}});

  RunConfig config;
  config.seed = 1;
  config.faults = std::vector<seer::sim::FaultKind>{};
  seer::sim::Simulator sim(config);
  const auto kv = seer::services::add_kv_service(sim, "kv", seer::services::kv_config("stale"));
  auto deployment = std::make_shared<seer::promises::design::Deployment>();
  deployment->kv = kv.process;
  seer::promises::design::ServerConfig server_config{
      seer::promises::design::variant_named("final"), deployment, &sim.history(),
      std::make_shared<seer::promises::design::HistoryIds>()};
  server_config.make_store =
      seer::promises::design::simulated_store(server_config.variant, deployment);
  const auto server = sim.add_process("server1", [server_config](seer::sim::Env& env) {
    return seer::promises::design::run_server(env, server_config);
  });
  deployment->servers.push_back(server);
  std::vector<json> answers;
  sim.add_process("probe",
                  [&](seer::sim::Env& env) { return probe(env, server, requests, answers); },
                  {.crashable = false, .client = true});
  const auto result = sim.run();
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(answers.size(), requests.size());
  for (std::size_t i = 0; i < malformed.size(); ++i) {
    ASSERT_TRUE(answers[i].is_object()) << "no answer to " << malformed[i].dump();
    EXPECT_EQ(answers[i]["head"]["status"], 400)
        << malformed[i].dump() << " -> " << answers[i].dump();
    EXPECT_TRUE(answers[i]["data"].is_string() && !answers[i]["data"].get<std::string>().empty());
  }
  EXPECT_EQ(answers.back()["head"]["status"], 404);
  EXPECT_EQ(kv.truth->revision(), 0) << "a rejected request wrote the store";
}

}  // namespace
