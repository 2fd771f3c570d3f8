#include "trace_input.hpp"

#include "command.hpp"

namespace seer::cli {

explain::Trace load_trace(const std::string& path) {
  try {
    return explain::read_trace(path);
  } catch (const explain::TraceError& e) {
    throw UsageError(e.what());
  }
}

}  // namespace seer::cli
