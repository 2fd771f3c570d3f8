// Delta debugging's ddmin (Zeller & Hildebrandt, TSE 2002) over the indices [0, n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace seer::shrink {

// Returns a subset of [0, n), in increasing order, for which `fails` holds and from which no single
// chunk at the finest granularity tried can be removed (1-minimal when not stopped). Assumes the
// full set fails. Tries the empty set first, then removes chunks (complements) before keeping
// single chunks (subsets), which suits runs where most deviations are irrelevant. `stop` ends the
// search early with the best subset so far. `max_chunks` caps the refinement: chunks never get
// smaller than n / max_chunks, trading 1-minimality for a bounded number of tests per pass.
std::vector<std::size_t> ddmin(std::size_t n,
                               const std::function<bool(const std::vector<std::size_t>&)>& fails,
                               const std::function<bool()>& stop,
                               std::size_t max_chunks = SIZE_MAX);

}  // namespace seer::shrink
