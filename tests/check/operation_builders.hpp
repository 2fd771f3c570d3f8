// Building histories by hand in the checker tests: one operation, and ids in list order.
#pragma once

#include "seer/check/history.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace seer::check::testing {

inline Operation op(int process, const std::string& f, nlohmann::json in, nlohmann::json out,
                    std::int64_t invoke, std::int64_t complete) {
  Operation o;
  o.process = process;
  o.f = f;
  o.input = std::move(in);
  o.output = std::move(out);
  o.invoke = invoke;
  o.complete = complete;
  return o;
}

// An operation on one key of a keyed model (kv, the string kv).
inline Operation keyed(int process, const std::string& f, nlohmann::json key, nlohmann::json in,
                       nlohmann::json out, std::int64_t invoke, std::int64_t complete) {
  Operation o;
  o.process = process;
  o.f = f;
  o.key = std::move(key);
  o.input = std::move(in);
  o.output = std::move(out);
  o.invoke = invoke;
  o.complete = complete;
  return o;
}

inline std::vector<Operation> numbered(std::vector<Operation> ops) {
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = static_cast<int>(i);
  return ops;
}

}  // namespace seer::check::testing
