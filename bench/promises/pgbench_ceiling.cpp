#include "pgbench_ceiling.hpp"

#include "seer/runtime/child_process.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <stdexcept>
#include <vector>

namespace seer::bench {

namespace {

// What `args` wrote to stdout and stderr; throws unless it exits 0.
std::string output_of(const std::vector<std::string>& args) {
  runtime::ChildProcess child(args, true);
  std::string text = child.read_all();
  if (child.stop(0, std::chrono::seconds(60)) != 0) {
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
