// Trace queries (`seer query`): the filters people and agents need to look around a failure.
// All given filters must hold (they are ANDed); repeated --process/--kind values are alternatives.
#pragma once

#include "seer/explain/causal_graph.hpp"
#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seer::explain {

struct TraceQuery {
  std::vector<std::string> processes;        // event's process is one of these
  std::vector<std::string> kinds;            // event's kind is one of these
  std::string key;                           // a key, prefix or label the event touches
  std::optional<std::int64_t> from, to;      // virtual time range, inclusive (ns)
  bool stale = false;                        // deliveries the oracle marks stale
  bool facts = false;                        // events with forbidden facts
  std::optional<std::int64_t> in_flight_at;  // sends of messages in flight at this time
  std::optional<std::uint64_t> before;       // events causally before this event
  std::optional<std::uint64_t> after;        // events causally after this event
  std::string knows;                         // with `at`: what this process knew at event `at`
  std::optional<std::uint64_t> at;
  std::size_t limit = 0;  // 0: no limit
};

// The matching events' sequence numbers, in order. Throws TraceError on a query that names an
// unknown process or an event the trace lacks.
std::vector<std::uint64_t> run_query(const Trace& trace, const CausalGraph& graph,
                                     const TraceQuery& q);

// "150ms", "2s", "900us", "1200" (ns). Throws std::invalid_argument.
std::int64_t parse_duration(const std::string& text);

}  // namespace seer::explain
