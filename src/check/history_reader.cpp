#include "seer/check/history.hpp"
#include "seer/input_size.hpp"

#include "edn_map_lines.hpp"
#include "edn_reader.hpp"
#include "jepsen_log_reader.hpp"
#include "seer/json_input.hpp"

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <type_traits>

namespace seer::check {

namespace {

std::string where(const std::string& source, std::size_t line) {
  return source + ":" + std::to_string(line) + ": ";
}

// Jepsen keywords arrive in JSON as ":read" or "read".
std::string bare(const nlohmann::json& j) {
  std::string s = j.is_string() ? j.get<std::string>() : to_text(j);
  if (!s.empty() && s[0] == ':') s.erase(0, 1);
  return s;
}

const char* format_name(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::kJsonl:
      return "jsonl";
    case HistoryFormat::kJson:
      return "json";
    case HistoryFormat::kEdn:
      return "edn";
    case HistoryFormat::kJepsenLog:
      return "jepsen-log";
    case HistoryFormat::kAuto:
      break;
  }
  return "auto";
}

}  // namespace

namespace {

// Each field of an event map looked up once (the maps are std::maps keyed by string).
const nlohmann::json* member(const nlohmann::json& e, const char* name) {
  const auto it = e.find(name);
  return it == e.end() ? nullptr : &*it;
}

// One client event as the pairing reads it, from an op map or a Jepsen log line.
struct RawEvent {
  int process = 0;
  std::string_view type;  // without the keyword colon
  std::string_view f;
  const nlohmann::json* value = nullptr;  // none: null
  bool move_value = false;                // the value's owner lets it be moved from
  const nlohmann::json* key = nullptr;
  bool timed_out = false;
  std::int64_t time = 0;
  const std::shared_ptr<const InputReading>* reading = nullptr;  // an invocation's, if any
};

// Pairs invocations with completions (see pair_operations). `event(i)` reads the i-th event, or
// nullopt for a non-client one (Jepsen's nemesis); it throws for a malformed one.
template <typename EventAt>
std::vector<Operation> pair_events(std::size_t count, EventAt event,
                                   const std::vector<std::size_t>& lines,
                                   const std::string& source) {
  std::vector<Operation> ops;
  std::map<int, std::size_t> open;  // process -> index in ops of its outstanding invocation
  std::vector<bool> failed;
  for (std::size_t i = 0; i < count; ++i) {
    const std::optional<RawEvent> read = event(i);
    if (!read) continue;
    const RawEvent& e = *read;
    auto take_value = [&]() -> nlohmann::json {
      if (!e.value) return nlohmann::json();
      if (e.move_value) return std::move(const_cast<nlohmann::json&>(*e.value));
      return *e.value;
    };
    if (e.type == "invoke") {
      if (open.count(e.process)) {
        throw HistoryError(where(source, lines[i]) + "process " + std::to_string(e.process) +
                           " invoked while its previous operation is still open");
      }
      Operation op;
      op.id = static_cast<int>(ops.size());
      op.process = e.process;
      op.f = std::string(e.f);
      op.input = take_value();
      op.invoke = e.time;
      op.line = lines[i];
      if (e.key) op.key = *e.key;
      if (e.reading) op.reading = *e.reading;
      open[e.process] = ops.size();
      ops.push_back(std::move(op));
      failed.push_back(false);
    } else if (e.type == "ok" || e.type == "fail" || e.type == "info") {
      auto it = open.find(e.process);
      if (it == open.end()) {
        if (e.type == "info") continue;  // an info with no invocation (e.g. a crash notice)
        throw HistoryError(where(source, lines[i]) + "completion for process " +
                           std::to_string(e.process) + " with no open invocation");
      }
      Operation& op = ops[it->second];
      open.erase(it);
      // A read that fails with a timeout may still have happened: Jepsen treats it as unknown.
      if (e.type == "ok") {
        op.complete = e.time;
        op.output = take_value();
        if (op.complete < op.invoke) {
          throw HistoryError(where(source, lines[i]) + "completion before its invocation");
        }
      } else if (e.type == "fail" && !e.timed_out) {
        failed[static_cast<std::size_t>(op.id)] = true;
      }
    } else {
      throw HistoryError(where(source, lines[i]) + "unknown type '" + std::string(e.type) +
                         "' (expected invoke, ok, fail or info)");
    }
  }
  std::vector<Operation> kept;
  kept.reserve(ops.size());
  for (auto& op : ops) {
    if (failed[static_cast<std::size_t>(op.id)]) continue;
    op.id = static_cast<int>(kept.size());
    kept.push_back(std::move(op));
  }
  return kept;
}

// Op maps (JSON or EDN). From a mutable vector the values are moved out, not copied.
template <typename Events>
std::vector<Operation> pair_maps(Events& events, const std::vector<std::size_t>& lines,
                                 const std::string& source) {
  std::string type;
  std::string f;
  auto event = [&](std::size_t i) -> std::optional<RawEvent> {
    const nlohmann::json& e = events[i];
    if (!e.is_object()) throw HistoryError(where(source, lines[i]) + "expected a JSON object");
    const nlohmann::json* process_field = member(e, "process");
    const nlohmann::json* type_field = member(e, "type");
    if (!process_field || !type_field) {
      throw HistoryError(where(source, lines[i]) + "missing \"process\" or \"type\"");
    }
    if (!process_field->is_number_integer()) return std::nullopt;  // nemesis and the like
    RawEvent raw;
    raw.process = process_field->get<int>();
    type = bare(*type_field);
    raw.type = type;
    const nlohmann::json* time_field = member(e, "time");
    raw.time = time_field && time_field->is_number_integer() ? time_field->get<std::int64_t>()
                                                             : static_cast<std::int64_t>(i);
    const nlohmann::json* f_field = member(e, "f");
    if (!f_field) throw HistoryError(where(source, lines[i]) + "missing \"f\"");
    f = bare(*f_field);
    raw.f = f;
    raw.value = member(e, "value");
    raw.move_value = !std::is_const_v<Events>;
    raw.key = member(e, "key");
    const nlohmann::json* error = member(e, "error");
    raw.timed_out = error && bare(*error).find("timed-out") != std::string::npos;
    return raw;
  };
  return pair_events(events.size(), event, lines, source);
}

}  // namespace

std::vector<Operation> pair_operations(const std::vector<nlohmann::json>& events,
                                       const std::vector<std::size_t>& lines,
                                       const std::string& source) {
  return pair_maps(events, lines, source);
}

std::vector<Operation> pair_client_events(const std::vector<ClientEvent>& events,
                                          const std::string& source) {
  std::vector<std::size_t> lines;
  lines.reserve(events.size());
  for (const auto& e : events) lines.push_back(e.line);
  // The invocations that fail (and are dropped) need no copy of their value: found first, as the
  // pairing will pair them (a malformed history is reported by the pairing itself).
  std::vector<bool> dropped(events.size(), false);
  std::map<int, std::size_t> open;  // process -> its outstanding invocation
  for (std::size_t i = 0; i < events.size(); ++i) {
    const ClientEvent& e = events[i];
    if (e.type == "invoke") {
      open[e.process] = i;
      continue;
    }
    const auto it = open.find(e.process);
    if (it == open.end()) continue;
    if (e.type == "fail" && !e.timed_out) dropped[it->second] = true;
    open.erase(it);
  }
  auto event = [&](std::size_t i) -> std::optional<RawEvent> {
    const ClientEvent& e = events[i];
    RawEvent raw;
    raw.process = e.process;
    raw.type = e.type;
    raw.f = e.f;
    raw.value = dropped[i] ? nullptr : e.value;
    raw.move_value = e.move_value;
    raw.timed_out = e.timed_out;
    raw.time = e.time;
    if (e.reading && !dropped[i]) raw.reading = &e.reading;
    return raw;
  };
  return pair_events(events.size(), event, lines, source);
}

namespace {
// One flat op map per line (Porcupine's kv histories), read without building the maps: the same
// operations pair_maps gives for the maps the EDN reader would build.
std::vector<Operation> pair_map_lines(std::vector<MapLineEvent>& events,
                                      const std::string& source) {
  std::vector<std::size_t> lines;
  lines.reserve(events.size());
  for (const auto& e : events) lines.push_back(e.line);
  auto event = [&](std::size_t i) -> std::optional<RawEvent> {
    const MapLineEvent& e = events[i];
    if (!e.process) return std::nullopt;  // nemesis and the like
    RawEvent raw;
    raw.process = *e.process;
    raw.type = e.type;
    raw.f = e.f;
    raw.value = &e.value;
    raw.move_value = true;
    raw.key = &e.key;
    raw.time = e.time ? *e.time : static_cast<std::int64_t>(i);
    return raw;
  };
  return pair_events(events.size(), event, lines, source);
}

// EDN maps use keywords (`{:process 1 ...`); JSON maps use quoted keys.
bool looks_like_edn(const std::string& text, std::size_t first) {
  const auto brace = text.find('{', first);
  if (brace == std::string::npos) return false;
  const auto key = text.find_first_not_of(" \t\r\n,", brace + 1);
  return key != std::string::npos && text[key] == ':';
}
}  // namespace

std::vector<Operation> read_history_text(const std::string& text, const std::string& source,
                                         HistoryFormat format) {
  std::vector<nlohmann::json> events;
  std::vector<std::size_t> lines;
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (format == HistoryFormat::kAuto) {
    if (looks_like_jepsen_log(text)) {
      format = HistoryFormat::kJepsenLog;
    } else if (first != std::string::npos && looks_like_edn(text, first)) {
      format = HistoryFormat::kEdn;
    } else if (first != std::string::npos && text[first] == '[') {
      format = HistoryFormat::kJson;
    } else {
      format = HistoryFormat::kJsonl;
    }
  }
  if (format == HistoryFormat::kJepsenLog) {
    auto log = read_jepsen_log(text, source);
    std::vector<std::size_t> log_lines;
    log_lines.reserve(log.size());
    for (const auto& e : log) log_lines.push_back(e.line);
    auto event = [&](std::size_t i) -> std::optional<RawEvent> {
      const LogEvent& e = log[i];
      if (!e.process) return std::nullopt;  // nemesis or other non-client events
      RawEvent raw;
      raw.process = static_cast<int>(*e.process);
      raw.type = e.type;
      raw.f = e.f;
      raw.value = &e.value;
      raw.move_value = true;
      raw.timed_out = e.timed_out;
      raw.time = static_cast<std::int64_t>(i);
      return raw;
    };
    auto ops = pair_events(log.size(), event, log_lines, source);
    if (log.empty() && first != std::string::npos) {
      throw HistoryError(source + ": no history events found (read as jepsen-log)");
    }
    return ops;
  }
  auto take = [&](std::vector<std::pair<nlohmann::json, std::size_t>> forms) {
    for (auto& [form, line] : forms) {
      events.push_back(std::move(form));
      lines.push_back(line);
    }
  };
  switch (format) {
    case HistoryFormat::kJepsenLog:  // read above
      break;
    case HistoryFormat::kEdn:
      if (auto lines_read = read_edn_map_lines(text)) return pair_map_lines(*lines_read, source);
      take(read_edn_forms(text, source));
      break;
    case HistoryFormat::kJson:
      if (first != std::string::npos && text[first] == '[') {
        try {
          auto all = parse_json_bounded(text);
          for (auto& e : all) {
            events.push_back(std::move(e));
            lines.push_back(events.size());  // the entry number stands in for the line
          }
        } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
          throw HistoryError(source + ": malformed JSON array: " + e.what());
        }
        break;
      }
      [[fallthrough]];  // JSON objects one per line
    case HistoryFormat::kJsonl:
    case HistoryFormat::kAuto: {
      std::istringstream in(text);
      std::string line;
      std::size_t number = 0;
      while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
          events.push_back(parse_json_bounded(line));
        } catch (const JsonTooDeep& e) {
          throw HistoryError(where(source, number) + e.what());
        } catch (const nlohmann::json::exception&) {  // parse_error, or out_of_range for 1e999
          throw HistoryError(where(source, number) + "not a JSON object");
        }
        lines.push_back(number);
      }
      break;
    }
  }
  auto ops = pair_maps(events, lines, source);
  // A file with content but no history event is not an empty history: it is the wrong file or
  // the wrong format, and a verdict on it would be a false "linearizable". (A history of events
  // none of which is a completed client operation is one: Knossos' corpus holds one of nemesis
  // events only, and one whose operations all failed, both valid.)
  if (events.empty() && first != std::string::npos) {
    throw HistoryError(source + ": no history events found (read as " + format_name(format) + ")");
  }
  return ops;
}

HistoryFormat parse_history_format(const std::string& name) {
  if (name == "auto") return HistoryFormat::kAuto;
  if (name == "jsonl") return HistoryFormat::kJsonl;
  if (name == "json") return HistoryFormat::kJson;
  if (name == "edn") return HistoryFormat::kEdn;
  if (name == "jepsen-log") return HistoryFormat::kJepsenLog;
  throw std::invalid_argument("unknown format '" + name +
                              "' (known: auto, jsonl, json, edn, jepsen-log)");
}

std::vector<Operation> read_history_file(const std::string& path, HistoryFormat format) {
  if (const auto why = input_refused(path)) throw HistoryError(*why);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HistoryError(path + ": cannot read");
  std::string text;
  if (const auto why = read_bounded(in, path, text)) throw HistoryError(*why);
  return read_history_text(text, path, format);
}

}  // namespace seer::check
