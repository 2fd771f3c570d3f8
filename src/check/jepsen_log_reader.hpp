// Reads classic Jepsen log lines, `INFO  jepsen.util - 3	:invoke	:cas	[3 0]`, into Jepsen
// op maps. Fields after the dash are separated by tabs or runs of spaces; the value is an EDN form.
// Other log lines are ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace seer::check {

bool looks_like_jepsen_log(const std::string& text);
std::vector<std::pair<nlohmann::json, std::size_t>> read_jepsen_log(const std::string& text,
                                                                    const std::string& source);

}  // namespace seer::check
