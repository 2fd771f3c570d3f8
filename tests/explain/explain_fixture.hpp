// Explains a trace as `seer explain` does and finds a cause in the answer: the preamble every
// explain trace test shares.
#pragma once

#include "seer/explain/explain.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seer::explain::testing {

inline Explanation explained(const Trace& trace) {
  const CausalGraph graph(trace);
  return explain_trace(trace, graph);
}

inline Explanation explained(const std::string& text) {
  return explained(parse(text));
}

inline bool holds(const std::vector<std::uint64_t>& events, std::uint64_t seq) {
  return std::find(events.begin(), events.end(), seq) != events.end();
}

// The first cause whose facts say `how` (and, when given, of `kind`); null when none does.
inline const Cause* cause_told(const Explanation& x, std::string_view how,
                               std::string_view kind = {}) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [&](const Cause& c) {
    return (kind.empty() || c.kind == kind) && c.facts.is_object() &&
           c.facts.value("how", std::string()) == how;
  });
  return found == x.causes.end() ? nullptr : &*found;
}

// `text` with its first `from` replaced by `to`; a test whose trace lacks `from` fails.
inline std::string replaced_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace seer::explain::testing
