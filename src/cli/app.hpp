// The whole `seer` command line as a function, used by main() and by `seer mcp` (which runs the
// same commands for an agent, with their --json output captured).
#pragma once

#include "seer/cli/main.hpp"
