#include "app.hpp"

#include "command.hpp"
#include "sweep_record.hpp"

#include <iostream>
#include "seer/sim/system.hpp"

namespace seer::cli {
namespace {

std::string& program_name_storage() {
  static std::string name = "seer";
  return name;
}

// Every subcommand by its name, in the order `seer --help` lists them.
struct CommandEntry {
  const char* name;
  Command (*add)(CLI::App&);
};
constexpr CommandEntry kCommands[] = {
    {"run", add_run_command},
    {"sweep", add_sweep_command},
    {"merge", add_merge_command},
    {"replay", add_replay_command},
    {"shrink", add_shrink_command},
    {"list", add_list_command},
    {"check", add_check_command},
    {"explain", add_explain_command},
    {"query", add_query_command},
    {"view", add_view_command},
    {"export", add_export_command},
    {"new", add_new_command},
    {"mcp", add_mcp_command},
    {"serve-kv", add_serve_kv_command},
    {"serve-sql", add_serve_sql_command},
};

}  // namespace

const std::string& program_name() {
  return program_name_storage();
}

int run_command_line(const std::vector<std::string>& args, std::ostream& err) {
  // The systems (and the checker models they contribute) are the program's: registered before
  // this by SEER_REGISTER_SYSTEM or by the program's main (seer's registers the built-in ones).
  CLI::App root{
      "seer: specify, simulate deterministically, explain, and check distributed systems"};
  root.require_subcommand(1);
  root.set_help_all_flag("--help-all", "Show help for all subcommands");
  // The release and the git commit built from ("" outside a checkout): what a sweep's --out header
  // records, and what a merge compares.
  const std::string commit = seer_commit();
  root.set_version_flag("--version", std::string("seer ") + seer_version() +
                                         (commit.empty() ? "" : " (commit " + commit + ")"));

  // Building a subcommand's options is most of a short command's start-up (a kv check takes a
  // few ms in all), so when the first argument names a subcommand only that one is built: a
  // subcommand's parse, help and errors do not involve its siblings (at most one is chosen).
  // Anything else (no argument, --help, --version, a typo) builds them all, for the listing.
  const CommandEntry* chosen = nullptr;
  for (const auto& entry : kCommands) {
    if (!args.empty() && args[0] == entry.name) chosen = &entry;
  }
  std::vector<Command> commands;
  if (chosen) {
    commands.push_back(chosen->add(root));
  } else {
    for (const auto& entry : kCommands) commands.push_back(entry.add(root));
  }

  std::vector<const char*> argv{"seer"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    root.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    err << "seer: error: " << e.what() << " (see seer --help)\n";
    return 2;
  }
  try {
    for (auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const UsageError& e) {
    err << "seer: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "seer: error: " << e.what() << "\n";
    return 2;
  } catch (...) {
    err << "seer: error: unexpected failure\n";
    return 2;
  }
  return 2;
}

int main(int argc, char** argv) {
  if (argc > 0 && argv[0] != nullptr && *argv[0] != '\0') {
    const std::string path = argv[0];
    program_name_storage() = path.substr(path.find_last_of('/') + 1);
  }
  return run_command_line(std::vector<std::string>(argv + 1, argv + argc), std::cerr);
}

}  // namespace seer::cli
