// A stored value's decoded form, which a simulated writer may attach to a write so that readers
// in the same simulation (an oracle reading the store's ground truth) take it instead of decoding
// the value again. Only the simulation's speed: it never crosses a wire, the value is what the
// store holds, and a reader that finds none decodes the value as it always could.
#pragma once

namespace seer::services {

// Derive the decoded type from it; readers find theirs with dynamic_cast.
struct DecodedValue {
  virtual ~DecodedValue() = default;
};

}  // namespace seer::services
