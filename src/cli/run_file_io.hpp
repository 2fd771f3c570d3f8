// Reading the run a file describes (a run file from `seer shrink` or `seer run --save-run`, or a
// trace whose header line names its run) and writing run files.
#pragma once

#include "command.hpp"
#include "seer/sim/run_file.hpp"
#include "seer/sim/system.hpp"

#include <string>

namespace seer::cli {

// Throws UsageError ("FILE: what is wrong") for a missing, malformed or incomplete file.
sim::RunDescription read_run_description(const std::string& path);
// Checks the description's system, variant and services like the command-line options.
const sim::System& resolve_description(const sim::RunDescription& d, std::string& variant);
struct RunOptions;

// The run a command is asked to do: from a file's description, or from SYSTEM --seed N.
struct ChosenRun {
  const sim::System* system = nullptr;
  std::string variant;
  sim::RunConfig config;
};
ChosenRun chosen_from(const sim::RunDescription& d);
// From the command line; `usage` is the error when SYSTEM or --seed is missing.
ChosenRun chosen_from_seed(const RunOptions& options, const std::string& seed,
                           const std::string& usage);

// Writes `j` (one line) to `path`; throws UsageError if it cannot.
void write_json_file(const std::string& path, const nlohmann::json& j);

}  // namespace seer::cli
