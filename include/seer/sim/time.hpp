// Virtual time. All simulated time is an integer count of nanoseconds since the start of the run.
#pragma once

#include <cstdint>

namespace seer::sim {

using Time = std::int64_t;      // an instant, ns since the run started
using Duration = std::int64_t;  // a span, ns

constexpr Duration nanoseconds(std::int64_t n) {
  return n;
}
constexpr Duration microseconds(std::int64_t n) {
  return n * 1'000;
}
constexpr Duration milliseconds(std::int64_t n) {
  return n * 1'000'000;
}
constexpr Duration seconds(std::int64_t n) {
  return n * 1'000'000'000;
}

}  // namespace seer::sim
