#include "seer/explain/explain.hpp"
#include "seer/export/export.hpp"

#include <map>

namespace seer::exporter {

// ShiViz wants, per host, a clock whose own component counts that host's events one by one and
// which merges the clock of every event it causally follows (the trace's parents). The network and
// nemesis are the host "sim".
std::string shiviz_log(const explain::Trace& t) {
  using Clock = std::map<std::string, std::uint64_t>;
  std::vector<Clock> clock_of(t.events.size() + 1);
  std::map<std::string, Clock> host_clock;
  std::string out;
  for (const auto& e : t.events) {
    const auto host = t.lane_name(e.lane);
    Clock c = host_clock[host];
    for (const auto parent : e.parents) {
      for (const auto& [h, n] : clock_of[parent]) {
        auto& mine = c[h];
        if (n > mine) mine = n;
      }
    }
    ++c[host];
    clock_of[e.seq] = c;
    host_clock[host] = c;
    out += host + ' ' + nlohmann::json(c).dump() + '\n';
    auto text = explain::describe_event(t, e.seq);
    for (auto& ch : text) {
      if (ch == '\n') ch = ' ';
    }
    out += text + '\n';
  }
  return out;
}

}  // namespace seer::exporter
