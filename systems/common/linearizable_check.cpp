#include "linearizable_check.hpp"

#include "seer/check/linearizability.hpp"

namespace seer::systems {

std::optional<std::pair<std::string, std::string>> check_linearizable_history(
    const std::vector<sim::HistoryEntry>& history, const std::string& model_name,
    const std::string& init) {
  std::vector<nlohmann::json> events;
  std::vector<std::size_t> lines;
  for (const auto& e : history) {
    events.push_back(sim::history_entry_to_json(e));
    lines.push_back(static_cast<std::size_t>(e.index) + 1);
  }
  const auto ops = check::pair_operations(events, lines, "history");
  auto model = check::make_model(model_name);
  if (!init.empty()) model->set_initial(model->parse_initial(init));
  check::CheckOptions options;
  options.max_steps = check::kSimulatedRunSteps;
  options.timeout = std::chrono::milliseconds(60'000);  // a safety net only
  const auto result = check::check_linearizable(ops, *model, options);
  if (result.verdict == check::Verdict::kLinearizable) return std::nullopt;
  if (result.verdict == check::Verdict::kUnknown) {
    return std::make_pair(std::string("linearizable"),
                          std::string("checker gave up: ") + result.explanation);
  }
  return std::make_pair(std::string("linearizable"), result.explanation);
}

}  // namespace seer::systems
