// Histories as checkers see them: completed operations with an invocation and a completion
// interval. Readers accept seer's history JSONL and Jepsen's JSON (an array, or one map per line);
// see docs/history-format.md. They know nothing of the simulator, so they also read live systems'
// histories.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace seer::check {

// What the code that recorded an operation had already read from part of its input (the simulated
// promises clients parse each request they send: that parse), so that a model need not read it
// again. A history read from a file has none. It belongs to the JSON it was read from, `source`,
// which it keeps unchanged: a model uses it only for an input whose part equals `source` (reads()),
// never on the word of whoever attached it, since an operation may be copied and changed after the
// reading was made. Models define their own readings (a derived type) and take only those.
// Whether two JSON values are the same: of the same types throughout (nlohmann's == takes 1 and
// 1.0 for equal, which a reader may not), with equal contents.
inline bool identical_json(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case nlohmann::json::value_t::object: {
      const auto& x = a.get_ref<const nlohmann::json::object_t&>();
      const auto& y = b.get_ref<const nlohmann::json::object_t&>();
      if (x.size() != y.size()) return false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
        if (i->first != j->first || !identical_json(i->second, j->second)) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::array: {
      const auto& x = a.get_ref<const nlohmann::json::array_t&>();
      const auto& y = b.get_ref<const nlohmann::json::array_t&>();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!identical_json(x[i], y[i])) return false;
      }
      return true;
    }
    default:
      return a == b;  // scalars of one type (and binary)
  }
}

struct InputReading {
  explicit InputReading(std::shared_ptr<const nlohmann::json> read_from)
      : source(std::move(read_from)) {}
  virtual ~InputReading() = default;
  // Whether `value` is what this reading was made from: identical JSON (a comparison costs a
  // fraction of a parse; the value's address would not do, a JSON value changes in place).
  bool reads(const nlohmann::json& value) const {
    return source != nullptr && identical_json(*source, value);
  }
  std::shared_ptr<const nlohmann::json> source;  // never changed after the reading is made
};

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
  // A reading of part of `input` by its recorder, if any (see InputReading: check it with reads()).
  std::shared_ptr<const InputReading> reading;
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
  // An invocation's reading of its value, if any: given to its operation (Operation::reading).
  std::shared_ptr<const InputReading> reading;
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
