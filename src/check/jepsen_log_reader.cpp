#include "jepsen_log_reader.hpp"

#include "edn_reader.hpp"
#include "seer/check/history.hpp"

#include <sstream>

namespace seer::check {

namespace {
constexpr const char* kMarker = "jepsen.util - ";

// The next field: skips tabs and spaces, then reads up to the next tab or space.
std::string field(const std::string& line, std::size_t& pos) {
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  const auto start = pos;
  while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
  return line.substr(start, pos - start);
}
}  // namespace

bool looks_like_jepsen_log(const std::string& text) {
  return text.find(kMarker) != std::string::npos;
}

std::vector<std::pair<nlohmann::json, std::size_t>> read_jepsen_log(const std::string& text,
                                                                    const std::string& source) {
  std::vector<std::pair<nlohmann::json, std::size_t>> events;
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto at = line.find(kMarker);
    if (at == std::string::npos) continue;
    std::size_t pos = at + std::string(kMarker).size();
    const std::string process = field(line, pos);
    const std::string type = field(line, pos);
    const std::string f = field(line, pos);
    if (process.empty() || type.empty() || f.empty()) {
      throw HistoryError(source + ":" + std::to_string(number) +
                         ": expected PROCESS TYPE F [VALUE] after 'jepsen.util - '");
    }
    nlohmann::json op;
    try {
      op["process"] = std::stoll(process);
    } catch (const std::exception&) {
      op["process"] = process;  // :nemesis and friends
    }
    op["type"] = type;
    op["f"] = f;
    const auto rest = line.find_first_not_of(" \t", pos);
    nlohmann::json value;
    if (rest != std::string::npos) {
      value = read_edn_value(line.substr(rest), source + ":" + std::to_string(number));
    }
    // `:fail :read :timed-out` and `:info ... :timed-out`: the outcome is unknown, not a failure.
    if (value.is_string() && value.get<std::string>() == ":timed-out") {
      op["error"] = ":timed-out";
      value = nullptr;
    }
    op["value"] = value;
    events.emplace_back(std::move(op), number);
  }
  return events;
}

}  // namespace seer::check
