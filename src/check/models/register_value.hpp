// What a register (or a kv key) holds: nil, an integer, a string (Porcupine's kv), or a list of
// integers (Jepsen's list-append). The empty list is nil, so a list key never written reads as []
// or nil alike.
#pragma once

#include "seer/check/model.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace seer::check {

using RegisterValue =
    std::variant<std::monostate, std::int64_t, std::string, std::vector<std::int64_t>>;

inline bool is_nil(const RegisterValue& v) {
  return std::holds_alternative<std::monostate>(v);
}

inline std::size_t hash_value(const RegisterValue& v) {
  struct Visit {
    std::size_t operator()(std::monostate) const { return 0x51ed27; }
    std::size_t operator()(std::int64_t n) const {
      return static_cast<std::size_t>(static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ULL);
    }
    std::size_t operator()(const std::string& s) const { return std::hash<std::string>{}(s); }
    std::size_t operator()(const std::vector<std::int64_t>& list) const {
      return hash_integers(list);
    }
  };
  return std::visit(Visit{}, v);
}

std::string describe_value(const RegisterValue& v);

}  // namespace seer::check
