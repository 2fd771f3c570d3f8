// The parts of a sweep's report that `seer sweep` and `seer merge` share, so a merge of shards
// reads like the sweep it stands for: the failing seeds as JSON (`failing` of sweep --json) and as
// text.
#pragma once

#include "sweep_record.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <vector>

namespace seer::cli {

// [{seed, invariant, kind, message, reproduce}] of the failing records, in the given order.
nlohmann::json failing_json(const std::vector<SweepRecord>& failures);

// "  seed N: INVARIANT[ (liveness)]: MESSAGE" for the first ten, then how many more.
void print_failures_text(std::ostream& out, const std::vector<SweepRecord>& failures);

}  // namespace seer::cli
