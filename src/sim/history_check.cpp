// The bridge from a run's history to the linearizability checker, which knows nothing of the
// simulator: what System::check_history does by default with SystemInfo::history_model.
#include "seer/check/linearizability.hpp"
#include "seer/sim/system.hpp"

namespace seer::sim {

std::optional<Violation> check_linearizable_history(const std::vector<HistoryEntry>& history,
                                                    const std::string& model_name,
                                                    const std::string& init) {
  std::vector<nlohmann::json> events;
  std::vector<std::size_t> lines;
  for (const auto& e : history) {
    events.push_back(history_entry_to_json(e));
    lines.push_back(static_cast<std::size_t>(e.index) + 1);
  }
  const auto ops = check::pair_operations(events, lines, "history");
  auto model = check::make_model(model_name);
  if (!init.empty()) model->set_init(init);
  check::CheckOptions options;
  options.max_steps = check::kSimulatedRunSteps;
  options.timeout = std::chrono::milliseconds(60'000);  // a safety net only
  const auto result = check::check_linearizable(ops, *model, options);
  if (result.verdict == check::Verdict::kLinearizable) return std::nullopt;
  Violation v;
  v.invariant = "linearizable";
  v.message = result.verdict == check::Verdict::kUnknown ? "checker gave up: " + result.explanation
                                                         : result.explanation;
  return v;
}

std::optional<Violation> System::check_history(const std::vector<HistoryEntry>& history) const {
  const auto i = info();
  if (i.history_model.empty()) return std::nullopt;
  return check_linearizable_history(history, i.history_model, i.history_init);
}

}  // namespace seer::sim
