// JSON from untrusted input (histories, traces, run files, MCP requests) with a bounded nesting
// depth. nlohmann::json parses iteratively, but dump() and comparisons recurse, so a value nested
// 100,000 deep parses fine and then overflows the stack wherever it is printed. Every reader checks
// the depth first, in one linear pass, and rejects deeper input as malformed.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace seer {

// The deepest nesting of arrays and objects accepted in any input seer reads (JSON and EDN).
inline constexpr int kMaxInputDepth = 512;

// The deepest nesting of [ and { outside strings in `text` (valid JSON or not).
inline int json_nesting_depth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Thrown by parse_json_bounded for input nested deeper than kMaxInputDepth. It is a
// nlohmann::json::exception, so readers that already turn malformed JSON into an input error
// handle it alike.
class JsonTooDeep : public nlohmann::json::exception {
 public:
  JsonTooDeep()
      : nlohmann::json::exception(
            0, ("nested deeper than " + std::to_string(kMaxInputDepth) + " levels").c_str()) {}
};

// nlohmann::json::parse, but input nested deeper than kMaxInputDepth throws JsonTooDeep.
inline nlohmann::json parse_json_bounded(std::string_view text) {
  if (json_nesting_depth(text) > kMaxInputDepth) throw JsonTooDeep();
  return nlohmann::json::parse(text);
}

// As parse_json_bounded, but malformed or too deep input gives a discarded value (no exception),
// like nlohmann::json::parse(text, nullptr, false).
inline nlohmann::json parse_json_bounded_or_discarded(std::string_view text) {
  if (json_nesting_depth(text) > kMaxInputDepth) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, nullptr, false);
}

// The integer `j` as T, or nullopt when `j` is not an integer or T cannot hold it. nlohmann's
// get<T>() truncates 1e300 and wraps -1 to 2^64-1; input fields are read with this instead.
template <typename T>
std::optional<T> json_integer(const nlohmann::json& j) {
  static_assert(std::is_integral_v<T>);
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(v);
  }
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (v < 0) return std::nullopt;
      if (static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) return std::nullopt;
    } else {
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
        return std::nullopt;
      }
    }
    return static_cast<T>(v);
  }
  return std::nullopt;
}

}  // namespace seer
