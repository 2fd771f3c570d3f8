// Frees a JSON document's contents cheaply. nlohmann's destructor bounds its recursion by moving
// every array's and object's children onto a heap-allocated stack and destroying them from there:
// an allocation and a move of every node, about 40 % of what freeing a run's small documents cost
// (requests, responses, history entries). Freeing shallow documents depth first, in place, skips
// both; deeper ones are left to the destructor, so no document can overflow the stack here.
#pragma once

#include <nlohmann/json.hpp>

namespace seer {

namespace detail {

// Nesting this deep or deeper is freed by nlohmann's iterative destructor.
inline constexpr int kJsonReleaseDepth = 32;

inline void release_json_at(nlohmann::json& j, int depth) {
  if (depth >= kJsonReleaseDepth) return;
  if (j.is_object()) {
    auto& fields = j.get_ref<nlohmann::json::object_t&>();
    for (auto& field : fields) {
      if (field.second.is_structured()) release_json_at(field.second, depth + 1);
    }
    fields.clear();
  } else if (j.is_array()) {
    auto& items = j.get_ref<nlohmann::json::array_t&>();
    for (auto& item : items) {
      if (item.is_structured()) release_json_at(item, depth + 1);
    }
    items.clear();
  }
}

}  // namespace detail

// Empties `j` (an object or array stays one, with no members; a scalar is left as it is). For a
// value about to be destroyed: the destructor then has nothing left to move.
inline void release_json(nlohmann::json& j) {
  detail::release_json_at(j, 0);
}

}  // namespace seer
