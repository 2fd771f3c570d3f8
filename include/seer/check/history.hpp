// Histories as checkers see them: completed operations with an invocation and a completion
// interval. Readers accept seer's history JSONL and Jepsen's JSON (an array, or one map per line);
// see docs/history-format.md. They know nothing of the simulator, so they also read live systems'
// histories.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace seer::check {

constexpr std::int64_t kNever =
    std::numeric_limits<std::int64_t>::max();  // an info op's completion

struct Operation {
  int id = 0;  // position among the operations
  int process = 0;
  std::string f;
  nlohmann::json input;   // value on the invocation
  nlohmann::json output;  // value on the ok completion (null for info)
  nlohmann::json key;     // for keyed models: the "key" field of the invocation, if any
  std::int64_t invoke = 0;
  std::int64_t complete = kNever;  // kNever: outcome unknown (info or never completed)
  std::size_t line = 0;            // the invocation's line in the file (0: unknown)
  bool unknown() const { return complete == kNever; }
};

// Thrown for malformed input; what() is "FILE:LINE: reason".
struct HistoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Pairs invocations with completions. `fail` ops are dropped (they did not happen); `info` ops and
// invocations never completed are kept with complete = kNever. Non-integer processes (Jepsen's
// nemesis) are skipped. `events` are the raw maps in history order, `lines` their line numbers for
// errors.
std::vector<Operation> pair_operations(const std::vector<nlohmann::json>& events,
                                       const std::vector<std::size_t>& lines,
                                       const std::string& source);

// One client event of a history already in memory (a simulated run's), for pairing without
// building a JSON map per event. `value` (may be null: none) is copied into the operation, or moved
// (move_value).
struct ClientEvent {
  int process = 0;
  std::string_view type;  // invoke, ok, fail or info
  std::string_view f;
  const nlohmann::json* value = nullptr;
  bool timed_out = false;  // a fail that may still have happened (Jepsen's timed-out error)
  std::int64_t time = 0;
  std::size_t line = 0;  // for errors
  // The value's owner lets it be moved into the operation, not copied (it may take it back from
  // the operation afterwards). Last, so brace-initialized events keep their meaning.
  bool move_value = false;
};
// pair_operations over client events.
std::vector<Operation> pair_client_events(const std::vector<ClientEvent>& events,
                                          const std::string& source);

// JSON as text, replacing invalid UTF-8 (histories are untrusted input) instead of throwing.
inline std::string to_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

enum class HistoryFormat { kAuto, kJsonl, kJson, kEdn, kJepsenLog };
// "auto", "jsonl", "json", "edn", "jepsen-log"; throws std::invalid_argument otherwise.
HistoryFormat parse_history_format(const std::string& name);

// Reads a history: seer JSONL, Jepsen JSON (array or one object per line), Jepsen EDN or Jepsen log
// lines. kAuto detects the format from the text.
std::vector<Operation> read_history_file(const std::string& path,
                                         HistoryFormat format = HistoryFormat::kAuto);
std::vector<Operation> read_history_text(const std::string& text, const std::string& source,
                                         HistoryFormat format = HistoryFormat::kAuto);

}  // namespace seer::check
