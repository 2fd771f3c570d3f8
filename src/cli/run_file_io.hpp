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
// Writes `j` (one line) to `path`; throws UsageError if it cannot.
void write_json_file(const std::string& path, const nlohmann::json& j);

}  // namespace seer::cli
