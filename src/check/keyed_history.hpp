// A keyed model's history checked without partitioning (--no-partition): one search over every
// key's operations, whose state is the tuple of every key's state. Slower than checking keys apart
// (the search interleaves every key's operations), and the same verdict by locality; it is what
// Porcupine's non-partitioned kv model does, for comparison.
#pragma once

#include "seer/check/model.hpp"

#include <memory>
#include <vector>

namespace seer::check {

std::unique_ptr<CompiledHistory> compile_keyed_history(const std::vector<Operation>& ops,
                                                       const AnyModel& model);

}  // namespace seer::check
