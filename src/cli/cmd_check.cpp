// `seer check --model NAME FILE...`: linearizability of histories from seer, Jepsen or live
// systems. Exit 0 all linearizable, 1 a violation, 3 unknown (time limit), 2 usage or input error.
#include "command.hpp"
#include "seer/check/html_report.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/system.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

namespace seer::cli {

namespace {
struct CheckCommand {
  std::string model = "register";
  std::string init;  // empty: the model's default (nil for registers)
  std::string format = "auto";
  std::vector<std::string> files;
  double timeout_s = 60;
  unsigned jobs = 0;
  std::string html_dir;
  bool json = false;
  bool no_special = false;
  bool no_partition = false;
};
// A fresh model per history, as --init leaves it.
std::unique_ptr<check::AnyModel> fresh_model(const CheckCommand& cmd) {
  auto model = check::make_model(cmd.model);
  if (!model) {
    throw UsageError("unknown model '" + cmd.model + "' (known: " + check::model_names() + ")");
  }
  try {
    if (!cmd.init.empty()) model->set_init(cmd.init);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return model;
}

check::CheckOptions check_options(const CheckCommand& cmd) {
  check::CheckOptions options;
  options.special = !cmd.no_special;
  options.partition = !cmd.no_partition;
  options.witness_states = !cmd.html_dir.empty();
  options.jobs = cmd.jobs ? cmd.jobs : std::max(1u, std::thread::hardware_concurrency());
  options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(cmd.timeout_s * 1000));
  return options;
}

void write_html_report(const std::string& dir, const std::string& file,
                       const std::vector<check::Operation>& ops, const check::CheckResult& result,
                       const check::AnyModel& model) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto out =
      std::filesystem::path(dir) / (std::filesystem::path(file).filename().string() + ".html");
  std::ofstream html(out, std::ios::trunc);
  if (!html) throw UsageError("cannot write '" + out.string() + "'");
  html << check::render_html_report(file, ops, result, model);
}

// Reads and checks one history file; its exit code (0, 1 a violation, 3 unknown).
int check_file(const CheckCommand& cmd, const std::string& file, check::HistoryFormat format,
               const check::CheckOptions& options) {
  const auto model = fresh_model(cmd);
  std::vector<check::Operation> ops;
  check::CheckResult result;
  const auto started = std::chrono::steady_clock::now();
  try {
    ops = check::read_history_file(file, format);
  } catch (const check::HistoryError& e) {
    throw UsageError(e.what());
  }
  try {
    result = check::check_linearizable(ops, *model, options);
  } catch (const check::HistoryError& e) {  // a model rejecting an operation
    throw UsageError(file + ": " + e.what());
  }
  if (!cmd.html_dir.empty()) write_html_report(cmd.html_dir, file, ops, result, *model);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (cmd.json) {
    auto j = result.to_json(ops);
    j["file"] = file;
    j["model"] = cmd.model;
    j["elapsed_s"] = elapsed;
    std::cout << check::to_text(j) << '\n';
  } else {
    std::cout << fmt::format("{}: {} ({} operations, {:.3f}s)\n", file,
                             check::verdict_name(result.verdict), ops.size(), elapsed);
    if (!result.explanation.empty()) std::cout << "  " << result.explanation << '\n';
  }
  if (result.verdict == check::Verdict::kNotLinearizable) return 1;
  return result.verdict == check::Verdict::kUnknown ? 3 : 0;
}

}  // namespace

Command add_check_command(CLI::App& root) {
  auto cmd = std::make_shared<CheckCommand>();
  auto* app = root.add_subcommand("check", "Check histories for linearizability against a model");
  app->add_option("--model", cmd->model, "Model: " + check::model_names());
  std::string models = "Models:\n";
  for (const auto& m : check::registered_models()) {
    models += "  " + m.name + ": " + m.summary + "\n";
  }
  app->footer(models);
  app->add_option(
      "--init", cmd->init,
      "Initial state of the model: an integer, nil, or a string in double quotes (e.g. '\"\"')");
  app->add_option("files", cmd->files, "History files (seer JSONL, Jepsen JSON, EDN or log)")
      ->required();
  app->add_option("--format", cmd->format, "Input format: auto, jsonl, json, edn, jepsen-log");
  app->add_option("--timeout", cmd->timeout_s, "Seconds per history before the verdict is unknown")
      ->check(CLI::Range(0.001, 31'536'000.0));  // 1 ms to a year: 1e300 s overflowed
  app->add_option("--jobs", cmd->jobs,
                  "Threads for checking keys in parallel (default: all cores)");
  app->add_option("--html", cmd->html_dir,
                  "Write a self-contained HTML report per history into DIR");
  app->add_flag("--json", cmd->json, "One JSON object per file");
  app->add_flag("--no-special", cmd->no_special,
                "Always use the general search, never a model's linear-time checker");
  app->add_flag("--no-partition", cmd->no_partition,
                "Keyed models: one search over all keys instead of one per key (slower, for "
                "comparison)");
  return {app, [cmd] {
            fresh_model(*cmd);  // usage errors before any file is read
            check::HistoryFormat format;
            try {
              format = check::parse_history_format(cmd->format);
            } catch (const std::invalid_argument& e) {
              throw UsageError(e.what());
            }
            const auto options = check_options(*cmd);
            int exit_code = 0;
            for (const auto& file : cmd->files) {
              const int code = check_file(*cmd, file, format, options);
              if (code == 1 || exit_code == 0) exit_code = code;
            }
            return exit_code;
          }};
}

}  // namespace seer::cli
