// An object built field by field, in key order: nlohmann's {{"key", value}, ...} first builds a
// two-element array per field, and j["key"] = value looks the key up and inserts a null first;
// both cost more than the field. Records and σ are encoded for every response and write. The
// object is the same either way (its map orders the keys); fields added out of order still land
// in place, only slower.
#pragma once

#include <nlohmann/json.hpp>

#include <utility>

namespace seer::promises {

struct JsonFields {
  nlohmann::json object = nlohmann::json::object();
  template <class V>
  void add(const char* key, V&& value) {
    auto& map = object.get_ref<nlohmann::json::object_t&>();
    map.emplace_hint(map.end(), key, nlohmann::json(std::forward<V>(value)));
  }
};

}  // namespace seer::promises
