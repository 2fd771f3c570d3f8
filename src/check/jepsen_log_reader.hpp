// Reads classic Jepsen log lines, `INFO  jepsen.util - 3	:invoke	:cas	[3 0]`, into Jepsen
// op maps. Fields after the dash are separated by tabs or runs of spaces; the value is an EDN form.
// Other log lines are ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seer::check {

// One log line's op, as an op map would hold it: read straight into this, without building the
// map (the reader's time went to building maps and looking fields up in them).
struct LogEvent {
  std::optional<std::int64_t> process;  // none: not a number (the nemesis)
  std::string type;                     // without its keyword colon: "invoke"
  std::string f;                        // "read"
  nlohmann::json value;                 // the EDN value; null for `:timed-out`
  bool timed_out = false;               // the value was `:timed-out`
  std::size_t line = 0;
};

bool looks_like_jepsen_log(const std::string& text);
std::vector<LogEvent> read_jepsen_log(const std::string& text, const std::string& source);

}  // namespace seer::check
