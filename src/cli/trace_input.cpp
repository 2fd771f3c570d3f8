#include "trace_input.hpp"

#include "command.hpp"
#include "seer/explain/redact.hpp"

#include <fstream>

namespace seer::cli {

explain::Trace load_trace(const std::string& path) {
  try {
    return explain::read_trace(path);
  } catch (const explain::TraceError& e) {
    throw UsageError(e.what());
  }
}

void redact_trace_file(const std::string& path) {
  const auto redacted = explain::redact(load_trace(path));
  std::ofstream out(path, std::ios::trunc);
  explain::write_trace(redacted, out);
  if (!out) throw UsageError("failed writing trace '" + path + "'");
}

}  // namespace seer::cli
