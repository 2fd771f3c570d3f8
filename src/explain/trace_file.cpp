#include "seer/explain/trace_file.hpp"
#include "seer/input_size.hpp"

#include "seer/json_input.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace seer::explain {

namespace {

const nlohmann::json kNull;

[[noreturn]] void fail(const std::string& name, std::size_t line, const std::string& what) {
  throw TraceError(fmt::format("{}:{}: corrupt trace: {}", name, line, what));
}

int lane_of(const std::map<std::string, int>& lanes, const nlohmann::json& j, const char* field,
            const std::string& name, std::size_t line) {
  const auto it = j.find(field);
  if (it == j.end()) return kSimLane;
  if (!it->is_string()) fail(name, line, fmt::format("'{}' is not a string", field));
  const auto& value = it->get_ref<const std::string&>();
  if (value == "sim") return kSimLane;
  const auto found = lanes.find(value);
  if (found == lanes.end()) fail(name, line, fmt::format("unknown process '{}'", value));
  return found->second;
}

// The integer `field` of `j` as T; a missing field, a float or a value T cannot hold is corrupt.
template <typename T>
T integer(const nlohmann::json& j, const char* field, const std::string& name, std::size_t line) {
  const auto it = j.find(field);
  const auto v = it == j.end() ? std::nullopt : json_integer<T>(*it);
  if (!v) fail(name, line, fmt::format("'{}' is missing or not an integer in range", field));
  return *v;
}

// seer writes integers only; a float anywhere in a trace is corruption, and rejecting it here keeps
// the analyses that read numbers out of events from converting 1e90 to an integer (undefined).
bool has_float(const nlohmann::json& j) {
  if (j.is_number_float()) return true;
  if (j.is_structured()) {
    for (const auto& item : j) {
      if (has_float(item)) return true;
    }
  }
  return false;
}

TraceEvent parse_event(nlohmann::json j, const std::map<std::string, int>& lanes,
                       std::uint64_t expected_seq, const std::string& name, std::size_t line) {
  TraceEvent e;
  e.seq = integer<std::uint64_t>(j, "seq", name, line);
  e.time = integer<std::int64_t>(j, "time", name, line);
  const auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string()) fail(name, line, "'kind' is missing or not a string");
  const auto parsed = trace::parse_event_kind(kind->get<std::string>());
  if (!parsed) fail(name, line, "unknown event kind '" + kind->get<std::string>() + "'");
  e.kind = *parsed;
  const auto parents = j.find("parents");
  if (parents == j.end() || !parents->is_array()) {
    fail(name, line, "'parents' is missing or not a list");
  }
  for (const auto& p : *parents) {
    const auto parent = json_integer<std::uint64_t>(p);
    if (!parent) fail(name, line, "'parents' holds something other than event ids");
    e.parents.push_back(*parent);
  }
  if (j.contains("message") && j.at("message").is_number_unsigned()) {
    e.message = j.at("message").get<std::uint64_t>();
  }
  if (j.contains("type") && j.at("type").is_string()) e.type = j.at("type").get<std::string>();
  if (e.seq != expected_seq) {
    fail(name, line, fmt::format("event {} where {} was expected", e.seq, expected_seq));
  }
  for (const auto parent : e.parents) {
    if (parent == 0 || parent >= e.seq) {
      fail(name, line, fmt::format("parent {} of event {} does not precede it", parent, e.seq));
    }
  }
  if (!j.contains("process")) fail(name, line, "event lacks 'process'");
  e.lane = lane_of(lanes, j, "process", name, line);
  e.peer = lane_of(lanes, j, "peer", name, line);
  e.line = std::move(j);
  return e;
}

}  // namespace

const nlohmann::json& TraceEvent::oracle() const {
  const auto it = line.find("oracle");
  return it == line.end() ? kNull : *it;
}

std::string TraceEvent::site() const {
  const auto it = line.find("at");
  return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Trace::lane_name(int lane) const {
  if (lane < 0 || static_cast<std::size_t>(lane) >= processes.size()) return "sim";
  return processes[static_cast<std::size_t>(lane)];
}

const nlohmann::json& Trace::violation() const {
  const auto it = footer.find("violation");
  return it == footer.end() ? kNull : *it;
}

Trace parse_trace(std::istream& in, const std::string& name) {
  Trace t;
  t.path = name;
  std::map<std::string, int> lanes;
  std::string text;
  std::size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!t.footer.is_null()) fail(name, line, "content after the footer line");
    nlohmann::json j;
    try {
      j = parse_json_bounded(text);
    } catch (const JsonTooDeep& e) {
      fail(name, line, e.what());
    } catch (const nlohmann::json::exception&) {
      fail(name, line, "not a JSON object");
    }
    if (!j.is_object()) fail(name, line, "not a JSON object");
    if (has_float(j)) fail(name, line, "a number that is not an integer");
    if (line == 1) {
      if (!j.contains("seer_trace")) {
        throw TraceError(name + ":1: not a seer trace (the first line has no \"seer_trace\")");
      }
      if (const auto why = trace::unreadable_version(j, "seer_trace", trace::kTraceFormat);
          !why.empty()) {
        throw TraceError(name + ":1: cannot read this trace: " + why);
      }
      try {
        t.processes = j.at("processes").get<std::vector<std::string>>();
      } catch (const nlohmann::json::exception&) {
        fail(name, 1, "header lacks the list of processes");
      }
      for (std::size_t i = 0; i < t.processes.size(); ++i) {
        lanes.emplace(t.processes[i], static_cast<int>(i));
      }
      t.header = std::move(j);
      continue;
    }
    if (j.contains("end")) {
      const auto events =
          j.contains("events") ? integer<std::uint64_t>(j, "events", name, line) : 0;
      if (events != t.events.size()) {
        fail(name, line,
             fmt::format("footer counts {} events but the trace has {}", events, t.events.size()));
      }
      t.footer = std::move(j);
      continue;
    }
    t.events.push_back(parse_event(std::move(j), lanes, t.events.size() + 1, name, line));
    t.event_lines.push_back(text);
  }
  if (line == 0) throw TraceError(name + ": empty trace");
  if (t.footer.is_null()) {
    throw TraceError(fmt::format("{}:{}: truncated trace (no footer line)", name, line));
  }
  return t;
}

Trace read_trace(const std::string& path) {
  if (const auto why = input_refused(path)) throw TraceError(*why);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError("cannot read trace '" + path + "'");
  std::string text;
  if (const auto why = read_bounded(in, path, text)) throw TraceError(*why);
  std::istringstream lines(std::move(text));
  return parse_trace(lines, path);
}

}  // namespace seer::explain
