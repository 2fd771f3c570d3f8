// Entry point of the `seer` CLI: seer's own command line over the built-in example systems. A
// user's program gets the same commands over its own systems (include/seer/cli/main.hpp).
#include "seer/cli/main.hpp"
#include "seer/systems/builtin.hpp"

int main(int argc, char** argv) {
  seer::sim::register_builtin_systems();
  return seer::cli::main(argc, argv);
}
