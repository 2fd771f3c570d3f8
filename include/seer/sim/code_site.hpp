// CodeSite: the line of the algorithm's code that sent a message, waited, or touched its disk.
// Env's and the service clients' calls take one as a defaulted last argument, so the call's own
// file and line are recorded without the caller writing anything; a traced run writes them as
// each event's "at" (docs/trace-format.md), which is how `seer explain` names the line a decision
// was taken at. __builtin_FILE/__builtin_LINE rather than std::source_location: clang 14, one of
// the compilers seer is built with, has no std::source_location with libstdc++.
#pragma once

#include <cstdint>

namespace seer::sim {

struct CodeSite {
  const char* file = nullptr;  // as the compiler was given it (seer's build: from the source root)
  // 64 bits, not 32: a site passed by value travels as two 8-byte words, and a 32-bit line left
  // 4 bytes of padding that the caller never stored, so reading that word back stalled the
  // store-to-load forwarding of every send and receive (2 % of a ping-pong delivery).
  std::uint64_t line = 0;

  // The caller's file and line, when used as a default argument.
  static constexpr CodeSite here(const char* file = __builtin_FILE(),
                                 std::uint32_t line = __builtin_LINE()) {
    return {file, line};
  }
  // Code that is not the algorithm's (seer's simulated services) passes none.
  static constexpr CodeSite none() { return {}; }
  constexpr bool known() const { return file != nullptr; }
};

}  // namespace seer::sim
