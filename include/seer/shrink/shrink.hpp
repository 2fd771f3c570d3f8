// Shrinking a failing run: a smaller run that fails the same invariant.
//
// The seeded run is recorded as an explicit fault schedule (seer/sim/schedule.hpp), then reduced by
// delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002):
// fewer client operations, fewer faults, then default latencies for as many messages as possible.
// A candidate is kept when its replay fails the same invariant. Shrinking is deterministic: the
// same run and budget give the same result on every machine; only --time-limit can cut it short
// earlier on a slow one.
#pragma once

#include "seer/sim/system.hpp"

#include <functional>
#include <string>
#include <vector>

namespace seer::shrink {

struct ShrinkOptions {
  std::size_t max_runs = 4000;  // candidate replays
  double time_limit_s = 60;     // wall-clock safety net
};

struct ShrinkStep {
  std::string what;  // "ops", "faults", "latencies"
  std::size_t before = 0;
  std::size_t after = 0;
};

struct ShrinkProgress {
  std::size_t runs = 0;
  int ops = 0;
  std::size_t faults = 0;
  std::size_t latencies = 0;
};

struct ShrinkResult {
  bool failing = false;  // false: the original run held, nothing to shrink
  std::string invariant;
  sim::RunConfig original;
  sim::RunConfig shrunk;  // shrunk.schedule is the explicit schedule
  sim::RunResult original_result;
  sim::RunResult shrunk_result;  // traced when the original config asked for a trace
  std::size_t original_faults = 0;
  std::size_t original_latencies = 0;
  std::vector<ShrinkStep> steps;
  std::size_t runs = 0;
  double elapsed_s = 0;
  bool budget_exhausted = false;  // stopped by max_runs or the time limit
};

ShrinkResult shrink_run(const sim::System& system, const std::string& variant,
                        const sim::RunConfig& config, const ShrinkOptions& options = {},
                        const std::function<void(const ShrinkProgress&)>& progress = {});

}  // namespace seer::shrink
