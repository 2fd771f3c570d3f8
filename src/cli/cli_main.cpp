// main() for a user's own seer (seer_add_simulation): the command line over the systems the
// program registered with SEER_REGISTER_SYSTEM.
#include "seer/cli/main.hpp"

int main(int argc, char** argv) {
  return seer::cli::main(argc, argv);
}
