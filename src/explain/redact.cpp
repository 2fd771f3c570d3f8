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
  if (e.kind == EventKind::kViolation) return false;
  if (e.lane == kSimLane) return true;
  return e.kind == EventKind::kPause || e.kind == EventKind::kResume ||
         e.kind == EventKind::kAnnotation || e.kind == EventKind::kDuplicate ||
         e.kind == EventKind::kDrop;
}

struct LocalClock {
  std::int64_t offset = 0;
  std::int64_t drift_ppm = 0;
  // The simulator's clock model (Simulator::local_time): true time, offset, and drift.
  std::int64_t at(std::int64_t t) const { return t + offset + t * drift_ppm / 1'000'000; }
};

// Each process's clock, from its start (or latest restart) event's oracle facts.
std::map<int, LocalClock> local_clocks(const Trace& trace) {
  std::map<int, LocalClock> clocks;
  for (const auto& e : trace.events) {
    if ((e.kind == EventKind::kStart || e.kind == EventKind::kRestart) && e.oracle().is_object()) {
      clocks[e.lane] = {e.oracle().value(trace::fact::kClockOffset, std::int64_t{0}),
                        e.oracle().value(trace::fact::kClockDrift, std::int64_t{0})};
    }
  }
  return clocks;
}

// Old seq -> new seq of each kept event; a removed event's kept ancestors stand in for it, and
// a reference to a removed event (a violation's) moves to the kept event at or before it.
class Renumbering {
 public:
  std::vector<std::uint64_t> parents(const std::vector<std::uint64_t>& old) {
    std::vector<std::uint64_t> mapped;
    std::set<std::uint64_t> seen;
    for (const auto p : old) {
      const auto kept = renumbered_.find(p);
      const auto& via =
          kept != renumbered_.end() ? std::vector<std::uint64_t>{kept->second} : stand_ins_[p];
      for (const auto q : via) {
        if (seen.insert(q).second) mapped.push_back(q);
      }
    }
    return mapped;
  }
  void remove(const TraceEvent& e) {
    stand_ins_[e.seq] = parents(e.parents);
    at_or_before_[e.seq] = last_kept_;
  }
  void keep(std::uint64_t old_seq, std::uint64_t new_seq) {
    renumbered_[old_seq] = new_seq;
    at_or_before_[old_seq] = new_seq;
    last_kept_ = new_seq;
  }
  std::uint64_t at_or_before(std::uint64_t old_seq) const {
    const auto it = at_or_before_.find(old_seq);
    return it == at_or_before_.end() ? 0 : it->second;
  }

 private:
  std::map<std::uint64_t, std::uint64_t> renumbered_;
  std::map<std::uint64_t, std::vector<std::uint64_t>> stand_ins_;
  std::map<std::uint64_t, std::uint64_t> at_or_before_;
  std::uint64_t last_kept_ = 0;
};

}  // namespace

Trace redact(const Trace& trace) {
  const auto clocks = local_clocks(trace);
  Trace out;
  out.path = trace.path;
  out.processes = trace.processes;
  out.header = trace.header;
  for (const char* field : {"profile", "schedule", "faults"}) out.header.erase(field);
  out.header["redacted"] = true;

  Renumbering seqs;
  for (const auto& e : trace.events) {
    if (unobservable(e)) {
      seqs.remove(e);
      continue;
    }
    TraceEvent r = e;
    r.seq = out.events.size() + 1;
    r.parents = seqs.parents(e.parents);
    r.line.erase("oracle");
    r.line["seq"] = r.seq;
    r.line["parents"] = r.parents;
    if (e.lane != kSimLane) {
      const auto clock = clocks.find(e.lane);
      if (clock != clocks.end()) r.time = clock->second.at(e.time);
      r.line["time"] = r.time;
    }
    seqs.keep(e.seq, r.seq);
    out.events.push_back(std::move(r));
  }
  for (auto& e : out.events) {
    if (e.kind == EventKind::kViolation && e.line.contains("after_event")) {
      e.line["after_event"] = seqs.at_or_before(e.line.value("after_event", std::uint64_t{0}));
    }
    out.event_lines.push_back(e.line.dump());
  }
  out.footer = {{"end", true}, {"events", out.events.size()}, {"redacted", true}};
  const auto& violation = trace.violation();
  if (violation.is_object()) {
    auto v = violation;
    if (v.contains("event")) v["event"] = seqs.at_or_before(v.value("event", std::uint64_t{0}));
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
