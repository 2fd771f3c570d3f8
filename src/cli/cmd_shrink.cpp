// `seer shrink SYSTEM --seed N` (or `--from FILE`): a smaller run failing the same invariant, saved
// as a run file that `seer replay --run FILE` reproduces. Exit 1 shrunk a violation, 0 the run held
// (nothing to shrink), 2 bad input.
#include "run_file_io.hpp"
#include "run_options.hpp"
#include "seer/shrink/shrink.hpp"
#include "trace_input.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

namespace seer::cli {

namespace {

struct ShrinkCommand {
  RunOptions options;
  std::string seed;
  std::string from;
  std::string output;
  std::string trace_path;
  bool redact = false;
  shrink::ShrinkOptions limits;
};

nlohmann::json side_json(const sim::RunConfig& config, std::size_t faults, std::size_t latencies,
                         const sim::RunResult& result) {
  return {{"ops", config.ops},
          {"faults", faults},
          {"latencies", latencies},
          {"events", result.events},
          {"history_ops", result.history.size()},
          {"trace_hash", sim::hash_hex(result.trace_hash)}};
}

void print_nothing_to_shrink(bool json, const std::string& name, const std::string& variant,
                             std::uint64_t seed) {
  if (json) {
    std::cout << nlohmann::json{{"system", name},
                                {"variant", variant},
                                {"seed", seed},
                                {"failing", false}}
                     .dump()
              << '\n';
  } else {
    std::cout << fmt::format("{}/{} seed {}: the run holds; nothing to shrink\n", name, variant,
                             seed);
  }
}

void print_shrunk_json(const ShrinkCommand& cmd, const std::string& name,
                       const std::string& variant, std::uint64_t seed, const std::string& output,
                       const shrink::ShrinkResult& r) {
  const auto& schedule = *r.shrunk.schedule;
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    steps.push_back({{"what", s.what}, {"before", s.before}, {"after", s.after}});
  }
  std::cout << nlohmann::json{{"system", name},
                              {"variant", variant},
                              {"seed", seed},
                              {"failing", true},
                              {"invariant", r.invariant},
                              {"violation", sim::violation_json(r.shrunk_result)},
                              {"original", side_json(r.original, r.original_faults,
                                                     r.original_latencies, r.original_result)},
                              {"shrunk", side_json(r.shrunk, schedule.fault_count(),
                                                   schedule.latencies.size(), r.shrunk_result)},
                              {"schedule", schedule.to_json()},
                              {"steps", steps},
                              {"runs", r.runs},
                              {"elapsed_s", r.elapsed_s},
                              {"budget_exhausted", r.budget_exhausted},
                              {"run_file", output},
                              {"trace", cmd.trace_path.empty() ? nlohmann::json()
                                                               : nlohmann::json(cmd.trace_path)}}
                   .dump()
            << '\n';
}

void print_shrunk_text(const ShrinkCommand& cmd, const std::string& name,
                       const std::string& variant, std::uint64_t seed, const std::string& output,
                       const shrink::ShrinkResult& r) {
  const auto& schedule = *r.shrunk.schedule;
  std::cout << fmt::format("{}/{} seed {}: {} violated; shrunk in {} runs ({:.1f}s){}\n", name,
                           variant, seed, r.invariant, r.runs, r.elapsed_s,
                           r.budget_exhausted ? ", stopped by the budget" : "");
  std::cout << fmt::format(
      "  ops {} -> {}, faults {} -> {}, non-default latencies {} -> {}, events {} -> "
      "{}\n  left: {}\n",
      r.original.ops, r.shrunk.ops, r.original_faults, schedule.fault_count(), r.original_latencies,
      schedule.latencies.size(), r.original_result.events, r.shrunk_result.events,
      schedule.summary());
  std::cout << fmt::format("  {}: {}\n", r.invariant, r.shrunk_result.violation->message);
  std::cout << fmt::format("saved: {} (seer replay --run {})\n", output, output);
  if (!cmd.trace_path.empty()) {
    std::cout << fmt::format("trace: {} (seer explain {})\n", cmd.trace_path, cmd.trace_path);
  }
}

// Shrinks with a progress line on a terminal; a run description shrink cannot take is a usage
// error naming its source.
shrink::ShrinkResult shrink_with_progress(const ShrinkCommand& cmd, const sim::System& system,
                                          const std::string& variant,
                                          const sim::RunConfig& config) {
  const bool progress = !cmd.options.json && isatty(STDERR_FILENO);
  std::function<void(const shrink::ShrinkProgress&)> report;
  if (progress) {
    report = [](const shrink::ShrinkProgress& p) {
      std::cerr << fmt::format("\r{} runs: {} ops, {} faults, {} latencies   ", p.runs, p.ops,
                               p.faults, p.latencies)
                << std::flush;
    };
  }
  shrink::ShrinkResult r;
  try {
    r = shrink::shrink_run(system, variant, config, cmd.limits, report);
  } catch (const std::invalid_argument& e) {
    throw UsageError((cmd.from.empty() ? std::string("shrink") : cmd.from) + ": " + e.what());
  }
  if (progress) std::cerr << '\n';
  return r;
}

}  // namespace

Command add_shrink_command(CLI::App& root) {
  auto cmd = std::make_shared<ShrinkCommand>();
  auto* app = root.add_subcommand(
      "shrink", "Find a smaller run that fails the same invariant and save it as a run file");
  app->add_option("system", cmd->options.system, "System (not needed with --from)");
  app->add_option("--variant", cmd->options.variant, "Variant of the system (default: its first)");
  app->add_option("--seed", cmd->seed, "Seed of the failing run");
  app->add_option("--ops", cmd->options.ops, "Client operations")->check(CLI::Range(1, 1'000'000));
  app->add_option("--faults", cmd->options.faults, "Fault profile (as for run)");
  app->add_option("--service", cmd->options.services, "NAME=IMPL (as for run)")->take_all();
  app->add_option("--from", cmd->from, "Shrink the run a trace or run file describes");
  app->add_option("-o,--output", cmd->output,
                  "Run file to write (default: shrunk-SYSTEM-SEED.json)");
  app->add_option("--trace", cmd->trace_path, "Also write the shrunk run's trace");
  app->add_option("--max-runs", cmd->limits.max_runs, "Most candidate replays (default 4000)")
      ->check(CLI::Range(1, 100'000'000));
  app->add_option("--time-limit", cmd->limits.time_limit_s,
                  "Stop after this many seconds with the smallest run so far (default 60)")
      ->check(CLI::Range(0.001, 86400.0));
  app->add_flag("--redact", cmd->redact,
                "Write the trace without forbidden facts (what production logs could hold)");
  app->add_flag("--json", cmd->options.json, "Machine-readable output");
  return {app, [cmd] {
            auto [system, variant, config] =
                cmd->from.empty() ? chosen_from_seed(cmd->options, cmd->seed,
                                                     "shrink needs SYSTEM --seed N, or --from FILE")
                                  : chosen_from(read_run_description(cmd->from));
            if (cmd->redact && cmd->trace_path.empty()) {
              throw UsageError("--redact needs --trace FILE");
            }
            const auto name = system->info().name;
            const auto output = cmd->output.empty()
                                    ? fmt::format("shrunk-{}-{}.json", name, config.seed)
                                    : cmd->output;
            check_writable(output);
            if (!cmd->trace_path.empty()) check_writable(cmd->trace_path);
            config.record_trace = !cmd->trace_path.empty();
            const auto r = shrink_with_progress(*cmd, *system, variant, config);
            if (!r.failing) {
              print_nothing_to_shrink(cmd->options.json, name, variant, config.seed);
              return 0;
            }
            write_json_file(output, sim::run_file_json(name, variant, r.shrunk, r.shrunk_result));
            if (!cmd->trace_path.empty()) {
              write_trace_file(cmd->trace_path,
                               sim::trace_header(*system, variant, r.shrunk, r.shrunk_result),
                               r.shrunk_result);
              if (cmd->redact) redact_trace_file(cmd->trace_path);
            }
            if (cmd->options.json) {
              print_shrunk_json(*cmd, name, variant, config.seed, output, r);
            } else {
              print_shrunk_text(*cmd, name, variant, config.seed, output, r);
            }
            return 1;
          }};
}

}  // namespace seer::cli
