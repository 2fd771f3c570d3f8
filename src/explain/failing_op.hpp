// For a linearizability violation: re-checks the client history the trace holds (its invoke and
// complete events) with the model the header names, and finds the operation the checker could
// not place, as trace events. Explain then starts from that operation instead of the run's end.
#pragma once

#include "seer/explain/trace_file.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace seer::explain {

struct FailingOp {
  std::uint64_t invoke_event = 0;
  std::uint64_t complete_event = 0;  // 0: outcome unknown (never completed)
  std::string process;
  std::string f;
  nlohmann::json input;
  nlohmann::json output;
  std::string checker_explanation;
};

std::optional<FailingOp> find_failing_op(const Trace& trace);

nlohmann::json failing_op_json(const FailingOp& op);

}  // namespace seer::explain
