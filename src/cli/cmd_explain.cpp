// `seer explain TRACE`: why a recorded run failed, from the trace and its forbidden facts alone.
// Exit 1 when the trace records a violation (explained), 0 when the run held, 2 on bad input.
#include "command.hpp"
#include "seer/explain/explain.hpp"
#include "trace_input.hpp"

#include <iostream>

namespace seer::cli {

Command add_explain_command(CLI::App& root) {
  struct Options {
    std::string trace;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* app = root.add_subcommand(
      "explain", "Explain why a recorded run failed: ranked causes and the minimal event sequence");
  app->add_option("trace", o->trace, "Trace file (seer run ... --trace FILE)")->required();
  app->add_flag("--json", o->json, "Machine-readable output (causes with event ids)");
  return {app, [o] {
            const explain::Trace trace = load_trace(o->trace);
            const explain::CausalGraph graph(trace);
            const auto x = explain::explain_trace(trace, graph);
            if (o->json) {
              std::cout << explain::explanation_json(x, trace).dump() << '\n';
            } else {
              std::cout << explain::explanation_text(x, trace);
            }
            return x.violation.is_object() ? 1 : 0;
          }};
}

}  // namespace seer::cli
