// libFuzzer target: the trace reader (explain, query, view and shrink --from read traces), then the
// causal graph, the explanation and the event descriptions of whatever it accepts. Malformed input
// must end in TraceError (or, from the analyses, a JSON type error; exit 2 in the CLI), never in a
// crash, undefined behaviour, a hang or another exception.
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/trace_file.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seer::explain;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const Trace trace = parse_trace(in, "fuzz");
    const CausalGraph graph(trace);
    const auto explanation = explain_trace(trace, graph);
    (void)explanation_text(explanation, trace);
    (void)explanation_json(explanation, trace)
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    for (std::uint64_t seq = 1; seq <= trace.events.size() && seq <= 64; ++seq) {
      (void)describe_event(trace, seq);
    }
  } catch (const TraceError&) {
  } catch (const nlohmann::json::exception&) {
    // A field of the wrong type deep in an event (a fact an analysis reads): the commands answer
    // it with one error line and exit 2, like a TraceError.
  }
  return 0;
}
