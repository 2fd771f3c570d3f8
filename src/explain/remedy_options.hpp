// The textbook fixes for a cause's kind (and `facts.how`), most specific first.
#pragma once

#include "seer/explain/explain.hpp"

#include <optional>
#include <string>
#include <vector>

namespace seer::explain {

// None for kinds that only say why another cause happened (the faults listed under `behind`).
std::optional<std::vector<std::string>> remedy_options(const Cause& cause);

}  // namespace seer::explain
