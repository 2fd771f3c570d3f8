#include "jepsen_log_reader.hpp"

#include "edn_reader.hpp"
#include "seer/check/history.hpp"

#include <charconv>
#include <optional>
#include <string_view>

namespace seer::check {

namespace {
constexpr std::string_view kMarker = "jepsen.util - ";

// The next field: skips tabs and spaces, then reads up to the next tab or space.
std::string_view field(std::string_view line, std::size_t& pos) {
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  const auto start = pos;
  while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
  return line.substr(start, pos - start);
}

// A decimal integer as EDN reads it: an optional minus, then digits without a leading zero.
std::optional<std::int64_t> plain_integer(std::string_view s) {
  const std::size_t digits = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == digits || (s[digits] == '0' && s.size() > digits + 1)) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The values Jepsen's register and cas-register tests log, read without the EDN parser: nil, an
// integer, a keyword, or a vector of two integers. Anything else (nullopt) goes to the EDN reader,
// which gives the same value for these.
std::optional<nlohmann::json> simple_value(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s == "nil") return nlohmann::json();
  if (s.empty()) return std::nullopt;
  if (s[0] == ':') {
    for (std::size_t i = 1; i < s.size(); ++i) {
      const char c = s[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_')) {
        return std::nullopt;
      }
    }
    if (s.size() == 1) return std::nullopt;
    return nlohmann::json(std::string(s));
  }
  if (s[0] == '[' && s.back() == ']') {
    const auto inner = s.substr(1, s.size() - 2);
    const auto space = inner.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    const auto a = plain_integer(inner.substr(0, space));
    const auto b = plain_integer(inner.substr(space + 1));
    if (!a || !b) return std::nullopt;
    return nlohmann::json::array({*a, *b});
  }
  if (const auto v = plain_integer(s)) return nlohmann::json(*v);
  return std::nullopt;
}
}  // namespace

bool looks_like_jepsen_log(const std::string& text) {
  return text.find(kMarker) != std::string::npos;
}

std::vector<LogEvent> read_jepsen_log(const std::string& text, const std::string& source) {
  std::vector<LogEvent> events;
  const std::string_view all(text);
  std::size_t number = 0;
  std::size_t begin = 0;
  auto bare = [](std::string_view s) { return std::string(s.substr(!s.empty() && s[0] == ':')); };
  while (begin < all.size()) {
    auto end = all.find('\n', begin);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(begin, end - begin);
    begin = end + 1;
    ++number;
    const auto at = line.find(kMarker);
    if (at == std::string_view::npos) continue;
    std::size_t pos = at + kMarker.size();
    const auto process = field(line, pos);
    const auto type = field(line, pos);
    const auto f = field(line, pos);
    if (process.empty() || type.empty() || f.empty()) {
      throw HistoryError(source + ":" + std::to_string(number) +
                         ": expected PROCESS TYPE F [VALUE] after 'jepsen.util - '");
    }
    LogEvent event;
    event.line = number;
    // As std::stoll reads it: a sign and leading digits make a client process; anything else
    // (:nemesis and friends) is not one.
    const auto digits = process.substr(process[0] == '+' ? 1 : 0);
    std::int64_t p = 0;
    const auto [end_p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec == std::errc() && end_p != digits.data() && !(process[0] == '+' && digits[0] == '-')) {
      event.process = p;
    }
    event.type = bare(type);
    event.f = bare(f);
    const auto rest = line.find_first_not_of(" \t", pos);
    if (rest != std::string_view::npos) {
      if (auto simple = simple_value(line.substr(rest))) {
        event.value = std::move(*simple);
      } else {
        event.value =
            read_edn_value(std::string(line.substr(rest)), source + ":" + std::to_string(number));
      }
    }
    // `:fail :read :timed-out` and `:info ... :timed-out`: the outcome is unknown, not a failure.
    if (event.value.is_string() && event.value.get_ref<const std::string&>() == ":timed-out") {
      event.timed_out = true;
      event.value = nullptr;
    }
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace seer::check
