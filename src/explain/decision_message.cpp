#include "decision_message.hpp"

#include "entities.hpp"

namespace seer::explain {

namespace {

// How many events after the read the message is looked for: a decision follows its read within
// a few of the process's steps, and the bound keeps the cost per cause independent of the trace's
// length.
constexpr std::uint64_t kDecisionFollowed = 400;

}  // namespace

std::optional<DecisionMessage> decision_message(const DetectContext& c, int writer,
                                                std::uint64_t after, std::uint64_t until,
                                                std::uint64_t overtaken,
                                                const std::set<int>& services,
                                                const std::set<std::string>& named) {
  const auto& t = c.trace;
  if (named.empty()) return std::nullopt;
  for (auto s = after + 1; s < until && s <= c.horizon && s - after < kDecisionFollowed; ++s) {
    const auto& e = t.at(s);
    if (e.lane != writer || e.kind != EventKind::kSend) continue;
    if (e.peer == kSimLane || services.count(e.peer)) continue;
    const auto payload = e.line.value("payload", nlohmann::json());
    if (!data_names_any(payload, named)) continue;
    const auto delivered = c.index.deliver_of.find(e.message);
    if (delivered == c.index.deliver_of.end() || delivered->second > c.horizon) continue;
    if (delivered->second <= overtaken) continue;
    return DecisionMessage{s, delivered->second};
  }
  return std::nullopt;
}

}  // namespace seer::explain
