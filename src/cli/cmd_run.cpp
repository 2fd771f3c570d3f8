// `seer run SYSTEM --seed N`: one deterministic run, optionally recording its trace and history.
#include "run_file_io.hpp"
#include "run_options.hpp"
#include "trace_input.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>

namespace seer::cli {

namespace {
struct RunCommand {
  RunOptions options;
  std::string seed;
  std::string trace_path;
  std::string history_path;
  std::string save_run_path;
  bool redact = false;
};
}  // namespace

Command add_run_command(CLI::App& root) {
  auto cmd = std::make_shared<RunCommand>();
  auto* app = root.add_subcommand("run", "Simulate one seed of a system");
  add_run_options(*app, cmd->options);
  app->add_option("--seed", cmd->seed, "Seed of the run")->required();
  app->add_option("--trace", cmd->trace_path, "Write the trace (JSONL) to this file");
  app->add_option("--history", cmd->history_path, "Write the client history (JSONL) to this file");
  app->add_flag("--redact", cmd->redact,
                "Write the trace without forbidden facts: only what production logs could hold "
                "(each process's events, on its own clock)");
  app->add_option("--save-run", cmd->save_run_path,
                  "Write the run file: the run with its recorded fault schedule, for `seer replay "
                  "--run` (edit it to try the run without a fault)");
  return {app, [cmd] {
            std::string variant;
            const auto& system = resolve_system(cmd->options, variant);
            auto config = make_config(cmd->options, parse_seed(cmd->seed));
            config.record_trace = !cmd->trace_path.empty();
            if (!cmd->trace_path.empty()) check_writable(cmd->trace_path);
            if (!cmd->history_path.empty()) check_writable(cmd->history_path);
            if (!cmd->save_run_path.empty()) check_writable(cmd->save_run_path);
            config.record_schedule = !cmd->save_run_path.empty();
            const auto result = sim::run_system(system, variant, config);
            if (!cmd->save_run_path.empty()) {
              auto replayed = config;
              replayed.schedule = result.schedule;
              write_json_file(cmd->save_run_path,
                              sim::run_file_json(system.info().name, variant, replayed, result));
            }
            if (!cmd->trace_path.empty()) {
              write_trace_file(cmd->trace_path, sim::trace_header(system, variant, config, result),
                               result);
              if (cmd->redact) redact_trace_file(cmd->trace_path);
            } else if (cmd->redact) {
              throw UsageError("--redact needs --trace FILE");
            }
            if (!cmd->history_path.empty()) {
              std::ofstream(cmd->history_path, std::ios::trunc)
                  << sim::history_to_jsonl(result.history);
            }
            if (cmd->options.json) {
              std::cout << run_result_json(system, variant, result).dump() << '\n';
            } else if (result.violation) {
              std::cout << fmt::format("{}/{} seed {}: VIOLATION of {}{}: {}\n", system.info().name,
                                       variant, result.seed, result.violation->invariant,
                                       result.violation->liveness ? " (liveness)" : "",
                                       result.violation->message);
              std::cout << fmt::format("  after event {} at t={}ns; {} events, trace hash {}\n",
                                       result.violation->event, result.violation->time,
                                       result.events, sim::hash_hex(result.trace_hash));
            } else {
              std::cout << fmt::format(
                  "{}/{} seed {}: ok ({} events, {} messages delivered, "
                  "{} history entries, trace hash {}){}\n",
                  system.info().name, variant, result.seed, result.events, result.delivered,
                  result.history.size(), sim::hash_hex(result.trace_hash),
                  result.stalled ? " [stalled before clients finished]" : "");
            }
            return result.violation ? 1 : 0;
          }};
}

}  // namespace seer::cli
