// Placeholder: the checker component (issue 3) replaces this file.
#include "command.hpp"

#include <iostream>

namespace seer::cli {
Command add_check_command(CLI::App& root) {
  auto* app = root.add_subcommand("check", "Check a history for linearizability (not yet built)");
  return {app, [] {
            std::cerr << "seer: error: check is not built yet\n";
            return 2;
          }};
}
}  // namespace seer::cli
