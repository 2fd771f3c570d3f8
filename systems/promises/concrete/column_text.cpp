#include "promises/concrete/column_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace seer::promises::concrete {

namespace {

// Printable ASCII other than '"' and '\' is written as is; anything else (escapes, UTF-8 and its
// errors) goes through the library, so the two can never disagree.
void append_string(std::string& out, const std::string& s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && u != '"' && u != '\\';
  });
  if (!plain) {
    out += nlohmann::json(s).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

void append_object(std::string& out, const std::map<std::string, std::string>& object) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : object) {  // a std::map: the library's key order too
    if (!first) out += ',';
    first = false;
    append_string(out, key);
    out += ':';
    append_string(out, value);
  }
  out += '}';
}

}  // namespace

std::string value_text(const Value& value) {
  std::string out = "{";
  if (value.data) {  // "data" sorts before "headers", as the library's object keys do
    out += "\"data\":";
    append_string(out, *value.data);
  }
  if (value.headers) {
    if (value.data) out += ',';
    out += "\"headers\":";
    append_object(out, *value.headers);
  }
  out += '}';
  return out;
}

std::string object_text(const std::map<std::string, std::string>& object) {
  std::string out;
  append_object(out, object);
  return out;
}

std::string array_text(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ',';
    append_string(out, items[i]);
  }
  out += ']';
  return out;
}

}  // namespace seer::promises::concrete
