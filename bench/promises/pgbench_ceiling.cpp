#include "pgbench_ceiling.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace seer::bench {

namespace {

// Runs `args` and returns what it wrote to stdout and stderr; throws unless it exits 0.
std::string output_of(std::vector<std::string> args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + args[0]);
  }
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(args[0] + " failed: " + text.substr(0, 300));
  }
  return text;
}

}  // namespace

double pgbench_tps(const std::string& pgbench, const std::string& database, int clients,
                   double seconds) {
  output_of({pgbench, "-i", "-s", "8", "-q", database});
  const auto text = output_of({pgbench, "-n", "-M", "prepared", "-c", std::to_string(clients), "-j",
                               std::to_string(clients < 2 ? 1 : 2), "-T",
                               std::to_string(std::max(1L, std::lround(seconds))), database});
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"(tps = ([0-9.]+))"))) {
    throw std::runtime_error("pgbench printed no tps: " + text.substr(0, 300));
  }
  return std::stod(m[1]);
}

}  // namespace seer::bench
