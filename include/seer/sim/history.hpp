// Client-observed history, in the format of docs/history-format.md. Clients record through
// HistoryRecorder so the same client code records in simulation (virtual time) and against a live
// system (wall time).
#pragma once

#include "seer/sim/time.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace seer::sim {

enum class OpType { kInvoke, kOk, kFail, kInfo };
const char* op_type_name(OpType type);

struct HistoryEntry {
  std::int64_t index = 0;
  Time time = 0;
  int process = 0;
  OpType type = OpType::kInvoke;
  std::string f;
  nlohmann::json value;
  std::string error;  // empty if none
};

nlohmann::json history_entry_to_json(const HistoryEntry& e);
std::string history_to_jsonl(const std::vector<HistoryEntry>& history);

class HistoryRecorder {
 public:
  virtual ~HistoryRecorder() = default;
  virtual void invoke(int process, const std::string& f, nlohmann::json value) = 0;
  virtual void complete(int process, OpType type, const std::string& f, nlohmann::json value,
                        std::string error = {}) = 0;
};

}  // namespace seer::sim
