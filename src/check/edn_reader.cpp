#include "edn_reader.hpp"

#include "seer/check/history.hpp"
#include "seer/json_input.hpp"

#include <cctype>
#include <cstdlib>

namespace seer::check {

namespace {

class EdnParser {
 public:
  EdnParser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  nlohmann::json single() {
    skip();
    if (pos_ >= s_.size()) return nullptr;
    return value(0);
  }

  std::vector<std::pair<nlohmann::json, std::size_t>> top_level() {
    std::vector<std::pair<nlohmann::json, std::size_t>> forms;
    skip();
    if (pos_ < s_.size() && (s_[pos_] == '[' || s_[pos_] == '(')) {
      const char close = s_[pos_] == '[' ? ']' : ')';
      ++pos_;
      for (;;) {
        skip();
        if (pos_ >= s_.size()) fail("unterminated top-level vector");
        if (s_[pos_] == close) {
          ++pos_;
          break;
        }
        const auto line = line_;
        forms.emplace_back(value(0), line);
      }
      skip();
      if (pos_ < s_.size()) fail("unexpected text after the top-level vector");
      return forms;
    }
    while (skip(), pos_ < s_.size()) {
      const auto line = line_;
      forms.emplace_back(value(0), line);
    }
    return forms;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw HistoryError(source_ + ":" + std::to_string(line_) + ": " + why);
  }

  // Whitespace, commas, ; comments and discarded forms (`#_ form`, which may stack: `#_ #_ a b`
  // discards both). Iterative, so a million discards in a row cannot exhaust the stack; the
  // discarded forms are parsed at `depth`, within the nesting bound.
  void skip(int depth = 0) {
    std::size_t pending = 0;  // #_ seen whose form is still to come
    for (;;) {
      while (pos_ < s_.size()) {
        const char c = s_[pos_];
        if (c == '\n') {
          ++line_;
          ++pos_;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
          ++pos_;
        } else if (c == ';') {
          while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        } else {
          break;
        }
      }
      if (pos_ + 1 < s_.size() && s_[pos_] == '#' && s_[pos_ + 1] == '_') {
        pos_ += 2;
        ++pending;
        continue;
      }
      if (pending == 0) return;
      if (pos_ >= s_.size() || s_[pos_] == ']' || s_[pos_] == ')' || s_[pos_] == '}') {
        fail("'#_' with no form to discard");
      }
      value(depth);
      --pending;
    }
  }

  static bool delimiter(char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == '(' || c == ')' ||
           c == '[' || c == ']' || c == '{' || c == '}' || c == '"' || c == ';';
  }

  std::string token() {
    const auto start = pos_;
    while (pos_ < s_.size() && !delimiter(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  nlohmann::json sequence(char close, int depth) {
    nlohmann::json out = nlohmann::json::array();
    for (;;) {
      skip(depth + 1);
      if (pos_ >= s_.size()) fail(std::string("missing '") + close + "'");
      if (s_[pos_] == close) {
        ++pos_;
        return out;
      }
      out.push_back(value(depth + 1));
    }
  }

  nlohmann::json map(int depth) {
    nlohmann::json out = nlohmann::json::object();
    for (;;) {
      skip(depth + 1);
      if (pos_ >= s_.size()) fail("missing '}'");
      if (s_[pos_] == '}') {
        ++pos_;
        return out;
      }
      nlohmann::json key = value(depth + 1);
      skip(depth + 1);
      if (pos_ >= s_.size() || s_[pos_] == '}') fail("map with an odd number of forms");
      nlohmann::json val = value(depth + 1);
      std::string name = key.is_string() ? key.get<std::string>() : to_text(key);
      if (!name.empty() && name[0] == ':') name.erase(0, 1);
      out[name] = std::move(val);
    }
  }

  nlohmann::json string_literal() {
    std::string out;
    ++pos_;  // opening quote
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\n') ++line_;
      if (c == '\\' && pos_ < s_.size()) {
        const char e = s_[pos_++];
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      }
      out += c;
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }

  nlohmann::json atom() {
    const std::string t = token();
    if (t.empty()) fail(std::string("unexpected '") + s_[pos_] + "'");
    if (t == "nil") return nullptr;
    if (t == "true") return true;
    if (t == "false") return false;
    const char c0 = t[0];
    const bool numeric = std::isdigit(static_cast<unsigned char>(c0)) ||
                         ((c0 == '-' || c0 == '+') && t.size() > 1 &&
                          std::isdigit(static_cast<unsigned char>(t[1])));
    if (!numeric) return t;  // keyword (kept with its colon) or symbol
    std::string digits = t;
    if (digits.back() == 'N' || digits.back() == 'M') digits.pop_back();
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(digits.c_str(), &end, 10);
    if (end && *end == '\0' && errno == 0) return static_cast<std::int64_t>(i);
    const double d = std::strtod(digits.c_str(), &end);
    if (end && *end == '\0') return d;
    fail("bad number '" + t + "'");
  }

  nlohmann::json value(int depth) {
    if (depth > kMaxInputDepth) {
      fail("nested deeper than " + std::to_string(kMaxInputDepth) + " levels");
    }
    skip(depth);
    if (pos_ >= s_.size()) fail("unexpected end of input");
    const char c = s_[pos_];
    switch (c) {
      case '[':
        ++pos_;
        return sequence(']', depth);
      case '(':
        ++pos_;
        return sequence(')', depth);
      case '{':
        ++pos_;
        return map(depth);
      case '"':
        return string_literal();
      case ']':
      case ')':
      case '}':
        fail(std::string("unexpected '") + c + "'");
      case '#': {
        ++pos_;
        if (pos_ >= s_.size()) fail("dangling '#'");
        if (s_[pos_] == '{') {  // set
          ++pos_;
          return sequence('}', depth);
        }
        token();  // a tag such as #inst or #uuid: keep the tagged value
        return value(depth + 1);
      }
      default:
        return atom();
    }
  }

  const std::string& s_;
  const std::string& source_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

std::vector<std::pair<nlohmann::json, std::size_t>> read_edn_forms(const std::string& text,
                                                                   const std::string& source) {
  return EdnParser(text, source).top_level();
}

nlohmann::json read_edn_value(const std::string& text, const std::string& source) {
  return EdnParser(text, source).single();
}

}  // namespace seer::check
