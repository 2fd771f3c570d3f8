#include "ddmin.hpp"

#include <algorithm>
#include <numeric>

namespace seer::shrink {

namespace {

std::vector<std::vector<std::size_t>> split(const std::vector<std::size_t>& c, std::size_t parts) {
  std::vector<std::vector<std::size_t>> chunks;
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    // Chunk sizes differ by at most one.
    const std::size_t end = (c.size() * (i + 1)) / parts;
    chunks.emplace_back(c.begin() + static_cast<std::ptrdiff_t>(start),
                        c.begin() + static_cast<std::ptrdiff_t>(end));
    start = end;
  }
  return chunks;
}

std::vector<std::size_t> without(const std::vector<std::size_t>& c,
                                 const std::vector<std::size_t>& chunk) {
  std::vector<std::size_t> out;
  out.reserve(c.size() - chunk.size());
  std::set_difference(c.begin(), c.end(), chunk.begin(), chunk.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::vector<std::size_t> ddmin(std::size_t n,
                               const std::function<bool(const std::vector<std::size_t>&)>& fails,
                               const std::function<bool()>& stop, std::size_t max_chunks) {
  std::vector<std::size_t> c(n);
  std::iota(c.begin(), c.end(), std::size_t{0});
  if (n == 0 || fails({})) return {};
  std::size_t granularity = 2;
  while (c.size() >= 2 && !stop()) {
    granularity = std::min(granularity, c.size());
    const auto chunks = split(c, granularity);
    bool reduced = false;
    for (const auto& chunk : chunks) {
      if (stop()) return c;
      auto rest = without(c, chunk);
      if (fails(rest)) {
        c = std::move(rest);
        granularity = std::max<std::size_t>(granularity - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced && granularity > 2) {
      for (const auto& chunk : chunks) {
        if (stop()) return c;
        if (fails(chunk)) {
          c = chunk;
          granularity = 2;
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (granularity >= c.size() || granularity >= max_chunks) break;
      granularity = std::min({granularity * 2, c.size(), max_chunks});
    }
  }
  return c;
}

}  // namespace seer::shrink
