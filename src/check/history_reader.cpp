#include "seer/check/history.hpp"
#include "seer/input_size.hpp"

#include "edn_reader.hpp"
#include "jepsen_log_reader.hpp"
#include "seer/json_input.hpp"

#include <fstream>
#include <map>
#include <sstream>

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

std::vector<Operation> pair_operations(const std::vector<nlohmann::json>& events,
                                       const std::vector<std::size_t>& lines,
                                       const std::string& source) {
  std::vector<Operation> ops;
  std::map<int, std::size_t> open;  // process -> index in ops of its outstanding invocation
  std::vector<bool> failed;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const auto at = where(source, lines[i]);
    if (!e.is_object()) throw HistoryError(at + "expected a JSON object");
    if (!e.contains("process") || !e.contains("type")) {
      throw HistoryError(at + "missing \"process\" or \"type\"");
    }
    if (!e["process"].is_number_integer()) continue;  // nemesis or other non-client events
    const int process = e["process"].get<int>();
    const std::string type = bare(e["type"]);
    const std::int64_t time = e.contains("time") && e["time"].is_number_integer()
                                  ? e["time"].get<std::int64_t>()
                                  : static_cast<std::int64_t>(i);
    if (!e.contains("f")) throw HistoryError(at + "missing \"f\"");
    const std::string f = bare(e["f"]);
    const nlohmann::json value = e.contains("value") ? e["value"] : nlohmann::json();
    if (type == "invoke") {
      if (open.count(process)) {
        throw HistoryError(at + "process " + std::to_string(process) +
                           " invoked while its previous operation is still open");
      }
      Operation op;
      op.id = static_cast<int>(ops.size());
      op.process = process;
      op.f = f;
      op.input = value;
      op.invoke = time;
      op.line = lines[i];
      if (e.contains("key")) op.key = e["key"];
      open[process] = ops.size();
      ops.push_back(std::move(op));
      failed.push_back(false);
    } else if (type == "ok" || type == "fail" || type == "info") {
      auto it = open.find(process);
      if (it == open.end()) {
        if (type == "info") continue;  // an info with no invocation (e.g. a crash notice)
        throw HistoryError(at + "completion for process " + std::to_string(process) +
                           " with no open invocation");
      }
      Operation& op = ops[it->second];
      open.erase(it);
      // A read that fails with a timeout may still have happened: Jepsen treats it as unknown.
      const bool timed_out =
          e.contains("error") && bare(e["error"]).find("timed-out") != std::string::npos;
      if (type == "ok") {
        op.complete = time;
        op.output = value;
        if (op.complete < op.invoke) throw HistoryError(at + "completion before its invocation");
      } else if (type == "fail" && !timed_out) {
        failed[static_cast<std::size_t>(op.id)] = true;
      }
    } else {
      throw HistoryError(at + "unknown type '" + type + "' (expected invoke, ok, fail or info)");
    }
  }
  std::vector<Operation> kept;
  for (auto& op : ops) {
    if (failed[static_cast<std::size_t>(op.id)]) continue;
    op.id = static_cast<int>(kept.size());
    kept.push_back(std::move(op));
  }
  return kept;
}

namespace {
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
  auto take = [&](std::vector<std::pair<nlohmann::json, std::size_t>> forms) {
    for (auto& [form, line] : forms) {
      events.push_back(std::move(form));
      lines.push_back(line);
    }
  };
  switch (format) {
    case HistoryFormat::kJepsenLog:
      take(read_jepsen_log(text, source));
      break;
    case HistoryFormat::kEdn:
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
  auto ops = pair_operations(events, lines, source);
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
  if (const auto why = input_too_large(path)) throw HistoryError(*why);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HistoryError(path + ": cannot read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return read_history_text(buffer.str(), path, format);
}

}  // namespace seer::check
