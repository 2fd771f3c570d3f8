// The search's memo of (linearized set, state) pairs already explored (Lowe's cache). Every key is
// the same width, so keys live side by side in one array and the table holds their positions: no
// allocation per key, one probe sequence per lookup.
#pragma once

#include "seer/check/model.hpp"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace seer::check {

class VisitedSet {
 public:
  explicit VisitedSet(std::size_t words) : words_(words), slots_(1024, kEmpty) {}

  // Adds (bits, state); false if it was there already.
  bool insert(const std::vector<std::uint64_t>& bits, StateId state) {
    const std::uint64_t h = hash(bits, state);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const std::uint32_t slot = slots_[i];
      if (slot == kEmpty) break;
      if (equal(slot, bits, state)) return false;
    }
    if ((count_ + 1) * 2 > slots_.size()) grow();
    mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = static_cast<std::uint32_t>(count_);
    keys_.push_back(static_cast<std::uint64_t>(state));
    keys_.insert(keys_.end(), bits.begin(), bits.end());
    ++count_;
    return true;
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffU;

  static std::uint64_t hash(const std::uint64_t* bits, std::size_t words, std::uint64_t state) {
    std::uint64_t h = state * 0x9E3779B97F4A7C15ULL;
    for (std::size_t i = 0; i < words; ++i) h = (h ^ bits[i]) * 0x100000001b3ULL + (h >> 29);
    return h ^ (h >> 31);
  }
  std::uint64_t hash(const std::vector<std::uint64_t>& bits, StateId state) const {
    return hash(bits.data(), words_, static_cast<std::uint64_t>(state));
  }
  const std::uint64_t* key(std::uint32_t slot) const {
    return keys_.data() + static_cast<std::size_t>(slot) * (words_ + 1);
  }
  bool equal(std::uint32_t slot, const std::vector<std::uint64_t>& bits, StateId state) const {
    const std::uint64_t* k = key(slot);
    if (k[0] != static_cast<std::uint64_t>(state)) return false;
    for (std::size_t i = 0; i < words_; ++i) {
      if (k[i + 1] != bits[i]) return false;
    }
    return true;
  }
  void grow() {
    if (slots_.size() >= (std::size_t{1} << 31)) throw std::length_error("search memo full");
    std::vector<std::uint32_t> slots(slots_.size() * 2, kEmpty);
    const std::size_t mask = slots.size() - 1;
    for (std::uint32_t s = 0; s < count_; ++s) {
      const std::uint64_t* k = key(s);
      std::size_t i = hash(k + 1, words_, k[0]) & mask;
      while (slots[i] != kEmpty) i = (i + 1) & mask;
      slots[i] = s;
    }
    slots_ = std::move(slots);
  }

  std::size_t words_;
  std::vector<std::uint32_t> slots_;  // positions in keys_, or kEmpty
  std::vector<std::uint64_t> keys_;   // per key: the state, then the bits
  std::size_t count_ = 0;
};

}  // namespace seer::check
