// Exports of a trace to tools people already use (docs/view.md): Chrome's trace-event JSON, which
// Perfetto (ui.perfetto.dev) and chrome://tracing open, and ShiViz's log format.
#pragma once

#include "seer/explain/trace_file.hpp"

#include <nlohmann/json_fwd.hpp>

#include <ostream>
#include <string>

namespace seer::exporter {

// {"traceEvents":[...]} with one thread per process (plus "sim"), every event as a zero-length
// slice with its payload and oracle facts as args, client operations as slices from invoke to
// complete, a flow arrow from each send to each of its deliveries, and crashes, pauses and
// partitions as async spans.
void chrome_trace(const explain::Trace& trace, std::ostream& out);

// ShiViz's input: per event a line "HOST {vector clock}" and a line describing it. Parse it in
// ShiViz with kShivizRegex.
std::string shiviz_log(const explain::Trace& trace);
inline constexpr const char* kShivizRegex = R"((?<host>\S*) (?<clock>{.*})\n(?<event>.*))";

}  // namespace seer::exporter
