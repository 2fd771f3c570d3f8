#include "seer/sim/run_file.hpp"
#include "seer/sim/system.hpp"

#include <sstream>

namespace seer::sim {

RunResult run_system(const System& system, const std::string& variant, const RunConfig& config) {
  Simulator sim(config);
  system.setup(sim, variant);
  RunResult result = sim.run();
  if (!result.violation && !result.stalled) {
    // The run owns its history: checked without copying its values (they stay in the result).
    if (auto failure = system.check_own_history(result.history)) {
      failure->event = result.events;
      failure->time = result.end_time;
      result.violation = std::move(failure);
    }
  }
  return result;
}

nlohmann::json trace_header(const System& system, const std::string& variant,
                            const RunConfig& config, const RunResult& result) {
  const auto info = system.info();
  nlohmann::json header = {
      {"seer_trace", format_of_hash_function(config.hash_function, trace::kTraceFormat)}};
  header.update(run_fields_json(info.name, variant, config));
  header["profile"] = result.profile.to_json();
  header["processes"] = result.process_names;
  if (!info.history_model.empty()) {
    header["history"] = {{"model", info.history_model}, {"init", info.history_init}};
  }
  return header;
}

nlohmann::json violation_json(const RunResult& result) {
  if (!result.violation) return nullptr;
  const auto& v = *result.violation;
  nlohmann::json j = {
      {"invariant", v.invariant}, {"message", v.message}, {"event", v.event}, {"time", v.time}};
  j["kind"] = v.liveness ? "liveness" : "safety";
  if (!v.entities.empty()) j["entities"] = v.entities;
  return j;
}

nlohmann::json trace_footer(const RunResult& result) {
  return {{"end", true},
          {"events", result.events},
          {"trace_hash", hash_hex(result.trace_hash)},
          {"violation", violation_json(result)}};
}

void write_trace(std::ostream& out, const nlohmann::json& header, const RunResult& result) {
  out << header.dump() << '\n';
  for (const auto& line : result.trace_lines) out << line << '\n';
  out << trace_footer(result).dump() << '\n';
}

std::string trace_text(const System& system, const std::string& variant, const RunConfig& config,
                       const RunResult& result) {
  std::ostringstream out;
  write_trace(out, trace_header(system, variant, config, result), result);
  return out.str();
}

}  // namespace seer::sim
