// Registers per key for the checker's tests of keyed models (keyed_split_test, typed_model_test).
#pragma once

#include "seer/check/model.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace seer::check::testing {

// A register per key, not yet keyed.
struct RegisterPerKey {
  using State = std::int64_t;
  using Input = std::optional<std::int64_t>;  // written, or nullopt for a read
  using Output = std::int64_t;
  State init() const { return 0; }
  Call<Input, Output> compile(const Operation& op) const {
    if (op.f == "write") return {op.input.get<std::int64_t>(), std::nullopt};
    Call<Input, Output> c;
    if (!op.unknown()) c.output = op.output.get<std::int64_t>();
    return c;
  }
  std::optional<State> step(State s, const Input& in, const std::optional<Output>& out) const {
    if (in) return *in;
    if (out && *out != s) return std::nullopt;
    return s;
  }
  std::string describe_state(State s) const { return std::to_string(s); }
};

// The same, keyed by partition_key: its ops are moved into their keys' sub-histories, not copied.
struct KeyOnlyRegister : RegisterPerKey {
  nlohmann::json partition_key(const Operation& op) const { return op.key; }
};

}  // namespace seer::check::testing
