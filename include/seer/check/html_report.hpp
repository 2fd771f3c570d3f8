// A self-contained HTML view of one checked history (no network, no CDN): a lane per process,
// operations as intervals, the witness (or longest linearizable prefix) numbered in order, the
// failing operation highlighted, and the model state before and after each linearized operation on
// hover.
#pragma once

#include "seer/check/linearizability.hpp"

#include <string>

namespace seer::check {

std::string render_html_report(const std::string& title, const std::vector<Operation>& ops,
                               const CheckResult& result, const AnyModel& model);

}  // namespace seer::check
