// `seer view`: one self-contained HTML file (no network) with the trace's space-time diagram, its
// forbidden facts and its explanation (docs/view.md).
#pragma once

#include "seer/explain/trace_file.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace seer::view {

// The viewer page for `trace`; `explanation` is `explanation_json(...)` or null.
std::string viewer_html(const explain::Trace& trace, const nlohmann::json& explanation);

}  // namespace seer::view
