// Reads EDN histories written one flat op map per line, as Porcupine's kv histories are
// (`{:process 0, :type :ok, :f :get, :key "7", :value ""}`), straight into events, without the
// general EDN reader and the JSON maps it builds (which cost most of such a file's reading).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace seer::check {

// One line's op, as pair_operations would read it from the map the EDN reader builds.
struct MapLineEvent {
  std::optional<int> process;        // none: not an integer (the nemesis): not a client event
  std::string_view type;             // without its keyword colon: "invoke"; a view into the text
  std::string_view f;                // "append"
  nlohmann::json key;                // null when absent
  nlohmann::json value;              // null when absent
  std::optional<std::int64_t> time;  // none: absent or not an integer (the event's index stands in)
  std::size_t line = 0;
};

// The events of `text` if every non-blank line is one flat map of the fields process, type, f,
// key, value, time and index (ignored), each at most once, with values nil, integers, keywords or
// strings without escapes; a client event (integer process) needs a keyword type and f. Otherwise
// (or with no event at all) nullopt: the text goes to the EDN reader, which reads these lines to
// the same events and reports what is malformed.
std::optional<std::vector<MapLineEvent>> read_edn_map_lines(std::string_view text);

}  // namespace seer::check
