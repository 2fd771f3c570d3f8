// The message ids a simulated service has taken, to drop the network's duplicates (copies of one
// message keep its id; see kv_service.cpp). A run numbers its messages 1, 2, 3, ..., so a bit per
// id is a dense set: a test and a store where a std::set<id> allocated a node per request and
// searched a tree (~150 instructions a request, a promises run's KV store takes ~400).
#pragma once

#include <cstdint>
#include <vector>

namespace seer::services {

class SeenMessages {
 public:
  // True the first time `id` is taken, false for a copy.
  bool take(std::uint64_t id) {
    const auto word = static_cast<std::size_t>(id / 64);
    const std::uint64_t bit = std::uint64_t{1} << (id % 64);
    if (word >= words_.size()) [[unlikely]] {
      grow(word);
    }
    if (words_[word] & bit) return false;
    words_[word] |= bit;
    return true;
  }

 private:
  [[gnu::noinline]] void grow(std::size_t word) { words_.resize(word + word / 2 + 1); }
  std::vector<std::uint64_t> words_;
};

}  // namespace seer::services
