#include "seer/explain/causal_graph.hpp"

#include <algorithm>

namespace seer::explain {

CausalGraph::CausalGraph(const Trace& trace) : trace_(trace) {
  const std::size_t lanes = trace.processes.size();
  clocks_.resize(trace.events.size(), std::vector<std::uint32_t>(lanes, 0));
  children_.resize(trace.events.size());
  lane_events_.resize(lanes);
  for (const auto& e : trace.events) {
    auto& clock = clocks_[e.seq - 1];
    for (const auto parent : e.parents) {
      const auto& pc = clocks_[parent - 1];
      for (std::size_t p = 0; p < lanes; ++p) clock[p] = std::max(clock[p], pc[p]);
      children_[parent - 1].push_back(e.seq);
    }
    if (e.lane >= 0) {
      auto& own = lane_events_[static_cast<std::size_t>(e.lane)];
      own.push_back(e.seq);
      // Program order even where the trace names no previous event (a process's first event).
      clock[static_cast<std::size_t>(e.lane)] = static_cast<std::uint32_t>(own.size());
    }
  }
}

bool CausalGraph::happens_before(std::uint64_t a, std::uint64_t b) const {
  if (a == b || a > b) return false;  // parents always precede their children in the trace
  const auto& ea = trace_.at(a);
  if (ea.lane >= 0) {
    const auto lane = static_cast<std::size_t>(ea.lane);
    return clock(b)[lane] >= clock(a)[lane];
  }
  // A nemesis event has no clock component: it precedes b if one of its children does (or is b).
  for (const auto child : children(a)) {
    if (child == b || happens_before(child, b)) return true;
  }
  return false;
}

std::vector<std::uint64_t> CausalGraph::past(const std::vector<std::uint64_t>& seqs) const {
  std::vector<bool> seen(trace_.events.size() + 1, false);
  std::vector<std::uint64_t> stack;
  for (const auto s : seqs) {
    if (trace_.has(s) && !seen[s]) {
      seen[s] = true;
      stack.push_back(s);
    }
  }
  while (!stack.empty()) {
    const auto s = stack.back();
    stack.pop_back();
    const auto& e = trace_.at(s);
    auto visit = [&](std::uint64_t p) {
      if (p != 0 && !seen[p]) {
        seen[p] = true;
        stack.push_back(p);
      }
    };
    for (const auto p : e.parents) visit(p);
    // Program order: the lane's previous event, even if the trace listed another parent first.
    if (e.lane >= 0) {
      const auto& own = lane_events_[static_cast<std::size_t>(e.lane)];
      const auto index = clock(s)[static_cast<std::size_t>(e.lane)];
      if (index >= 2) visit(own[index - 2]);
    }
  }
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = 1; s < seen.size(); ++s) {
    if (seen[s]) out.push_back(s);
  }
  return out;
}

std::uint64_t CausalGraph::latest_known(int lane, std::uint64_t seq) const {
  if (lane < 0) return 0;
  const auto count = clock(seq)[static_cast<std::size_t>(lane)];
  return count == 0 ? 0 : lane_events_[static_cast<std::size_t>(lane)][count - 1];
}

}  // namespace seer::explain
