// The whole `seer` command line as a function, used by main() and by `seer mcp` (which runs the
// same commands for an agent, with their --json output captured).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace seer::cli {

// Parses `args` (without the program name) and runs the chosen command. Usage and input errors
// go to `err` as one line "seer: error: ..."; returns the exit code (docs: 0 ok, 1 violation,
// 2 usage or input error, 3 unknown, 4 replay diverged).
int run_command_line(const std::vector<std::string>& args, std::ostream& err);

}  // namespace seer::cli
