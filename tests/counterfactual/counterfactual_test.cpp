// seer explain --verify: the deviations a cause's events show are the schedule's entries for those
// very events, and re-running without them says whether the failure needed them.
#include "seer/counterfactual/counterfactual.hpp"

#include "deviations.hpp"
#include "seer/explain/causal_graph.hpp"
#include "seer/sim/run_file.hpp"
#include "seer/sim/trace.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::counterfactual {
namespace {

using explain::EventKind;

struct Recorded {
  const sim::System* system = nullptr;
  std::string variant;
  sim::RunConfig config;
  explain::Trace trace;
  sim::FaultSchedule schedule;  // recorded, with the service faults' events
};

Recorded record(const std::string& name, const std::string& variant, std::uint64_t seed,
                std::map<std::string, std::string> services = {}) {
  sim::register_builtin_systems();
  Recorded run;
  run.system = sim::SystemRegistry::instance().find(name);
  run.variant = variant;
  run.config.seed = seed;
  run.config.services = std::move(services);
  sim::RunConfig traced = run.config;
  traced.record_trace = true;
  traced.record_schedule = true;
  const auto result = sim::run_system(*run.system, variant, traced);
  run.trace = explain::testing::parse(sim::trace_text(*run.system, variant, traced, result));
  run.schedule = *result.schedule;
  return run;
}

// The run again with `schedule`, traced.
explain::Trace replay(const Recorded& run, const sim::FaultSchedule& schedule) {
  sim::RunConfig c = run.config;
  c.record_trace = true;
  c.schedule = std::make_shared<const sim::FaultSchedule>(schedule);
  const auto result = sim::run_system(*run.system, run.variant, c);
  return explain::testing::parse(sim::trace_text(*run.system, run.variant, c, result));
}

std::uint64_t first_event(const explain::Trace& trace, EventKind kind) {
  for (const auto& e : trace.events) {
    if (e.kind == kind) return e.seq;
  }
  return 0;
}

std::size_t count_notes(const explain::Trace& trace, const std::string& what) {
  return static_cast<std::size_t>(
      std::count_if(trace.events.begin(), trace.events.end(), [&](const explain::TraceEvent& e) {
        return e.kind == EventKind::kAnnotation && e.line.value("what", "") == what;
      }));
}

// A dropped message is the schedule's drop of its link and position: without that entry, the
// same message (same sender, receiver and type, sent at the same time) is delivered.
TEST(CounterfactualDeviations, ADropIsTheScheduleEntryOfThatMessage) {
  const Recorded run = record("register", "naive", 7);
  const auto drop = first_event(run.trace, EventKind::kDrop);
  ASSERT_NE(drop, 0U) << "register/naive seed 7 drops messages";
  const auto& dropped = run.trace.at(drop);
  const auto shown = shown_deviations(run.trace, run.schedule, {drop}, false);
  ASSERT_EQ(shown.size(), 1U);
  EXPECT_EQ(shown[0].deviation.kind, "drop");
  EXPECT_EQ(shown[0].deviation.event, drop);
  EXPECT_EQ(shown[0].deviation.entry[1], run.trace.lane_name(dropped.peer));

  // The message's send, which the drop names as its cause.
  const auto send = dropped.parents.back();
  ASSERT_EQ(run.trace.at(send).kind, EventKind::kSend);
  const auto again = replay(run, without(run.schedule, shown));
  ASSERT_TRUE(again.has(send));
  const auto& resent = again.at(send);
  EXPECT_EQ(resent.kind, EventKind::kSend);
  EXPECT_EQ(resent.type, run.trace.at(send).type);
  EXPECT_EQ(resent.time, run.trace.at(send).time);
  bool delivered = false;
  for (const auto& e : again.events) {
    delivered |= e.kind == EventKind::kDeliver && e.message == resent.message;
  }
  EXPECT_TRUE(delivered) << "without its drop the message arrives";
}

// A service's lost response is the fault decided while it served that request: without it, the
// run has one lost response fewer.
TEST(CounterfactualDeviations, ALostResponseIsTheFaultDecidedForThatRequest) {
  const Recorded run = record("jobs", "naive", 5);
  const auto lost = count_notes(run.trace, "lost_response");
  ASSERT_GT(lost, 0U);
  std::uint64_t note = 0;
  for (const auto& e : run.trace.events) {
    if (e.kind == EventKind::kAnnotation && e.line.value("what", "") == "lost_response") {
      note = e.seq;
      break;
    }
  }
  const auto shown = shown_deviations(run.trace, run.schedule, {note}, false);
  ASSERT_EQ(shown.size(), 1U);
  EXPECT_EQ(shown[0].deviation.kind, "service_fault");
  EXPECT_EQ(shown[0].deviation.entry[1], "lost_response");
  // Everything before the note is the same run: the fault was the first thing to change.
  const auto again = replay(run, without(run.schedule, shown));
  ASSERT_TRUE(again.has(note));
  EXPECT_EQ(again.event_lines[note - 2], run.trace.event_lines[note - 2]);
  EXPECT_NE(again.at(note).line.value("what", ""), "lost_response");
}

// An event that shows no deviation (a client's invoke) gives nothing to remove.
TEST(CounterfactualDeviations, AnInvokeShowsNoDeviation) {
  const Recorded run = record("jobs", "naive", 3);
  const auto invoke = first_event(run.trace, EventKind::kInvoke);
  ASSERT_NE(invoke, 0U);
  EXPECT_TRUE(shown_deviations(run.trace, run.schedule, {invoke}, false).empty());
}

struct Case {
  const char* system;
  const char* variant;
  std::uint64_t seed;
  std::map<std::string, std::string> services;
  const char* cause;      // explain's first cause
  const char* deviation;  // a kind among the deviations it shows
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.system << "/" << c.variant << " seed " << c.seed;
}

class VerifyCase : public ::testing::TestWithParam<Case> {};

// explain's first cause on each run, checked: its deviations are removed and the run holds.
TEST_P(VerifyCase, TheFirstCauseIsConfirmed) {
  const auto& c = GetParam();
  const Recorded run = record(c.system, c.variant, c.seed, c.services);
  const explain::CausalGraph graph(run.trace);
  const auto x = explain::explain_trace(run.trace, graph);
  ASSERT_FALSE(x.causes.empty());
  ASSERT_EQ(x.causes[0].kind, c.cause);
  const auto v = verify_causes(*run.system, run.variant, run.config, run.trace, x);
  ASSERT_TRUE(v.reproduced) << v.problem;
  ASSERT_FALSE(v.causes.empty());
  const auto& first = v.causes[0];
  const bool has_kind = std::any_of(first.deviations.begin(), first.deviations.end(),
                                    [&](const Deviation& d) { return d.kind == c.deviation; });
  EXPECT_TRUE(has_kind) << verification_json(v).dump();
  ASSERT_TRUE(first.without_all.has_value());
  EXPECT_EQ(first.without_all->outcome, Outcome::kHolds) << verification_json(v).dump();
  // Every deviation names an event of the cause's own, or a send of a message it names.
  for (const auto& d : first.deviations) {
    if (d.event == 0) continue;
    const auto& events = x.causes[0].events;
    EXPECT_NE(std::find(events.begin(), events.end(), d.event), events.end()) << d.description;
  }
}

INSTANTIATE_TEST_SUITE_P(
    BuiltinSystems, VerifyCase,
    ::testing::Values(Case{"jobs", "naive", 3, {}, "lost_response", "drop"},
                      Case{"jobs", "naive", 5, {}, "lost_response", "service_fault"},
                      Case{"register", "naive", 7, {}, "crash_lost_data", "crash"}));

// Every fault of the run removed alone, whatever explain said: jobs/naive seed 3 needed the loss of
// the queue's reply to the producer's enqueue (the producer then enqueued the job again), not the
// copy of the second enqueue.
TEST(Verify, EachFaultAloneNamesTheOnesTheViolationNeeded) {
  const Recorded run = record("jobs", "naive", 3);
  const explain::CausalGraph graph(run.trace);
  const auto x = explain::explain_trace(run.trace, graph);
  const auto v = verify_causes(*run.system, run.variant, run.config, run.trace, x);
  ASSERT_TRUE(v.reproduced) << v.problem;
  ASSERT_FALSE(v.faults.empty());
  EXPECT_EQ(v.faults_in_schedule, run.schedule.fault_count());
  const FaultCheck* lost_reply = nullptr;
  const FaultCheck* copy = nullptr;
  for (const auto& f : v.faults) {
    if (f.deviation.kind == "drop" &&
        f.deviation.entry == nlohmann::json::parse(R"(["queue","producer",4])")) {
      lost_reply = &f;
    }
    if (f.deviation.kind == "duplicate" && f.deviation.entry[0] == "producer") copy = &f;
    // Each names the event it shows in, of the kind it is.
    ASSERT_TRUE(run.trace.has(f.deviation.event)) << f.deviation.description;
    if (f.deviation.kind == "drop") {
      EXPECT_EQ(run.trace.at(f.deviation.event).kind, EventKind::kDrop);
    }
  }
  ASSERT_NE(lost_reply, nullptr) << verification_json(v).dump();
  EXPECT_TRUE(lost_reply->needed());
  ASSERT_NE(copy, nullptr) << verification_json(v).dump();
  EXPECT_FALSE(copy->needed());
  EXPECT_EQ(copy->trial.outcome, Outcome::kFailsSame);
}

// A trace the code no longer reproduces is not checked (nothing would be evidence about it).
TEST(Verify, ATraceThisCodeDoesNotReproduceIsNotChecked) {
  Recorded run = record("jobs", "naive", 3);
  run.trace.footer["trace_hash"] = "0000000000000000";
  const explain::CausalGraph graph(run.trace);
  const auto x = explain::explain_trace(run.trace, graph);
  const auto v = verify_causes(*run.system, run.variant, run.config, run.trace, x);
  EXPECT_FALSE(v.reproduced);
  EXPECT_NE(v.problem.find("another run"), std::string::npos) << v.problem;
  EXPECT_TRUE(v.causes.empty());
}

// A run that held has no cause to check.
TEST(Verify, AHeldRunHasNothingToCheck) {
  const Recorded run = record("register", "correct", 3);
  const explain::CausalGraph graph(run.trace);
  const auto x = explain::explain_trace(run.trace, graph);
  ASSERT_FALSE(x.violation.is_object());
  const auto v = verify_causes(*run.system, run.variant, run.config, run.trace, x);
  EXPECT_FALSE(v.reproduced);
  EXPECT_EQ(v.runs, 0U);
}

}  // namespace
}  // namespace seer::counterfactual
