// Running operations one after another through a model, outside the search: witnesses checked by
// hand, reports, tests.
#include "seer/check/model.hpp"

#include <algorithm>
#include <map>

namespace seer::check {

std::optional<std::vector<std::string>> AnyModel::replay(const std::vector<Operation>& ops,
                                                         const std::vector<int>& order) const {
  // Each key's ops, in the order given, compiled together as the checker compiles a partition.
  std::map<std::string, std::size_t> index_of;
  std::vector<std::vector<Operation>> by_key;
  std::vector<std::pair<std::size_t, std::size_t>> place;
  for (const int i : order) {
    auto [key, inner] = partition(ops.at(static_cast<std::size_t>(i)));
    const auto [it, added] = index_of.emplace(to_text(key), by_key.size());
    if (added) by_key.emplace_back();
    inner.id = static_cast<int>(by_key[it->second].size());
    by_key[it->second].push_back(std::move(inner));
    place.push_back({it->second, by_key[it->second].size() - 1});
  }
  std::vector<std::unique_ptr<CompiledHistory>> histories;
  std::vector<std::vector<StateId>> possible;  // per key: every state the ops so far may leave
  for (const auto& part : by_key) {
    histories.push_back(compile(part));
    possible.push_back({histories.back()->initial()});
  }
  std::vector<std::string> out;
  std::vector<StateId> next;
  for (const auto& [k, j] : place) {
    next.clear();
    for (const auto s : possible[k]) histories[k]->successors(s, j, next);
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    if (next.empty()) return std::nullopt;
    possible[k] = next;
    out.push_back(histories[k]->describe_state(next.front()));
  }
  return out;
}

std::string AnyModel::describe_initial() const {
  static const std::vector<Operation> none;
  auto history = compile(none);
  return history->describe_state(history->initial());
}

}  // namespace seer::check
