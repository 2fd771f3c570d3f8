// The bridge from a run's history to the linearizability checker, which knows nothing of the
// simulator: what System::check_history does by default with SystemInfo::history_model.
#include "seer/check/linearizability.hpp"
#include "seer/sim/system.hpp"

#include <map>
#include <unordered_map>
#include <utility>

namespace seer::sim {

namespace {

// The history check_own_history lends the default check_history on this thread, if any.
thread_local std::vector<HistoryEntry>* lent_history = nullptr;

// The ops' values go back to the entries they were moved from: an op's input to its invocation
// (found by the line the pairing gave it), its output to that invocation's ok completion.
void give_back(std::vector<check::Operation>& ops, std::vector<HistoryEntry>& history) {
  std::unordered_map<std::size_t, std::size_t> invocation_at;  // line -> position
  std::vector<std::size_t> completion_of(history.size(), history.size());
  std::map<int, std::size_t> open;  // process -> its outstanding invocation, as paired
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& e = history[i];
    if (e.type == OpType::kInvoke) {
      invocation_at[static_cast<std::size_t>(e.index) + 1] = i;
      open[e.process] = i;
    } else if (const auto it = open.find(e.process); it != open.end()) {
      completion_of[it->second] = i;
      open.erase(it);
    }
  }
  for (auto& op : ops) {
    const auto at = invocation_at.find(op.line);
    if (at == invocation_at.end()) continue;
    history[at->second].value = std::move(op.input);
    const std::size_t done = completion_of[at->second];
    if (!op.unknown() && done < history.size()) history[done].value = std::move(op.output);
  }
}

// `owned`: `history` itself, whose values may be moved into the operations and back.
std::optional<Violation> check_entries(const std::vector<HistoryEntry>& history,
                                       std::vector<HistoryEntry>* owned,
                                       const std::string& model_name, const std::string& init) {
  // The entries as the checker reads them from a history file (history_entry_to_json), without
  // building each entry's JSON map: the values are copied (or moved) once, into the operations.
  std::vector<check::ClientEvent> events;
  events.reserve(history.size());
  for (const auto& e : history) {
    check::ClientEvent c;
    c.process = e.process;
    c.type = op_type_name(e.type);
    c.f = e.f;
    if (!c.f.empty() && c.f.front() == ':') c.f.remove_prefix(1);  // a Jepsen keyword, as read
    c.value = &e.value;
    c.move_value = owned != nullptr;
    c.timed_out = e.error.find("timed-out") != std::string::npos;
    c.time = e.time;
    c.line = static_cast<std::size_t>(e.index) + 1;
    c.reading = e.reading;  // the client's parse, which the model checks against the value
    events.push_back(std::move(c));
  }
  auto ops = check::pair_client_events(events, "history");
  auto model = check::make_model(model_name);
  if (!init.empty()) model->set_init(init);
  check::CheckOptions options;
  options.max_steps = check::kSimulatedRunSteps;
  options.timeout = std::chrono::milliseconds(60'000);  // a safety net only
  // Moved into their keys', not copied; back in `ops` when it returns.
  const auto result = check::check_linearizable(std::move(ops), *model, options);
  if (owned) give_back(ops, *owned);
  if (result.verdict == check::Verdict::kLinearizable) return std::nullopt;
  Violation v;
  v.invariant = "linearizable";
  v.message = result.verdict == check::Verdict::kUnknown ? "checker gave up: " + result.explanation
                                                         : result.explanation;
  return v;
}

}  // namespace

std::optional<Violation> check_linearizable_history(const std::vector<HistoryEntry>& history,
                                                    const std::string& model_name,
                                                    const std::string& init) {
  return check_entries(history, nullptr, model_name, init);
}

std::optional<Violation> System::check_history(const std::vector<HistoryEntry>& history) const {
  const auto i = info();
  if (i.history_model.empty()) return std::nullopt;
  // Lent by check_own_history (this very vector, on this thread): borrowed, not copied.
  std::vector<HistoryEntry>* owned = lent_history == &history ? lent_history : nullptr;
  return check_entries(history, owned, i.history_model, i.history_init);
}

std::optional<Violation> System::check_own_history(std::vector<HistoryEntry>& history) const {
  struct Lend {
    std::vector<HistoryEntry>* previous;
    ~Lend() { lent_history = previous; }
  } lend{std::exchange(lent_history, &history)};
  return check_history(history);
}

}  // namespace seer::sim
