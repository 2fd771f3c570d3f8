// What a linearizability check returns, and the knobs it takes. Separate from the search so that a
// model's own fast checker (CheckerModel::check_special) can build a result.
#pragma once

#include "seer/check/history.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace seer::check {

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };
const char* verdict_name(Verdict v);

struct CheckResult {
  Verdict verdict = Verdict::kUnknown;
  std::vector<int> witness;  // op ids in linearization order (linearizable), or longest prefix
  // Linearizable, with CheckOptions::witness_states: the model state after each witness op as
  // people read it (per key for keyed models), the effect the search chose where the model allows
  // several.
  std::vector<std::string> witness_states;
  int failing_op = -1;      // the op that could not be placed (violation)
  std::string explanation;  // one or two sentences
  std::uint64_t states_explored = 0;
  std::size_t partitions = 1;  // keyed models: how many keys were checked separately
  nlohmann::json partition;    // keyed models: the key whose sub-history failed
  nlohmann::json to_json(const std::vector<Operation>& ops) const;
};

struct CheckOptions {
  std::chrono::milliseconds timeout{60'000};  // past it the verdict is unknown
  // Search steps after which the verdict is unknown (0: no limit). Unlike the timeout it depends
  // on the history alone, so a simulated run's verdict is the same on every machine.
  std::uint64_t max_steps = 0;
  unsigned jobs = 1;    // threads for checking partitions in parallel
  bool special = true;  // use a model's linear-time checker when the history fits it (set)
  // Keyed models: check each key's sub-history on its own (P-compositionality). false: one search
  // over the whole history with the tuple of every key's state (as Porcupine's non-partitioned
  // models do; the same verdict, slower).
  bool partition = true;
  // Describe the state after each witness op (CheckResult::witness_states), for reports. Off by
  // default: describing a large state per op can cost more than the search.
  bool witness_states = false;
};

// The step budget for a simulated run's history (and for explaining one): a verdict of unknown
// past it is part of the run's outcome, the same on every machine.
inline constexpr std::uint64_t kSimulatedRunSteps = 20'000'000;

}  // namespace seer::check
