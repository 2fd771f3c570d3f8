#include "sweep_report.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace seer::cli {

nlohmann::json failing_json(const std::vector<SweepRecord>& failures) {
  nlohmann::json failing = nlohmann::json::array();
  for (const auto& f : failures) {
    failing.push_back({{"seed", f.seed},
                       {"invariant", f.invariant},
                       {"kind", f.liveness ? "liveness" : "safety"},
                       {"message", f.message},
                       {"reproduce", f.reproduce}});
  }
  return failing;
}

void print_failures_text(std::ostream& out, const std::vector<SweepRecord>& failures) {
  const std::size_t shown = std::min<std::size_t>(failures.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) {
    out << fmt::format("  seed {}: {}{}: {}\n", failures[i].seed, failures[i].invariant,
                       failures[i].liveness ? " (liveness)" : "", failures[i].message);
  }
  if (failures.size() > shown) {
    out << fmt::format("  ... and {} more (use --json for all)\n", failures.size() - shown);
  }
}

}  // namespace seer::cli
