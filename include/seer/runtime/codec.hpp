// Payloads on the wire. A payload is a typed C++ object (sim::Payload); between OS processes it
// travels as its type() and to_json(), and the receiver rebuilds the typed object from those with
// the decoder registered for the type. The KV and SQL services' requests and replies are
// registered already; a design's own payload registers itself with SEER_REGISTER_PAYLOAD.
#pragma once

#include "seer/sim/message.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seer::runtime {

// Rebuilds a payload from its to_json(); throws (nlohmann::json's exceptions, std::exception) on
// a body that does not fit.
using PayloadDecoder = std::function<sim::PayloadPtr(const nlohmann::json& body)>;

// An unknown type, or a body its decoder refused.
struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Registers (or replaces) the decoder of a payload type. Thread-safe.
void register_payload(std::string type, PayloadDecoder decoder);
// The typed payload for (type, body); throws DecodeError. Thread-safe.
sim::PayloadPtr decode_payload(std::string_view type, const nlohmann::json& body);
bool payload_registered(std::string_view type);

// Registers T, whose static `from_json(const nlohmann::json&)` returns a PayloadPtr (or a
// shared_ptr<const T>), under `type`. For use at namespace scope in the program's own sources:
//   SEER_REGISTER_PAYLOAD("note", Note);
template <class T>
bool register_payload_type(std::string type) {
  register_payload(std::move(type), [](const nlohmann::json& body) -> sim::PayloadPtr {
    return T::from_json(body);
  });
  return true;
}

}  // namespace seer::runtime

#define SEER_PAYLOAD_CONCAT_INNER(a, b) a##b
#define SEER_PAYLOAD_CONCAT(a, b) SEER_PAYLOAD_CONCAT_INNER(a, b)
#define SEER_REGISTER_PAYLOAD(type_name, Type)                                                    \
  [[maybe_unused]] static const bool SEER_PAYLOAD_CONCAT(seer_payload_registered_, __COUNTER__) = \
      ::seer::runtime::register_payload_type<Type>(type_name)
