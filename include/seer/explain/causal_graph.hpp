// The happens-before graph of a trace: program order per process, send -> deliver (and -> drop,
// -> duplicate), timer set -> fire, crash -> restart, invoke -> complete, as the trace's parent
// links record them. Each event gets a vector clock over the processes; the nemesis ("sim") has no
// component of its own, so two unrelated drops are not ordered through it.
#pragma once

#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <vector>

namespace seer::explain {

class CausalGraph {
 public:
  explicit CausalGraph(const Trace& trace);

  // Component p: how many events of process p are causally at or before this event.
  const std::vector<std::uint32_t>& clock(std::uint64_t seq) const { return clocks_.at(seq - 1); }
  // a -> b: a is in b's causal past (a != b).
  bool happens_before(std::uint64_t a, std::uint64_t b) const;
  bool concurrent(std::uint64_t a, std::uint64_t b) const {
    return a != b && !happens_before(a, b) && !happens_before(b, a);
  }
  // Every event causally before any of `seqs`, plus `seqs` themselves, in sequence order.
  std::vector<std::uint64_t> past(const std::vector<std::uint64_t>& seqs) const;
  // The latest event of `lane` in the causal past of `seq` (what that process had done that `seq`
  // can know of), or 0.
  std::uint64_t latest_known(int lane, std::uint64_t seq) const;
  const std::vector<std::uint64_t>& children(std::uint64_t seq) const {
    return children_.at(seq - 1);
  }

 private:
  const Trace& trace_;
  std::vector<std::vector<std::uint32_t>> clocks_;
  std::vector<std::vector<std::uint64_t>> children_;
  std::vector<std::vector<std::uint64_t>> lane_events_;  // per lane, its events in order
};

}  // namespace seer::explain
