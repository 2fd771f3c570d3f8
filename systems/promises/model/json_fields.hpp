// An object built field by field, in key order: nlohmann's {{"key", value}, ...} first builds a
// two-element array per field, and j["key"] = value looks the key up and inserts a null first;
// both cost more than the field. Records and σ are encoded for every response and write. The
// object is the same either way (its map orders the keys); fields added out of order still land
// in place, only slower.
#pragma once

#include <nlohmann/json.hpp>

#include <tuple>
#include <utility>

namespace seer::promises {

struct JsonFields {
  nlohmann::json object = nlohmann::json::object();
  template <class V>
  void add(const char* key, V&& value) {
    auto& map = object.get_ref<nlohmann::json::object_t&>();
    // Constructed in place: no temporary to move from and destroy.
    map.emplace_hint(map.end(), std::piecewise_construct, std::forward_as_tuple(key),
                     std::forward_as_tuple(std::forward<V>(value)));
  }
};

}  // namespace seer::promises
