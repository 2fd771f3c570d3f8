#include "schedule_subset.hpp"

namespace seer::shrink {

namespace {

// Appends the elements of `from` whose flat index (starting at `base`) is in `kept`, walking
// `kept` (sorted) with `cursor`.
template <typename T>
void take(const std::vector<T>& from, std::vector<T>& to, std::size_t& base,
          const std::vector<std::size_t>& kept, std::size_t& cursor) {
  to.clear();
  for (std::size_t i = 0; i < from.size(); ++i) {
    while (cursor < kept.size() && kept[cursor] < base + i) ++cursor;
    if (cursor < kept.size() && kept[cursor] == base + i) to.push_back(from[i]);
  }
  base += from.size();
}

}  // namespace

sim::FaultSchedule with_faults(const sim::FaultSchedule& s, const std::vector<std::size_t>& kept) {
  sim::FaultSchedule out = s;
  std::size_t base = 0;
  std::size_t cursor = 0;
  take(s.drops, out.drops, base, kept, cursor);
  take(s.duplicates, out.duplicates, base, kept, cursor);
  take(s.crashes, out.crashes, base, kept, cursor);
  take(s.pauses, out.pauses, base, kept, cursor);
  take(s.partitions, out.partitions, base, kept, cursor);
  take(s.clocks, out.clocks, base, kept, cursor);
  take(s.service_faults, out.service_faults, base, kept, cursor);
  return out;
}

sim::FaultSchedule with_latencies(const sim::FaultSchedule& s,
                                  const std::vector<std::size_t>& kept) {
  sim::FaultSchedule out = s;
  std::size_t base = 0;
  std::size_t cursor = 0;
  take(s.latencies, out.latencies, base, kept, cursor);
  return out;
}

}  // namespace seer::shrink
