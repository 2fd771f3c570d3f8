// A reader for the subset of EDN that Jepsen histories use, producing JSON values. Keywords become
// strings with their colon (":read"); map keys drop it ("process"), so an EDN op map looks like a
// Jepsen JSON map.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace seer::check {

// The top-level forms: the elements of a top-level vector, or a stream of forms. Each with its
// start line. Throws HistoryError("SOURCE:LINE: reason") on malformed input.
std::vector<std::pair<nlohmann::json, std::size_t>> read_edn_forms(const std::string& text,
                                                                   const std::string& source);

// One form (e.g. the value field of a Jepsen log line); null for empty input.
nlohmann::json read_edn_value(const std::string& text, const std::string& source);

}  // namespace seer::check
