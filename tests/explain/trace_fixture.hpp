// Runs a built-in system with the trace recorded and reads it back as explain sees a trace file.
#pragma once

#include "seer/explain/trace_file.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace seer::explain::testing {

inline std::string record(const std::string& system_name, const std::string& variant,
                          std::uint64_t seed, std::map<std::string, std::string> services = {}) {
  sim::register_builtin_systems();
  const auto* system = sim::SystemRegistry::instance().find(system_name);
  sim::RunConfig config;
  config.seed = seed;
  config.record_trace = true;
  config.services = std::move(services);
  const auto result = sim::run_system(*system, variant, config);
  return sim::trace_text(*system, variant, config, result);
}

inline Trace parse(const std::string& text) {
  std::istringstream in(text);
  return parse_trace(in, "test.jsonl");
}

inline Trace recorded(const std::string& system_name, const std::string& variant,
                      std::uint64_t seed, std::map<std::string, std::string> services = {}) {
  return parse(record(system_name, variant, seed, std::move(services)));
}

// `text` with every `from` replaced by `to`: a hand-written trace varied for one test.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

#ifdef SEER_EXPLAIN_TRACES  // defined for explain_tests; other suites include the rest
// The text of a hand-written trace under tests/explain/traces/.
inline std::string hand_written(const std::string& name) {
  std::ifstream in(std::string(SEER_EXPLAIN_TRACES) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
#endif

}  // namespace seer::explain::testing
