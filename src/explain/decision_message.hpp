// A decision carried by a message: a process read a value, decided on it, and told another of the
// design's own processes to act (a message, not a write of its own); a write it made later only
// recorded what was done. When the violation counts the effect of such a message, the message
// (and its delivery, where it took effect) is the decision, not the later write that happens to
// carry a value read (docs/explain.md, outdated_read, how `decided_by_message`).
#pragma once

#include "causes.hpp"

#include <optional>
#include <set>
#include <string>

namespace seer::explain {

struct DecisionMessage {
  std::uint64_t send = 0;
  std::uint64_t delivered = 0;
};

// `writer`'s first send after `after` and before `until` to one of the design's own processes
// (not a service: `services`) that carries an entity the violation names (`named`) and reached
// its receiver after `overtaken` (the write that made the read wrong) and by the horizon. None if
// there is none.
std::optional<DecisionMessage> decision_message(const DetectContext& c, int writer,
                                                std::uint64_t after, std::uint64_t until,
                                                std::uint64_t overtaken,
                                                const std::set<int>& services,
                                                const std::set<std::string>& named);

}  // namespace seer::explain
