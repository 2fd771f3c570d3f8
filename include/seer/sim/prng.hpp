// Deterministic pseudo-random numbers for the simulator.
//
// xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64. All distributions are ours and
// use only integer arithmetic, so a seed produces the same stream with any compiler, standard
// library or platform. Never use std:: distributions in simulated code: their algorithms differ
// between implementations.
#pragma once

#include <cstdint>

namespace seer::sim {

class Prng {
 public:
  explicit Prng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& word : state_) word = splitmix64(x);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound); bound 0 returns 0. Lemire's multiply-and-reject method: unbiased.
  std::uint64_t below(std::uint64_t bound) {
    if (bound == 0) return 0;
    __uint128_t m = static_cast<__uint128_t>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<__uint128_t>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi] (inclusive). Requires lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  // True with probability ppm / 1,000,000. Probabilities are integers so no floating point enters a
  // run.
  bool chance(std::uint32_t ppm) { return ppm > 0 && below(1'000'000) < ppm; }

  // An independent generator for a sub-stream (network, faults, workload...), so that changing how
  // one component draws does not shift the choices of the others.
  Prng fork(std::uint64_t stream) { return Prng(next() ^ (stream * 0x9E3779B97F4A7C15ULL)); }

  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace seer::sim
