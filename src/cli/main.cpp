// Entry point of the `seer` CLI (app.cpp holds the command table and the exit-code mapping).
#include "app.hpp"

#include <iostream>

int main(int argc, char** argv) {
  return seer::cli::run_command_line(std::vector<std::string>(argv + 1, argv + argc), std::cerr);
}
