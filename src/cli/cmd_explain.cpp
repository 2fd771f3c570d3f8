// `seer explain TRACE`: why a recorded run failed, from the trace and its forbidden facts alone.
// With --verify, each of the first causes is also put to the test by re-running the run without
// the deviations its events show (seer/counterfactual/counterfactual.hpp).
// Exit 1 when the trace records a violation (explained), 0 when the run held, 2 on bad input.
#include "command.hpp"
#include "run_file_io.hpp"
#include "seer/counterfactual/counterfactual.hpp"
#include "seer/explain/explain.hpp"
#include "trace_input.hpp"

#include <iostream>

namespace seer::cli {

namespace {

// The run the trace records, on this program's systems: its seed, or its schedule when it has one.
ChosenRun run_of(const explain::Trace& trace) {
  if (trace.header.value("redacted", false)) {
    throw UsageError(trace.path +
                     ": --verify needs the full trace: a redacted one keeps no fault profile, "
                     "schedule or trace hash to re-run the run from");
  }
  sim::RunDescription description;
  try {
    description = sim::parse_run_fields(trace.header);
  } catch (const std::invalid_argument& e) {
    throw UsageError(trace.path + ": " + e.what());
  }
  return chosen_from(description);
}

}  // namespace

Command add_explain_command(CLI::App& root) {
  struct Options {
    std::string trace;
    bool json = false;
    bool verify = false;
  };
  auto o = std::make_shared<Options>();
  auto* app = root.add_subcommand(
      "explain", "Explain why a recorded run failed: ranked causes and the minimal event sequence");
  app->add_option("trace", o->trace, "Trace file (seer run ... --trace FILE)")->required();
  app->add_flag("--json", o->json, "Machine-readable output (causes with event ids)");
  app->add_flag("--verify", o->verify,
                "Re-run the run without what each of the first three causes shows, and say "
                "whether it still fails (needs the trace's system in this program)");
  return {app, [o] {
            const explain::Trace trace = load_trace(o->trace);
            // Resolved before any output: a system this program lacks is a usage error.
            const std::optional<ChosenRun> run =
                o->verify ? std::optional<ChosenRun>(run_of(trace)) : std::nullopt;
            const explain::CausalGraph graph(trace);
            const auto x = explain::explain_trace(trace, graph);
            std::optional<counterfactual::Verification> checked;
            if (run) {
              checked =
                  counterfactual::verify_causes(*run->system, run->variant, run->config, trace, x);
            }
            if (o->json) {
              auto j = explain::explanation_json(x, trace);
              if (checked) j["verify"] = counterfactual::verification_json(*checked);
              std::cout << j.dump() << '\n';
            } else {
              std::cout << explain::explanation_text(x, trace);
              if (checked) std::cout << '\n' << counterfactual::verification_text(*checked, x);
            }
            return x.violation.is_object() ? 1 : 0;
          }};
}

}  // namespace seer::cli
