// A trace as a production log could hold it: each process's own events and messages, stamped with
// its own clock, and nothing only the simulator knew. `seer run --trace F --redact` writes one, so
// the value of the forbidden facts can be measured by explaining both (docs/explain.md).
#pragma once

#include "seer/explain/trace_file.hpp"

#include <iosfwd>

namespace seer::explain {

// Removes every forbidden fact from `trace`:
// - each event's `oracle` facts, the header's fault profile and schedule, the footer's hash;
// - the events no process observes: the network's and the nemesis's (drops, duplicates,
//   partitions), pauses and resumes, and the services' oracle notes (annotations);
// - true time: each remaining event is stamped with its process's local clock (offset and drift
//   applied), as its own log line would be.
// The remaining events are renumbered; a parent that was removed is replaced by its own parents,
// so happens-before between the kept events is unchanged. The violation (what a checker reports
// afterwards) stays, mapped to the kept event at or before it.
Trace redact(const Trace& trace);

// Writes a trace in the trace file format (header, events, footer), one JSON object per line.
void write_trace(const Trace& trace, std::ostream& out);

}  // namespace seer::explain
