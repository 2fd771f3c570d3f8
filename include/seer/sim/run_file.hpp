// A run description: everything that determines a run (system, variant, seed, ops, fault profile,
// services and, for a shrunk or edited run, the explicit fault schedule), plus what it is expected
// to produce. `seer shrink` writes one; `seer replay --run FILE` reproduces it. A trace's header
// carries the same fields, so a trace also describes its run (docs/shrink.md).
#pragma once

#include "seer/sim/simulator.hpp"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

namespace seer::sim {

// The most client operations a run may have (as `--ops` allows).
inline constexpr int kMaxRunOps = 1'000'000;

struct RunDescription {
  std::string system;
  std::string variant;
  RunConfig config;
  // What the run produced when it was saved (empty when unknown).
  std::optional<std::string> expected_violation;  // invariant name; "" = the run held
  std::string expected_trace_hash;
  std::uint64_t expected_events = 0;
};

// The fields that determine a run, as in a trace header: system, variant, seed, ops, faults,
// services and (if any) schedule.
nlohmann::json run_fields_json(const std::string& system, const std::string& variant,
                               const RunConfig& config);
// A run file: {"seer_run":1, ...run fields..., "expect":{...}}.
nlohmann::json run_file_json(const std::string& system, const std::string& variant,
                             const RunConfig& config, const RunResult& result);
// Reads the run fields of a run file or a trace header. Throws std::invalid_argument naming the
// field.
RunDescription parse_run_fields(const nlohmann::json& j);

}  // namespace seer::sim
