// The whole `seer` command line as a function, used by main() and by `seer mcp` (which runs the
// same commands for an agent, with their --json output captured).
#pragma once

#include "seer/cli/main.hpp"

#include <string>

namespace seer::cli {

// The name the program was started by (argv[0] without its directory: `seer`, or a user's own
// seer such as `locks`), for the commands it prints for the user to run next.
const std::string& program_name();

}  // namespace seer::cli
