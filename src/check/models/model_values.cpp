#include "seer/check/model.hpp"

#include <algorithm>
#include <map>

namespace seer::check {

std::string operation_label(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + ", " +
         op.f + (op.line ? ", line " + std::to_string(op.line) : std::string()) + ")";
}

std::string operation_interval(const Operation& op) {
  return "[" + std::to_string(op.invoke) + ", " +
         (op.unknown() ? std::string("unknown") : std::to_string(op.complete)) + "]";
}

std::optional<std::int64_t> integer_or_nil(const nlohmann::json& v, const Operation& op) {
  if (v.is_null()) return std::nullopt;
  if (v.is_number_integer()) return v.get<std::int64_t>();
  throw HistoryError(operation_label(op) + ": value " + to_text(v) + " is not an integer or null");
}

std::vector<std::vector<int>> twin_orderings(const std::vector<Operation>& ops,
                                             const std::vector<std::string>& keys) {
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ops[a].invoke < ops[b].invoke; });
  std::vector<std::vector<int>> before(ops.size());
  std::map<std::string, std::size_t> latest;  // key -> latest-invoked twin so far
  for (const auto i : order) {
    if (!ops[i].unknown() || keys[i].empty()) continue;
    auto [it, first] = latest.try_emplace(keys[i], i);
    if (!first) {
      before[i].push_back(static_cast<int>(it->second));  // a chain: each waits for the previous
      it->second = i;
    }
  }
  return before;
}

}  // namespace seer::check
