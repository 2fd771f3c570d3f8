// Client-observed history, in the format of docs/history-format.md. Clients record through
// HistoryRecorder so the same client code records in simulation (virtual time) and against a live
// system (wall time).
#pragma once

#include "seer/check/history.hpp"
#include "seer/sim/time.hpp"

#include <nlohmann/json.hpp>

#include <memory>
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
  // An invocation's reading of its value by the client that recorded it (invoke_read), for the
  // checker: not part of the entry's JSON (a history file has none). Kept by copies of the entry:
  // the checker uses it only where it still reads `value` as it is (check::InputReading::reads).
  std::shared_ptr<const check::InputReading> reading;
};

nlohmann::json history_entry_to_json(const HistoryEntry& e);
std::string history_to_jsonl(const std::vector<HistoryEntry>& history);

class HistoryRecorder {
 public:
  virtual ~HistoryRecorder() = default;
  virtual void invoke(int process, const std::string& f, nlohmann::json value) = 0;
  // invoke, with what the client already read from part of `value` (its parse of the request it
  // records and sends), which a checker of the history may use instead of reading it again. A
  // recorder that keeps no readings (a history file) records the invocation alone.
  virtual void invoke_read(int process, const std::string& f, nlohmann::json value,
                           std::shared_ptr<const check::InputReading> reading) {
    (void)reading;
    invoke(process, f, std::move(value));
  }
  virtual void complete(int process, OpType type, const std::string& f, nlohmann::json value,
                        std::string error = {}) = 0;
};

}  // namespace seer::sim
