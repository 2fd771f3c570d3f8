// Linear-time checkers for models where one exists. Each returns nullopt when the history falls
// outside the case it handles (e.g. a value added twice), and the general search takes over.
#pragma once

#include "seer/check/result.hpp"

#include <optional>
#include <vector>

namespace seer::check {

// Grow-only set (add v, read -> all values) whose adds all have distinct values.
std::optional<CheckResult> check_set_special(const std::vector<Operation>& ops);

}  // namespace seer::check
