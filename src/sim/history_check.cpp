// The bridge from a run's history to the linearizability checker, which knows nothing of the
// simulator: what System::check_history does by default with SystemInfo::history_model.
#include "seer/check/linearizability.hpp"
#include "seer/sim/system.hpp"

#include <utility>

namespace seer::sim {

std::optional<Violation> check_linearizable_history(const std::vector<HistoryEntry>& history,
                                                    const std::string& model_name,
                                                    const std::string& init) {
  // The entries as the checker reads them from a history file (history_entry_to_json), without
  // building each entry's JSON map: the values are copied once, into the operations.
  std::vector<check::ClientEvent> events;
  events.reserve(history.size());
  for (const auto& e : history) {
    check::ClientEvent c;
    c.process = e.process;
    c.type = op_type_name(e.type);
    c.f = e.f;
    if (!c.f.empty() && c.f.front() == ':') c.f.remove_prefix(1);  // a Jepsen keyword, as read
    c.value = &e.value;
    c.timed_out = e.error.find("timed-out") != std::string::npos;
    c.time = e.time;
    c.line = static_cast<std::size_t>(e.index) + 1;
    events.push_back(c);
  }
  auto ops = check::pair_client_events(events, "history");
  auto model = check::make_model(model_name);
  if (!init.empty()) model->set_init(init);
  check::CheckOptions options;
  options.max_steps = check::kSimulatedRunSteps;
  options.timeout = std::chrono::milliseconds(60'000);  // a safety net only
  // The operations are needed no more: moved into their keys', not copied.
  const auto result = check::check_linearizable(std::move(ops), *model, options);
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
