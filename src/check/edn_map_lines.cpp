#include "edn_map_lines.hpp"

#include <charconv>
#include <limits>

namespace seer::check {

namespace {

// EDN's whitespace on a line (commas are whitespace in EDN).
bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == ',';
}

// One of the values this reader takes; `text` is the token (a string's content without quotes).
struct Simple {
  enum Kind { kNil, kInteger, kKeyword, kString } kind = kNil;
  std::string_view text;
  std::int64_t integer = 0;

  nlohmann::json json() const {
    switch (kind) {
      case kNil:
        return nullptr;
      case kInteger:
        return integer;
      case kKeyword:
      case kString:
        break;
    }
    return std::string(text);  // a keyword keeps its colon, as the EDN reader gives it
  }
};

bool keyword_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '?' || c == '!' || c == '*';
}

// The value at `pos`, which must then be followed by whitespace or the closing brace. False for
// anything else (vectors, maps, escapes, floats, ...): the caller leaves the text to the EDN
// reader.
bool read_simple(std::string_view line, std::size_t& pos, Simple& out) {
  const std::size_t start = pos;
  if (pos >= line.size()) return false;
  const char c = line[pos];
  if (c == '"') {
    const auto close = line.find('"', pos + 1);
    if (close == std::string_view::npos) return false;
    out.text = line.substr(pos + 1, close - pos - 1);
    if (out.text.find('\\') != std::string_view::npos) return false;
    out.kind = Simple::kString;
    pos = close + 1;
  } else if (c == ':') {
    ++pos;
    while (pos < line.size() && keyword_char(line[pos])) ++pos;
    if (pos == start + 1) return false;
    out.kind = Simple::kKeyword;
    out.text = line.substr(start, pos - start);
  } else {
    while (pos < line.size() && (keyword_char(line[pos]) || line[pos] == '+')) ++pos;
    const auto token = line.substr(start, pos - start);
    if (token == "nil") {
      out.kind = Simple::kNil;
    } else {
      // A decimal integer the way the EDN reader reads it: an optional minus, then digits with no
      // leading zero (other spellings, "+1", "007", "1N", go to the EDN reader).
      const std::size_t sign = !token.empty() && token[0] == '-' ? 1 : 0;
      if (token.size() == sign || token[sign] < '0' || token[sign] > '9' ||
          (token[sign] == '0' && token.size() > sign + 1)) {
        return false;
      }
      const auto [end, ec] =
          std::from_chars(token.data(), token.data() + token.size(), out.integer);
      if (ec != std::errc() || end != token.data() + token.size()) return false;
      out.kind = Simple::kInteger;
    }
  }
  return pos < line.size() && (blank(line[pos]) || line[pos] == '}');
}

// One line's map into `out`; false if it is not of the plain shape read here.
bool read_map_line(std::string_view line, MapLineEvent& out) {
  std::size_t pos = 0;
  while (pos < line.size() && blank(line[pos])) ++pos;
  if (pos >= line.size() || line[pos] != '{') return false;
  ++pos;
  enum Field : unsigned {
    kProcess = 1,
    kType = 2,
    kF = 4,
    kKey = 8,
    kValue = 16,
    kTime = 32,
    kIndex = 64
  };
  unsigned seen = 0;
  Simple process;
  Simple type;
  Simple f;
  for (;;) {
    while (pos < line.size() && blank(line[pos])) ++pos;
    if (pos >= line.size()) return false;
    if (line[pos] == '}') {
      ++pos;
      break;
    }
    if (line[pos] != ':') return false;
    const std::size_t name_start = ++pos;
    while (pos < line.size() && line[pos] >= 'a' && line[pos] <= 'z') ++pos;
    const auto name = line.substr(name_start, pos - name_start);
    if (pos >= line.size() || !blank(line[pos])) return false;
    while (pos < line.size() && blank(line[pos])) ++pos;
    Simple v;
    if (!read_simple(line, pos, v)) return false;
    unsigned field = 0;
    if (name == "process") {
      field = kProcess;
      process = v;
    } else if (name == "type") {
      field = kType;
      type = v;
    } else if (name == "f") {
      field = kF;
      f = v;
    } else if (name == "key") {
      field = kKey;
      out.key = v.json();
    } else if (name == "value") {
      field = kValue;
      out.value = v.json();
    } else if (name == "time") {
      field = kTime;
      if (v.kind == Simple::kInteger) out.time = v.integer;
    } else if (name == "index") {
      field = kIndex;
    } else {
      return false;  // :error and the rest: the EDN reader's map has them for the pairing
    }
    if (seen & field) return false;  // a repeated key: the EDN reader keeps the last one
    seen |= field;
  }
  while (pos < line.size() && blank(line[pos])) ++pos;
  if (pos != line.size()) return false;
  if (!(seen & kProcess) || !(seen & kType)) return false;
  if (process.kind != Simple::kInteger) return true;  // not a client event: skipped when paired
  if (process.integer < std::numeric_limits<int>::min() ||
      process.integer > std::numeric_limits<int>::max()) {
    return false;
  }
  if (!(seen & kF) || type.kind != Simple::kKeyword || f.kind != Simple::kKeyword) return false;
  out.process = static_cast<int>(process.integer);
  out.type = type.text.substr(1);
  out.f = f.text.substr(1);
  return true;
}

}  // namespace

std::optional<std::vector<MapLineEvent>> read_edn_map_lines(std::string_view text) {
  std::vector<MapLineEvent> events;
  std::size_t number = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(begin, end - begin);
    begin = end + 1;
    ++number;
    std::size_t first = 0;
    while (first < line.size() && blank(line[first])) ++first;
    if (first == line.size()) continue;
    MapLineEvent event;
    event.line = number;
    if (!read_map_line(line, event)) return std::nullopt;
    events.push_back(std::move(event));
  }
  if (events.empty()) return std::nullopt;
  return events;
}

}  // namespace seer::check
