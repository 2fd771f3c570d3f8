// `seer replay`: re-run a seed (or the run a trace or run file describes) and prove it identical by
// trace hash. Exit 0 reproduced and holds, 1 reproduced a violation, 2 bad input, 4 the replay
// diverged.
#include "run_file_io.hpp"
#include "run_options.hpp"
#include "seer/input_size.hpp"
#include "seer/json_input.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace seer::cli {

namespace {

struct ReplayCommand {
  RunOptions options;
  std::string seed;
  std::string trace_path;
  std::string run_path;
  bool recheck = false;
};

struct RecordedTrace {
  nlohmann::json header;
  std::vector<std::string> events;
  nlohmann::json footer;
};

RecordedTrace read_trace(const std::string& path) {
  if (const auto why = input_refused(path)) throw UsageError(*why);
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError("cannot read trace '" + path + "'");
  std::string text;
  if (const auto why = read_bounded(file, path, text)) throw UsageError(*why);
  std::istringstream in(std::move(text));
  RecordedTrace t;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    nlohmann::json j;
    try {
      j = parse_json_bounded(line);
    } catch (const JsonTooDeep& e) {
      throw UsageError(fmt::format("{}:{}: corrupt trace: {}", path, number, e.what()));
    } catch (const nlohmann::json::exception&) {
      throw UsageError(fmt::format("{}:{}: corrupt trace: not a JSON object", path, number));
    }
    if (!j.is_object()) {
      throw UsageError(fmt::format("{}:{}: corrupt trace: not a JSON object", path, number));
    }
    if (number == 1) {
      if (!j.contains("seer_trace")) throw UsageError(path + ":1: not a seer trace (no header)");
      t.header = std::move(j);
    } else if (j.contains("end")) {
      t.footer = std::move(j);
    } else {
      if (!t.footer.is_null()) {
        throw UsageError(fmt::format("{}:{}: corrupt trace: event after footer", path, number));
      }
      t.events.push_back(line);
    }
  }
  if (t.header.is_null()) throw UsageError(path + ": empty trace");
  if (t.footer.is_null()) throw UsageError(path + ": truncated trace (no footer line)");
  return t;
}

// A schedule naming processes the system does not have is bad input, found when the run starts.
sim::RunResult run_or_usage_error(const sim::System& system, const std::string& variant,
                                  const sim::RunConfig& config) {
  try {
    return sim::run_system(system, variant, config);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// --recheck: the verdict of the run on the current code. A changed trace hash is expected after a
// fix, so it is reported, not judged.
int report_recheck(const sim::System& system, const std::string& variant,
                   const sim::RunResult& result, bool json) {
  if (json) {
    auto j = run_result_json(system, variant, result);
    j["recheck"] = true;
    std::cout << j.dump() << '\n';
  } else if (result.violation) {
    std::cout << fmt::format("{}/{} seed {}: VIOLATION of {} on the current code: {}\n",
                             system.info().name, variant, result.seed, result.violation->invariant,
                             result.violation->message);
  } else {
    std::cout << fmt::format("{}/{} seed {}: holds on the current code ({} events)\n",
                             system.info().name, variant, result.seed, result.events);
  }
  return result.violation ? 1 : 0;
}

// What a replay reproduces: the run, and what it must match (a trace's events, a recorded hash).
struct ReplayTarget {
  ChosenRun chosen;
  RecordedTrace recorded;         // with --trace
  std::string expected_run_hash;  // a run file's recorded trace hash, if any
};

ReplayTarget replay_target(const ReplayCommand& cmd) {
  if (!cmd.trace_path.empty() && !cmd.run_path.empty()) {
    throw UsageError("give --trace or --run, not both");
  }
  ReplayTarget t;
  if (!cmd.trace_path.empty()) {
    t.recorded = read_trace(cmd.trace_path);
    if (t.recorded.header.value("redacted", false)) {
      throw UsageError(cmd.trace_path +
                       ":1: a redacted trace lacks the fault schedule to replay; replay its run "
                       "file (--run) or its seed");
    }
    try {
      t.chosen = chosen_from(sim::parse_run_fields(t.recorded.header));
    } catch (const std::invalid_argument& e) {
      throw UsageError(cmd.trace_path + ":1: bad trace header: " + e.what());
    }
  } else if (!cmd.run_path.empty()) {
    const auto described = read_run_description(cmd.run_path);
    t.expected_run_hash = described.expected_trace_hash;
    t.chosen = chosen_from(described);
  } else {
    t.chosen = chosen_from_seed(cmd.options, cmd.seed,
                                "replay needs SYSTEM --seed N, --trace FILE or --run FILE");
  }
  if (!cmd.options.variant.empty() && (!cmd.trace_path.empty() || !cmd.run_path.empty())) {
    // Another variant on the recorded seed and fault schedule: whether a fix kept as a variant of
    // its own holds where the original failed. Never a proof of identity.
    if (!cmd.recheck) {
      throw UsageError(
          "--variant with --run or --trace needs --recheck (a replay proves the recorded run "
          "identical, in its own variant)");
    }
    RunOptions other;
    other.system = t.chosen.system->info().name;
    other.variant = cmd.options.variant;
    resolve_system(other, t.chosen.variant);
  }
  return t;
}

// Whether the replay is identical to what was recorded (nothing recorded: a second run), and where
// it diverged if not.
struct Comparison {
  bool identical = true;
  std::string detail;
  std::uint64_t expected_hash = 0;
};

// Two event lines of one run: equal bytes, or equal but for "at", the design's line behind the
// event (docs/trace-format.md), which moves whenever the code is edited while the run stays the
// same.
bool same_event(const std::string& replayed, const std::string& recorded) {
  if (replayed == recorded) return true;
  auto a = nlohmann::json::parse(replayed, nullptr, false);
  auto b = nlohmann::json::parse(recorded, nullptr, false);
  if (!a.is_object() || !b.is_object()) return false;
  a.erase("at");
  b.erase("at");
  return a == b;
}

Comparison compare_replay(const ReplayCommand& cmd, const ReplayTarget& t,
                          const sim::RunResult& first) {
  Comparison c;
  const auto& [system, variant, config] = t.chosen;
  if (!cmd.trace_path.empty()) {
    c.expected_hash =
        std::stoull(t.recorded.footer.value("trace_hash", std::string("0")), nullptr, 16);
    std::size_t i = 0;
    while (i < first.trace_lines.size() && i < t.recorded.events.size() &&
           same_event(first.trace_lines[i], t.recorded.events[i])) {
      ++i;
    }
    if (i < first.trace_lines.size() || i < t.recorded.events.size()) {
      c.identical = false;
      c.detail = fmt::format("traces diverge at event line {}", i + 1);
    }
  } else if (!t.expected_run_hash.empty()) {
    c.expected_hash = std::stoull(t.expected_run_hash, nullptr, 16);
  } else {
    c.expected_hash = sim::run_system(*system, variant, config).trace_hash;
  }
  if (first.trace_hash != c.expected_hash) {
    c.identical = false;
    if (c.detail.empty()) c.detail = "trace hashes differ";
  }
  return c;
}

void print_replay(bool json, const sim::System& system, const std::string& variant,
                  std::uint64_t seed, const sim::RunResult& first, const Comparison& c) {
  if (json) {
    auto j = run_result_json(system, variant, first);
    j["identical"] = c.identical;
    j["expected_trace_hash"] = sim::hash_hex(c.expected_hash);
    if (!c.identical) j["divergence"] = c.detail;
    std::cout << j.dump() << '\n';
  } else if (c.identical) {
    std::cout << fmt::format("{}/{} seed {}: reproduced identically (trace hash {}, {} events){}\n",
                             system.info().name, variant, seed, sim::hash_hex(first.trace_hash),
                             first.events,
                             first.violation ? "; violation of " + first.violation->invariant : "");
  } else {
    std::cout << fmt::format("{}/{} seed {}: NOT identical: {} (expected {}, got {})\n",
                             system.info().name, variant, seed, c.detail,
                             sim::hash_hex(c.expected_hash), sim::hash_hex(first.trace_hash));
  }
}

}  // namespace

Command add_replay_command(CLI::App& root) {
  auto cmd = std::make_shared<ReplayCommand>();
  auto* app =
      root.add_subcommand("replay", "Re-run a seed, a trace or a run file and prove it identical");
  app->add_option("system", cmd->options.system, "System (not needed with --trace)");
  app->add_option("--variant", cmd->options.variant, "Variant");
  app->add_option("--seed", cmd->seed, "Seed to replay");
  app->add_option("--ops", cmd->options.ops, "Client operations")->check(CLI::Range(1, 1'000'000));
  app->add_option("--clients", cmd->options.clients, "Concurrent clients (as for run)")
      ->check(CLI::Range(1, 1'000'000));
  app->add_option("--faults", cmd->options.faults, "Fault profile");
  app->add_option("--service", cmd->options.services, "NAME=IMPL (as for run)")->take_all();
  app->add_option("--trace", cmd->trace_path, "Trace file to reproduce");
  app->add_option("--run", cmd->run_path,
                  "Run file to reproduce (from `seer shrink` or `seer run --save-run`)");
  app->add_flag("--recheck", cmd->recheck,
                "Re-run the run's seed and fault schedule on the code as it is now and answer "
                "whether it holds (exit 0) or violates (exit 1), without comparing trace hashes: "
                "for re-testing a fix (with --variant: on another variant of the same system)");
  app->add_flag("--json", cmd->options.json, "Machine-readable output");
  return {app, [cmd] {
            auto target = replay_target(*cmd);
            auto& [system, variant, config] = target.chosen;
            config.record_trace = !cmd->trace_path.empty() && !cmd->recheck;
            const auto first = run_or_usage_error(*system, variant, config);
            if (cmd->recheck) return report_recheck(*system, variant, first, cmd->options.json);
            const auto comparison = compare_replay(*cmd, target, first);
            print_replay(cmd->options.json, *system, variant, config.seed, first, comparison);
            if (!comparison.identical) return 4;
            return first.violation ? 1 : 0;
          }};
}

}  // namespace seer::cli
