#include "failing_op.hpp"

#include "seer/check/linearizability.hpp"

#include <chrono>
#include <map>

namespace seer::explain {

std::optional<FailingOp> find_failing_op(const Trace& trace) {
  const auto history = trace.header.find("history");
  if (history == trace.header.end() || !history->is_object()) return std::nullopt;
  const auto model_name = history->value("model", std::string());
  const auto init = history->value("init", std::string());
  std::vector<nlohmann::json> events;
  std::vector<std::size_t> lines;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kInvoke && e.kind != EventKind::kComplete) continue;
    const auto& j = e.line;
    nlohmann::json h = {
        {"process", j.value("op_process", 0)},
        {"type", e.kind == EventKind::kInvoke ? std::string("invoke")
                                              : j.value("type", std::string("info"))},
        {"f", j.value("f", std::string())},
        {"value", j.value("value", nlohmann::json())},
        {"time", e.time}};
    events.push_back(std::move(h));
    lines.push_back(e.seq + 1);  // the event's line in the trace file (after the header)
  }
  try {
    const auto ops = check::pair_operations(events, lines, trace.path);
    auto model = check::make_model(model_name);
    if (!model) return std::nullopt;  // a model this build does not know: explain without it
    if (!init.empty()) model->set_init(init);
    check::CheckOptions options;
    options.max_steps = check::kSimulatedRunSteps;
    options.timeout = std::chrono::milliseconds(60'000);  // a safety net only
    const auto result = check::check_linearizable(ops, *model, options);
    if (result.verdict != check::Verdict::kNotLinearizable || result.failing_op < 0) {
      return std::nullopt;
    }
    const auto& op = ops.at(static_cast<std::size_t>(result.failing_op));
    FailingOp out;
    out.f = op.f;
    out.input = op.input;
    out.output = op.output;
    out.checker_explanation = result.explanation;
    // The invoke is the op's process's invoke at the op's invoke time; its completion follows.
    for (const auto& e : trace.events) {
      if (e.kind != EventKind::kInvoke && e.kind != EventKind::kComplete) continue;
      if (e.line.value("op_process", -1) != op.process) continue;
      if (out.invoke_event == 0) {
        if (e.kind == EventKind::kInvoke && e.time == op.invoke) {
          out.invoke_event = e.seq;
          out.process = trace.lane_name(e.lane);
        }
      } else if (e.kind == EventKind::kComplete) {
        out.complete_event = e.seq;
        break;
      }
    }
    if (out.invoke_event == 0) return std::nullopt;
    return out;
  } catch (const std::exception&) {
    return std::nullopt;  // an unknown model or an odd history: explain without it
  }
}

nlohmann::json failing_op_json(const FailingOp& op) {
  return {{"process", op.process},
          {"f", op.f},
          {"input", op.input},
          {"output", op.output},
          {"invoke_event", op.invoke_event},
          {"complete_event", op.complete_event},
          {"checker_explanation", op.checker_explanation}};
}

}  // namespace seer::explain
