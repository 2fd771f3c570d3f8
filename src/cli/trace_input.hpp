// Reading a trace file for a command: a missing, corrupt or truncated trace is bad input (exit 2).
#pragma once

#include "seer/explain/trace_file.hpp"

#include <string>

namespace seer::cli {

// Throws UsageError with the reader's "FILE:LINE: reason".
explain::Trace load_trace(const std::string& path);

// Rewrites the trace at `path` without its forbidden facts (`--redact`, explain/redact.hpp).
void redact_trace_file(const std::string& path);

}  // namespace seer::cli
