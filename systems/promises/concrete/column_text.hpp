// The text of the JSON columns (promises.param, value, tags; tasks.resumes) written straight from
// the model's values: byte for byte what nlohmann's dump() makes of state_to_json's fields, without
// building the JSON (a seer-resonate request spent 11 % of its instructions rendering the whole
// origin before and after the step to find what changed).
#pragma once

#include "promises/model/state.hpp"

#include <map>
#include <string>
#include <vector>

namespace seer::promises::concrete {

std::string value_text(const Value& value);  // {"data":..,"headers":{..}}
std::string object_text(const std::map<std::string, std::string>& object);  // tags
std::string array_text(const std::vector<std::string>& items);              // resumes

}  // namespace seer::promises::concrete
