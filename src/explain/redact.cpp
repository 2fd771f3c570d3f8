// Redaction: what remains of a trace when only what production logs could hold is kept.
#include "seer/explain/redact.hpp"

#include <map>
#include <ostream>
#include <set>

namespace seer::explain {

namespace {

// Events that no process observes: the network's and the nemesis's, a pause (the process cannot
// tell it was stopped), and the oracle's notes. The violation stays: a checker reports it.
bool unobservable(const TraceEvent& e) {
  if (e.kind == "violation") return false;
  if (e.lane == kSimLane) return true;
  return e.kind == "pause" || e.kind == "resume" || e.kind == "annotation" ||
         e.kind == "duplicate" || e.kind == "drop";
}

struct LocalClock {
  std::int64_t offset = 0;
  std::int64_t drift_ppm = 0;
  // The simulator's clock model (Simulator::local_time): true time, offset, and drift.
  std::int64_t at(std::int64_t t) const { return t + offset + t * drift_ppm / 1'000'000; }
};

}  // namespace

Trace redact(const Trace& trace) {
  std::map<int, LocalClock> clocks;
  for (const auto& e : trace.events) {
    if ((e.kind == "start" || e.kind == "restart") && e.oracle().is_object()) {
      clocks[e.lane] = {e.oracle().value("clock_offset_ns", std::int64_t{0}),
                        e.oracle().value("clock_drift_ppm", std::int64_t{0})};
    }
  }
  Trace out;
  out.path = trace.path;
  out.processes = trace.processes;
  out.header = trace.header;
  for (const char* field : {"profile", "schedule", "faults"}) out.header.erase(field);
  out.header["redacted"] = true;

  // Old seq -> new seq of each kept event; a removed event's kept ancestors stand in for it.
  std::map<std::uint64_t, std::uint64_t> renumbered;
  std::map<std::uint64_t, std::vector<std::uint64_t>> stand_ins;
  auto mapped_parents = [&](const std::vector<std::uint64_t>& parents) {
    std::vector<std::uint64_t> mapped;
    std::set<std::uint64_t> seen;
    for (const auto p : parents) {
      const auto kept = renumbered.find(p);
      const auto& via =
          kept != renumbered.end() ? std::vector<std::uint64_t>{kept->second} : stand_ins[p];
      for (const auto q : via) {
        if (seen.insert(q).second) mapped.push_back(q);
      }
    }
    return mapped;
  };
  std::uint64_t last_kept = 0;  // the kept event at or before each removed one
  std::map<std::uint64_t, std::uint64_t> at_or_before;
  for (const auto& e : trace.events) {
    if (unobservable(e)) {
      stand_ins[e.seq] = mapped_parents(e.parents);
      at_or_before[e.seq] = last_kept;
      continue;
    }
    TraceEvent r = e;
    r.seq = out.events.size() + 1;
    r.parents = mapped_parents(e.parents);
    r.line.erase("oracle");
    r.line["seq"] = r.seq;
    r.line["parents"] = r.parents;
    if (e.lane != kSimLane) {
      const auto clock = clocks.find(e.lane);
      if (clock != clocks.end()) r.time = clock->second.at(e.time);
      r.line["time"] = r.time;
    }
    renumbered[e.seq] = r.seq;
    at_or_before[e.seq] = r.seq;
    last_kept = r.seq;
    out.events.push_back(std::move(r));
  }
  auto remap = [&](std::uint64_t old) -> std::uint64_t {
    const auto it = at_or_before.find(old);
    return it == at_or_before.end() ? 0 : it->second;
  };
  for (auto& e : out.events) {
    if (e.kind == "violation" && e.line.contains("after_event")) {
      e.line["after_event"] = remap(e.line.value("after_event", std::uint64_t{0}));
    }
    out.event_lines.push_back(e.line.dump());
  }
  out.footer = {{"end", true}, {"events", out.events.size()}, {"redacted", true}};
  const auto& violation = trace.violation();
  if (violation.is_object()) {
    auto v = violation;
    if (v.contains("event")) v["event"] = remap(v.value("event", std::uint64_t{0}));
    out.footer["violation"] = std::move(v);
  }
  return out;
}

void write_trace(const Trace& trace, std::ostream& out) {
  out << trace.header.dump() << '\n';
  for (const auto& line : trace.event_lines) out << line << '\n';
  out << trace.footer.dump() << '\n';
}

}  // namespace seer::explain
