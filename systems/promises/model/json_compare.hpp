// j == json(v) for the records' field kinds, without building json(v): the model compares a
// recorded response with its answer in place (outcome.cpp) and the checker's observations compare
// recorded records with candidate promises (observations.cpp). They must agree with records.cpp.
#pragma once

#include "promises/model/state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace seer::promises {

inline bool same_int(const nlohmann::json& j, std::int64_t v) {
  return j.is_number() && j == v;  // nlohmann's number comparison, as json(v) == j
}

inline bool same_string(const nlohmann::json& j, std::string_view s) {
  return j.is_string() && j.get_ref<const std::string&>() == s;
}

// An object of exactly these string members.
inline bool same_strings(const nlohmann::json& j, const std::map<std::string, std::string>& map) {
  if (!j.is_object() || j.size() != map.size()) return false;
  for (const auto& [key, value] : map) {
    const auto it = j.find(key);
    if (it == j.end() || !same_string(*it, value)) return false;
  }
  return true;
}

// value_json(v) (records.hpp): {"headers"?: {...}, "data"?: "..."}.
inline bool same_value(const nlohmann::json& j, const Value& v) {
  if (!j.is_object() || j.size() != (v.headers ? 1U : 0U) + (v.data ? 1U : 0U)) return false;
  if (v.headers) {
    const auto it = j.find("headers");
    if (it == j.end() || !same_strings(*it, *v.headers)) return false;
  }
  if (v.data) {
    const auto it = j.find("data");
    if (it == j.end() || !same_string(*it, *v.data)) return false;
  }
  return true;
}

}  // namespace seer::promises
