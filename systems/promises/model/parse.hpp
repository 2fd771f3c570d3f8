// Well-formedness (spec §6 step 2): a JSON request envelope becomes a typed Request, or a
// Rejection that apply() answers with 400.
#pragma once

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "promises/model/request.hpp"

namespace seer::promises {

struct Rejection {
  std::string kind;  // the request's kind if it is a string, else ""
  Head head;         // corrId/version if they are strings, else ""
  std::string reason;
};

std::variant<Request, Rejection> parse_request(const nlohmann::json& request);

}  // namespace seer::promises
