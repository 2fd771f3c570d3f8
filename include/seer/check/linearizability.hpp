// Linearizability checking: Wing & Gong's backtracking search with Lowe's memoization of
// (set of linearized operations, model state), as in "Testing for linearizability" (Lowe, 2017).
#pragma once

#include "seer/check/history.hpp"
#include "seer/check/model.hpp"
#include "seer/check/model_registry.hpp"
#include "seer/check/result.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace seer::check {

CheckResult check_linearizable(const std::vector<Operation>& ops, const AnyModel& model,
                               const CheckOptions& options = {});
// The same check of a history the caller needs no more: its operations are moved into the keys'
// sub-histories instead of copied (a simulated run's history, checked once and dropped). They are
// moved back into `ops` before it returns, so a caller that lent their values may take them back
// (after an exception, `ops` is valid but its contents unspecified).
CheckResult check_linearizable(std::vector<Operation>&& ops, const AnyModel& model,
                               const CheckOptions& options = {});

}  // namespace seer::check
