// Semantic validation (spec §6 step 3): the 400 rules of spec §5 on a well-formed request.
#pragma once

#include <optional>
#include <string>

#include "promises/model/request.hpp"

namespace seer::promises {

// The SDK's reason text when `request` must be answered 400, else nullopt (local.js: validate).
std::optional<std::string> validate(const Request& request);

}  // namespace seer::promises
