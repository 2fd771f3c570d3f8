// A verification as JSON (seer explain --verify --json) and as text.
#include "seer/counterfactual/counterfactual.hpp"

#include <fmt/format.h>

namespace seer::counterfactual {

const char* verdict(const CauseCheck& c) {
  if (!c.without_all) return "nothing_to_remove";
  switch (c.without_all->outcome) {
    case Outcome::kHolds:
    case Outcome::kFailsElsewhere:
      return "confirmed";
    case Outcome::kFailsSame:
      return "not_confirmed";
    case Outcome::kFailsOther:
      return "other_failure";
    case Outcome::kStalled:
      return "stalled";
  }
  return "?";
}

namespace {

// The causes (indexes into Verification::causes) whose events show the fault: the same entry of
// the schedule among their deviations.
std::vector<std::size_t> shown_by(const Verification& v, const FaultCheck& f) {
  std::vector<std::size_t> causes;
  for (const auto& c : v.causes) {
    for (const auto& d : c.deviations) {
      if (d.kind == f.deviation.kind && d.entry == f.deviation.entry) {
        causes.push_back(c.cause);
        break;
      }
    }
  }
  return causes;
}

nlohmann::json trial_json(const Trial& t) {
  nlohmann::json j = {{"removed", t.removed}, {"outcome", outcome_name(t.outcome)}};
  if (!t.invariant.empty()) {
    j["invariant"] = t.invariant;
    j["message"] = t.message;
  }
  return j;
}

std::string what_removed(const CauseCheck& c) {
  if (c.deviations.size() == 1) return c.deviations[0].description;
  return fmt::format("{} and {} more", c.deviations[0].description, c.deviations.size() - 1);
}

std::string outcome_phrase(const Trial& t, const std::string& invariant) {
  switch (t.outcome) {
    case Outcome::kHolds:
      return "the run holds";
    case Outcome::kFailsSame:
      return "it still fails " + invariant;
    case Outcome::kFailsElsewhere:
      return "this violation is gone (" + invariant +
             " fails later on other entities: " + t.message + ")";
    case Outcome::kFailsOther:
      return "it fails " + t.invariant + " instead";
    case Outcome::kStalled:
      return "the run stalls (time or event limit) without a violation";
  }
  return "?";
}

}  // namespace

nlohmann::json verification_json(const Verification& v) {
  nlohmann::json j = {{"reproduced", v.reproduced}, {"invariant", v.invariant}, {"runs", v.runs}};
  if (!v.problem.empty()) j["problem"] = v.problem;
  nlohmann::json causes = nlohmann::json::array();
  for (const auto& c : v.causes) {
    nlohmann::json deviations = nlohmann::json::array();
    for (const auto& d : c.deviations) {
      deviations.push_back({{"kind", d.kind},
                            {"event", d.event},
                            {"description", d.description},
                            {"entry", d.entry}});
    }
    nlohmann::json cause = {
        {"cause", c.cause}, {"verdict", verdict(c)}, {"deviations", std::move(deviations)}};
    if (c.without_all) cause["without_all"] = trial_json(*c.without_all);
    nlohmann::json each = nlohmann::json::array();
    for (const auto& t : c.without_each) each.push_back(trial_json(t));
    cause["without_each"] = std::move(each);
    causes.push_back(std::move(cause));
  }
  j["causes"] = std::move(causes);
  nlohmann::json faults = nlohmann::json::array();
  nlohmann::json needed = nlohmann::json::array();
  for (std::size_t i = 0; i < v.faults.size(); ++i) {
    const auto& f = v.faults[i];
    auto one = trial_json(f.trial);
    one.erase("removed");
    one["kind"] = f.deviation.kind;
    one["event"] = f.deviation.event;
    one["description"] = f.deviation.description;
    one["entry"] = f.deviation.entry;
    one["shown_by_causes"] = shown_by(v, f);
    faults.push_back(std::move(one));
    if (f.needed()) needed.push_back(i);
  }
  j["faults"] = std::move(faults);
  j["faults_needed"] = std::move(needed);
  j["faults_in_schedule"] = v.faults_in_schedule;
  return j;
}

std::string verification_text(const Verification& v, const explain::Explanation& explanation) {
  if (!v.reproduced) return "Not checked by re-running: " + v.problem + "\n";
  std::string out =
      fmt::format("Checked by re-running seed {} without what each cause shows ({} runs):\n",
                  explanation.seed, v.runs);
  for (const auto& c : v.causes) {
    const auto& kind = explanation.causes.at(c.cause).kind;
    if (!c.without_all) {
      out += fmt::format(
          "  {}. {}: nothing to remove: its events show no fault and no latency the simulator "
          "chose (the processes' interleaving alone)\n",
          c.cause + 1, kind);
      continue;
    }
    const std::string word = verdict(c) == std::string("confirmed")       ? "confirmed"
                             : verdict(c) == std::string("not_confirmed") ? "not confirmed"
                                                                          : "inconclusive";
    out += fmt::format("  {}. {}: {}: without {}, {}\n", c.cause + 1, kind, word, what_removed(c),
                       outcome_phrase(*c.without_all, v.invariant));
    for (const auto& t : c.without_each) {
      out +=
          fmt::format("       without {} alone: {}\n", c.deviations.at(t.removed.at(0)).description,
                      outcome_phrase(t, v.invariant));
    }
  }
  if (v.faults_in_schedule == 0) {
    out += "The run had no fault to remove alone (only latencies).\n";
    return out;
  }
  std::vector<const FaultCheck*> needed;
  for (const auto& f : v.faults) {
    if (f.needed()) needed.push_back(&f);
  }
  out += fmt::format("Faults the violation needed, each removed alone ({} of {}{}):\n",
                     needed.size(), v.faults.size(),
                     v.faults.size() < v.faults_in_schedule
                         ? fmt::format("; {} in the run", v.faults_in_schedule)
                         : std::string());
  if (needed.empty()) out += "  none: without any one of them alone the same violation happens\n";
  for (const auto* f : needed) {
    const auto causes = shown_by(v, *f);
    std::string shown = "no cause above shows it";
    if (!causes.empty()) {
      shown = "shown by cause";
      for (std::size_t k = 0; k < causes.size(); ++k) {
        shown += fmt::format("{}{}", k == 0 ? " " : ", ", causes[k] + 1);
      }
    }
    out += fmt::format("  {}: without it, {} ({})\n", f->deviation.description,
                       outcome_phrase(f->trial, v.invariant), shown);
  }
  return out;
}

}  // namespace seer::counterfactual
