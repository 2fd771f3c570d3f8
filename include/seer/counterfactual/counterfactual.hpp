// Checking explain's causes by re-running the run without them (`seer explain --verify`).
//
// explain names causes from one trace: a read that missed a write, a lost response, a crash that
// took back unsynced data. Each rests on departures from a quiet network that the simulator
// decided: a message's latency, a drop, a duplicate, a crash, a pause, a partition, a skewed
// clock, a fault a service injected. The run's fault schedule (seer/sim/schedule.hpp) lists them
// as removable deviations, so a cause can be put to the test: re-run the same seed with the
// deviations its events show removed and see whether the invariant still fails. "Without it, the
// run holds" is evidence the cause was necessary; "still fails the same invariant" says it was
// not (or not alone). When removing several makes the run hold, each is also removed alone, to say
// which one was enough.
//
// A counterfactual run changes everything after the first removed deviation (timings, which
// messages follow), as any replay of an edited schedule does (docs/shrink.md): it is evidence
// about this run, not a proof about the design.
#pragma once

#include "seer/explain/explain.hpp"
#include "seer/explain/trace_file.hpp"
#include "seer/sim/system.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seer::counterfactual {

// One deviation of the run's schedule that a cause's events show.
struct Deviation {
  // "latency", "drop", "duplicate", "crash", "pause", "partition", "clock" or "service_fault".
  std::string kind;
  std::uint64_t event = 0;  // the trace event it shows in (0: none, e.g. a clock's offset)
  std::string description;  // one phrase, e.g. "the loss of client1's put to kv (#34)"
  nlohmann::json entry;     // the schedule's entry, as a run file writes it
};

enum class Outcome : std::uint8_t {
  kHolds,      // no violation
  kFailsSame,  // the trace's invariant fails again (on the same entities, when it names some)
  // The trace's invariant fails, but on other entities than the trace's violation names: that
  // violation is gone and another instance of the bug showed later.
  kFailsElsewhere,
  kFailsOther,  // another invariant fails
  kStalled,     // the run stopped at its time or event limit without a violation
};
// "holds", "fails_same", "fails_elsewhere", "fails_other", "stalled".
const char* outcome_name(Outcome outcome);
// The trace's violation did not happen: the run holds, or fails only on other entities.
inline bool violation_gone(Outcome outcome) {
  return outcome == Outcome::kHolds || outcome == Outcome::kFailsElsewhere;
}

// One re-run: the schedule without some of a cause's deviations.
struct Trial {
  std::vector<std::size_t> removed;  // indexes into CauseCheck::deviations
  Outcome outcome = Outcome::kHolds;
  std::string invariant;  // the violation's, when it fails
  std::string message;
};

struct CauseCheck {
  std::size_t cause = 0;  // index into Explanation::causes
  std::vector<Deviation> deviations;
  std::optional<Trial> without_all;  // unset when the cause shows no deviation
  // When without_all holds and there are several: each deviation removed alone.
  std::vector<Trial> without_each;
};

// One word for what removing everything the cause shows did: "confirmed" (the run holds, or the
// invariant fails only on other entities), "not_confirmed" (the same violation again),
// "other_failure", "stalled", or "nothing_to_remove" (its events show no deviation).
const char* verdict(const CauseCheck& c);

// One fault of the run's schedule (not a latency) removed alone, whatever explain said.
struct FaultCheck {
  Deviation deviation;
  Trial trial;  // removed: {0}
  // The violation is gone without it.
  bool needed() const { return violation_gone(trial.outcome); }
};

struct Verification {
  // The run was re-run and gave the trace's events (same trace hash). False: nothing below was
  // tried (`problem` says why).
  bool reproduced = false;
  std::string problem;
  std::string invariant;  // the trace's
  std::vector<CauseCheck> causes;
  // Every fault of the schedule (drops, copies, crashes, pauses, partitions, clocks, service
  // faults; at most VerifyOptions::max_faults), each removed alone: the ones the violation needed,
  // found without explain's rules (when explain names nothing, or names something else).
  std::vector<FaultCheck> faults;
  std::size_t faults_in_schedule = 0;
  std::size_t runs = 0;  // runs made, the reproduction included
};

struct VerifyOptions {
  std::size_t max_causes = 3;   // the first causes of the explanation
  std::size_t max_each = 8;     // deviations tried alone, per cause
  std::size_t max_faults = 64;  // faults of the schedule tried alone (the earliest first)
};

// Re-runs `config` (the trace's run: its seed, or its schedule when it has one) of `system`, then
// each of the explanation's first causes without the deviations its events show.
Verification verify_causes(const sim::System& system, const std::string& variant,
                           const sim::RunConfig& config, const explain::Trace& trace,
                           const explain::Explanation& explanation,
                           const VerifyOptions& options = {});

// The deviations of `schedule` that the events `events` of `trace` show (the run's recorded
// schedule, whose service faults carry the event they were decided at).
std::vector<Deviation> deviations_shown(const explain::Trace& trace,
                                        const sim::FaultSchedule& schedule,
                                        const std::vector<std::uint64_t>& events,
                                        bool include_clocks);

nlohmann::json verification_json(const Verification& v);
std::string verification_text(const Verification& v, const explain::Explanation& explanation);

}  // namespace seer::counterfactual
