// seer's command line as a library: a program that links `seer::cli` gets every command (list,
// run, sweep, merge, replay, shrink, explain, query, view, export, check, mcp, new) over the
// systems and checker models registered in it. A user's own `seer`:
//
//   // my_system.cpp
//   SEER_REGISTER_SYSTEM(std::make_unique<MySystem>());
//
//   # CMakeLists.txt
//   find_package(seer 0.2 REQUIRED)
//   seer_add_simulation(my_seer SOURCES my_system.cpp)   # main() comes from seer::cli_main
//
// or, with a main of its own, `return seer::cli::main(argc, argv);`. The built-in example systems
// are not in such a program unless it asks for them: seer_add_simulation(... BUILTIN_SYSTEMS), or
// link seer::systems and write SEER_USE_BUILTIN_SYSTEMS(); (seer/systems/builtin.hpp).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace seer::cli {

// Parses the arguments (argv[0] is the program's name) and runs the chosen command. Usage and
// input errors go to stderr as one line "<program>: error: ..."; returns the exit code: 0 ok,
// 1 violation, 2 usage or input error, 3 the checker gave up, 4 a replay diverged.
int main(int argc, char** argv);

// The same with the arguments after the program name, errors to `err` (what `seer mcp` uses to
// run a command for an agent).
int run_command_line(const std::vector<std::string>& args, std::ostream& err);

}  // namespace seer::cli
