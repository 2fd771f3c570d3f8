// Entry point of the `seer` CLI: dispatches to subcommands and maps errors to exit codes.
#include "command.hpp"

#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  CLI::App root{
      "seer: specify, simulate deterministically, explain, and check distributed systems"};
  root.require_subcommand(1);
  root.set_help_all_flag("--help-all", "Show help for all subcommands");

  std::vector<seer::cli::Command> commands;
  commands.push_back(seer::cli::add_run_command(root));
  commands.push_back(seer::cli::add_sweep_command(root));
  commands.push_back(seer::cli::add_replay_command(root));
  commands.push_back(seer::cli::add_list_command(root));
  commands.push_back(seer::cli::add_check_command(root));
  commands.push_back(seer::cli::add_explain_command(root));
  commands.push_back(seer::cli::add_query_command(root));
  commands.push_back(seer::cli::add_shrink_command(root));

  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "seer: error: " << e.what() << " (see seer --help)\n";
    return 2;
  }
  try {
    for (auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const seer::cli::UsageError& e) {
    std::cerr << "seer: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "seer: error: " << e.what() << "\n";
    return 2;
  } catch (...) {
    std::cerr << "seer: error: unexpected failure\n";
    return 2;
  }
  return 2;
}
