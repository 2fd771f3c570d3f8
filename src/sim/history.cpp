#include "seer/sim/history.hpp"

namespace seer::sim {

const char* op_type_name(OpType type) {
  switch (type) {
    case OpType::kInvoke:
      return "invoke";
    case OpType::kOk:
      return "ok";
    case OpType::kFail:
      return "fail";
    case OpType::kInfo:
      return "info";
  }
  return "?";
}

nlohmann::json history_entry_to_json(const HistoryEntry& e) {
  nlohmann::json j = {
      {"index", e.index}, {"time", e.time},  {"process", e.process}, {"type", op_type_name(e.type)},
      {"f", e.f},         {"value", e.value}};
  if (!e.error.empty()) j["error"] = e.error;
  return j;
}

std::string history_to_jsonl(const std::vector<HistoryEntry>& history) {
  std::string out;
  for (const auto& e : history) {
    out += history_entry_to_json(e).dump();
    out += '\n';
  }
  return out;
}

}  // namespace seer::sim
