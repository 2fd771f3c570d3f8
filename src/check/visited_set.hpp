// The search's memo of (linearized set, state) pairs already explored (Lowe's cache). The
// linearized set is kept as a bitset over the operations, and stored compressed: the words below
// the first one not all linearized are all ones, and those above the last one with any bit are all
// zeros, so a key is (state, first such word, the words in between). A long history checked in
// invocation order keeps a window of a few words, where a whole bitset per key would cost
// O(operations) memory and time. Keys live side by side in one array and the table holds their
// positions: no allocation per key, one probe sequence per lookup.
#pragma once

#include "seer/check/model.hpp"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace seer::check {

// The linearized operations as a bitset, tracking the window of words that are neither all ones
// (below it) nor all zeros (above it).
class LinearizedSet {
 public:
  explicit LinearizedSet(std::size_t ops) : words_((ops + 63) / 64, 0) {}

  bool has(int op) const {
    return (words_[static_cast<std::size_t>(op) / 64] >> (op % 64) & 1ULL) != 0;
  }
  void set(int op, bool on) {
    const auto w = static_cast<std::size_t>(op) / 64;
    const std::uint64_t mask = 1ULL << (op % 64);
    words_[w] = on ? (words_[w] | mask) : (words_[w] & ~mask);
    if (on) {
      if (words_[w] != 0 && w + 1 > end_) end_ = w + 1;
      while (begin_ < words_.size() && words_[begin_] == ~0ULL) ++begin_;
    } else {
      if (w < begin_) begin_ = w;
      while (end_ > 0 && words_[end_ - 1] == 0) --end_;
    }
  }
  std::size_t size_in_words() const { return words_.size(); }
  // The window: words [begin, end) hold every bit that is neither a leading one nor a trailing
  // zero (begin may exceed end when every word below is full and none above has a bit).
  std::size_t begin() const { return begin_; }
  std::size_t end() const { return end_ > begin_ ? end_ : begin_; }
  const std::uint64_t* data() const { return words_.data(); }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t begin_ = 0;  // the first word not all ones
  std::size_t end_ = 0;    // one past the last word with a bit set
};

class VisitedSet {
 public:
  VisitedSet() : slots_(1024, kEmpty) {}

  // Adds (set, state); false if it was there already.
  bool insert(const LinearizedSet& set, StateId state) {
    const std::uint64_t h = hash(set, state);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const std::uint32_t slot = slots_[i];
      if (slot == kEmpty) break;
      if (hashes_[slot] == h && equal(slot, set, state)) return false;
    }
    if ((hashes_.size() + 1) * 2 > slots_.size()) grow();
    mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = static_cast<std::uint32_t>(hashes_.size());
    hashes_.push_back(h);
    starts_.push_back(keys_.size());
    keys_.push_back(static_cast<std::uint64_t>(state));
    keys_.push_back(set.begin());
    keys_.insert(keys_.end(), set.data() + set.begin(), set.data() + set.end());
    return true;
  }
  std::size_t size() const { return hashes_.size(); }
  std::size_t words_stored() const { return keys_.size(); }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffU;

  static std::uint64_t hash(const LinearizedSet& set, StateId state) {
    std::uint64_t h = (static_cast<std::uint64_t>(state) * 0x9E3779B97F4A7C15ULL) ^ set.begin();
    for (std::size_t i = set.begin(); i < set.end(); ++i) {
      h = (h ^ set.data()[i]) * 0x100000001b3ULL + (h >> 29);
    }
    return h ^ (h >> 31);
  }
  bool equal(std::uint32_t slot, const LinearizedSet& set, StateId state) const {
    const std::uint64_t* k = keys_.data() + starts_[slot];
    const std::size_t stored = key_end(slot) - starts_[slot] - 2;
    if (k[0] != static_cast<std::uint64_t>(state) || k[1] != set.begin() ||
        stored != set.end() - set.begin()) {
      return false;
    }
    for (std::size_t i = 0; i < stored; ++i) {
      if (k[2 + i] != set.data()[set.begin() + i]) return false;
    }
    return true;
  }
  std::size_t key_end(std::uint32_t slot) const {
    return slot + 1 < starts_.size() ? starts_[slot + 1] : keys_.size();
  }
  void grow() {
    if (slots_.size() >= (std::size_t{1} << 31)) throw std::length_error("search memo full");
    std::vector<std::uint32_t> slots(slots_.size() * 2, kEmpty);
    const std::size_t mask = slots.size() - 1;
    for (std::uint32_t s = 0; s < hashes_.size(); ++s) {
      std::size_t i = hashes_[s] & mask;
      while (slots[i] != kEmpty) i = (i + 1) & mask;
      slots[i] = s;
    }
    slots_ = std::move(slots);
  }

  std::vector<std::uint32_t> slots_;   // positions in starts_, or kEmpty
  std::vector<std::uint64_t> hashes_;  // per key
  std::vector<std::size_t> starts_;    // per key: where it begins in keys_
  std::vector<std::uint64_t> keys_;    // per key: the state, the window's first word, its words
};

}  // namespace seer::check
