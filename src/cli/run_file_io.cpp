#include "run_file_io.hpp"
#include "seer/input_size.hpp"

#include "run_options.hpp"
#include "seer/explain/trace_file.hpp"
#include "seer/json_input.hpp"

#include <fstream>
#include <sstream>

namespace seer::cli {

sim::RunDescription read_run_description(const std::string& path) {
  if (const auto why = input_refused(path)) throw UsageError(*why);
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read '" + path + "'");
  std::string content;
  if (const auto why = read_bounded(in, path, content)) throw UsageError(*why);
  // A run file is one JSON document; a trace is JSON lines whose first line is the header.
  nlohmann::json j = parse_json_bounded_or_discarded(content);
  if (j.is_discarded()) {
    j = parse_json_bounded_or_discarded(content.substr(0, content.find('\n')));
    if (j.is_discarded() || !j.is_object() || !j.contains("seer_trace")) {
      throw UsageError(path + ": neither a seer run file nor a seer trace (not JSON)");
    }
    // The header describes the run, but only an intact trace is taken as its record: a truncated
    // or corrupt one is an input error (the one line naming where it breaks), not half a run.
    std::istringstream lines(content);
    try {
      j = explain::parse_trace(lines, path).header;
    } catch (const explain::TraceError& e) {
      throw UsageError(e.what());
    }
  }
  if (!j.is_object() || (!j.contains("seer_run") && !j.contains("seer_trace"))) {
    throw UsageError(path +
                     ": neither a seer run file nor a seer trace (no seer_run or seer_trace)");
  }
  const bool run_file = j.contains("seer_run");
  if (const auto why =
          trace::unreadable_version(j, run_file ? "seer_run" : "seer_trace",
                                    run_file ? trace::kRunFormat : trace::kTraceFormat);
      !why.empty()) {
    throw UsageError(path + ": cannot read this " + (run_file ? "run file" : "trace") + ": " + why);
  }
  try {
    return sim::parse_run_fields(j);
  } catch (const std::invalid_argument& e) {
    throw UsageError(path + ": " + e.what());
  }
}

const sim::System& resolve_description(const sim::RunDescription& d, std::string& variant) {
  RunOptions o;
  o.system = d.system;
  o.variant = d.variant;
  for (const auto& [name, impl] : d.config.services) {
    std::string choice = name;
    choice += "=" + impl;
    o.services.push_back(std::move(choice));
  }
  return resolve_system(o, variant);
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw UsageError("cannot write '" + path + "'");
  out << j.dump() << '\n';
  if (!out) throw UsageError("failed writing '" + path + "'");
}

ChosenRun chosen_from(const sim::RunDescription& d) {
  ChosenRun chosen;
  chosen.system = &resolve_description(d, chosen.variant);
  chosen.config = d.config;
  return chosen;
}

ChosenRun chosen_from_seed(const RunOptions& options, const std::string& seed,
                           const std::string& usage) {
  if (options.system.empty() || seed.empty()) throw UsageError(usage);
  ChosenRun chosen;
  chosen.system = &resolve_system(options, chosen.variant);
  chosen.config = make_config(options, parse_seed(seed));
  return chosen;
}

}  // namespace seer::cli
