// One subcommand of the `seer` CLI. Each command lives in its own cmd_*.cpp, registers its options
// on the root app and returns the function that runs it when chosen. The function returns the
// process exit code: 0 ok, 1 violation found, 2 usage or input error, 3 unknown (checker gave up),
// 4 a replay diverged.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace seer::cli {

using Runner = std::function<int()>;

struct Command {
  CLI::App* app = nullptr;
  Runner run;
};

// Thrown for bad user input (unknown system, malformed file, unwritable path). main() prints
// "seer: error: <what>" on one line and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Command add_run_command(CLI::App& root);
Command add_sweep_command(CLI::App& root);
Command add_merge_command(CLI::App& root);
Command add_replay_command(CLI::App& root);
Command add_list_command(CLI::App& root);
Command add_check_command(CLI::App& root);
Command add_explain_command(CLI::App& root);
Command add_query_command(CLI::App& root);
Command add_shrink_command(CLI::App& root);
Command add_view_command(CLI::App& root);
Command add_export_command(CLI::App& root);
Command add_new_command(CLI::App& root);
Command add_mcp_command(CLI::App& root);
Command add_serve_kv_command(CLI::App& root);
Command add_serve_sql_command(CLI::App& root);

}  // namespace seer::cli
