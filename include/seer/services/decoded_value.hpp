// A stored value's decoded form, which a simulated writer may attach to a write so that readers
// in the same simulation (an oracle reading the store's ground truth) take it instead of decoding
// the value again. Only the simulation's speed: it never crosses a wire, the value is what the
// store holds, and a reader that finds none decodes the value as it always could.
#pragma once

#include <nlohmann/json.hpp>

namespace seer::services {

// Derive the decoded type from it; readers find theirs with dynamic_cast.
struct DecodedValue {
  virtual ~DecodedValue() = default;
};

// A decoded value that can also produce its encoding, which lets a simulated writer defer the
// encoding itself (KvClient's deferred writes): the store then holds `encode()`'s bytes, made
// only when something reads them (a trace, a reader without the decoded form). encode() must
// return the same value every time: it stands for what the store holds.
struct EncodableValue : DecodedValue {
  virtual nlohmann::json encode() const = 0;
};

}  // namespace seer::services
