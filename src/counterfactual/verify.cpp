// Re-running a failing run without the deviations each of explain's first causes shows.
#include "deviations.hpp"
#include "seer/sim/trace.hpp"

#include <algorithm>
#include <memory>

namespace seer::counterfactual {

namespace {

Trial run_without(const sim::System& system, const std::string& variant,
                  const sim::RunConfig& config, const sim::FaultSchedule& schedule,
                  const std::vector<Shown>& shown, const std::vector<std::size_t>& removed,
                  const sim::Violation& violation) {
  std::vector<Shown> gone;
  gone.reserve(removed.size());
  for (const auto i : removed) gone.push_back(shown[i]);
  sim::RunConfig c = config;
  c.record_trace = false;
  c.record_schedule = false;
  c.schedule = std::make_shared<const sim::FaultSchedule>(without(schedule, gone));
  const auto result = sim::run_system(system, variant, c);
  Trial trial;
  trial.removed = removed;
  if (result.violation) {
    const auto& again = *result.violation;
    // Compared by the entities both name; a check that names none is taken to fail the same way.
    const bool elsewhere = !again.entities.empty() && !violation.entities.empty() &&
                           again.entities != violation.entities;
    trial.outcome = again.invariant != violation.invariant ? Outcome::kFailsOther
                    : elsewhere                            ? Outcome::kFailsElsewhere
                                                           : Outcome::kFailsSame;
    trial.invariant = result.violation->invariant;
    trial.message = result.violation->message;
  } else {
    trial.outcome = result.stalled ? Outcome::kStalled : Outcome::kHolds;
  }
  return trial;
}

}  // namespace

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kHolds:
      return "holds";
    case Outcome::kFailsSame:
      return "fails_same";
    case Outcome::kFailsElsewhere:
      return "fails_elsewhere";
    case Outcome::kFailsOther:
      return "fails_other";
    case Outcome::kStalled:
      return "stalled";
  }
  return "?";
}

Verification verify_causes(const sim::System& system, const std::string& variant,
                           const sim::RunConfig& config, const explain::Trace& trace,
                           const explain::Explanation& explanation, const VerifyOptions& options) {
  Verification v;
  if (!explanation.violation.is_object()) {
    v.problem = "the run held: there is no cause to check";
    return v;
  }
  v.invariant = explanation.violation.value("invariant", "");

  // The run again, recording its schedule (a seeded run's decisions, or the trace's own schedule
  // normalised), which must be the trace's run event for event.
  sim::RunConfig base = config;
  base.record_trace = false;
  base.record_schedule = true;
  const auto original = sim::run_system(system, variant, base);
  ++v.runs;
  const std::string recorded_hash = trace.footer.value("trace_hash", "");
  if (sim::hash_hex(original.trace_hash) != recorded_hash) {
    v.problem = "re-running it gave another run (trace hash " + sim::hash_hex(original.trace_hash) +
                ", the trace's " + recorded_hash +
                "): the design's code or seer changed since the trace was recorded";
    return v;
  }
  if (!original.violation || original.violation->invariant != v.invariant) {
    v.problem = "re-running it did not fail " + v.invariant;
    return v;
  }
  v.reproduced = true;
  const sim::FaultSchedule& schedule = *original.schedule;

  const auto causes = std::min(options.max_causes, explanation.causes.size());
  for (std::size_t i = 0; i < causes; ++i) {
    const auto& cause = explanation.causes[i];
    const bool clocks = cause.kind.rfind("clock", 0) == 0;
    const auto shown = shown_deviations(trace, schedule, cause.events, clocks);
    CauseCheck check;
    check.cause = i;
    for (const auto& s : shown) check.deviations.push_back(s.deviation);
    if (!shown.empty()) {
      std::vector<std::size_t> all(shown.size());
      for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
      check.without_all =
          run_without(system, variant, config, schedule, shown, all, *original.violation);
      ++v.runs;
      if (violation_gone(check.without_all->outcome) && shown.size() > 1) {
        for (std::size_t k = 0; k < std::min(options.max_each, shown.size()); ++k) {
          check.without_each.push_back(
              run_without(system, variant, config, schedule, shown, {k}, *original.violation));
          ++v.runs;
        }
      }
    }
    v.causes.push_back(std::move(check));
  }

  // Each fault alone, read off the whole trace.
  std::vector<std::uint64_t> every(trace.events.size());
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = i + 1;
  std::vector<Shown> faults;
  for (auto& s : shown_deviations(trace, schedule, every, true)) {
    if (s.list != Shown::List::kLatencies) faults.push_back(std::move(s));
  }
  v.faults_in_schedule = schedule.fault_count();
  std::stable_sort(faults.begin(), faults.end(), [](const Shown& a, const Shown& b) {
    return a.deviation.event < b.deviation.event;
  });
  for (std::size_t k = 0; k < faults.size() && k < options.max_faults; ++k) {
    v.faults.push_back({faults[k].deviation, run_without(system, variant, config, schedule, faults,
                                                         {k}, *original.violation)});
    v.faults.back().trial.removed = {0};
    ++v.runs;
  }
  return v;
}

}  // namespace seer::counterfactual
