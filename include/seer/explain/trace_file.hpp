// A recorded trace (docs/trace-format.md) read back for analysis: explain, query, view and export
// work on the file alone, so they also work on traces from another machine or an older build.
#pragma once

#include "seer/trace/vocabulary.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace seer::explain {

// Malformed or truncated trace input; what() is one line naming the file and line.
struct TraceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using EventKind = trace::EventKind;

constexpr int kSimLane = -1;  // events of the network and the nemesis ("process": "sim")

struct TraceEvent {
  std::uint64_t seq = 0;
  std::int64_t time = 0;
  int lane = kSimLane;                 // index into Trace::processes
  EventKind kind = EventKind::kStart;  // parsed once; trace::event_kind_name gives its name
  std::vector<std::uint64_t> parents;  // previous event of the lane first, then the cause
  int peer = kSimLane;
  std::uint64_t message = 0;
  std::string type;     // payload type of message events
  nlohmann::json line;  // the whole event object, with its kind-specific fields and oracle facts

  const nlohmann::json& oracle() const;  // null if the event has no facts
  // The design's line behind the event ("at": "file:line"), or "" when the trace names none.
  std::string site() const;
  const char* kind_name() const { return trace::event_kind_name(kind); }
};

struct RequestIndex;  // explain's index of deliveries by process and request number

struct Trace {
  std::string path;
  nlohmann::json header;
  nlohmann::json footer;
  std::vector<std::string> processes;
  std::vector<TraceEvent> events;        // events[i].seq == i + 1
  std::vector<std::string> event_lines;  // the raw JSONL lines, for byte-for-byte replay checks

  // Built by explain on first use (a trace is not changed once read).
  mutable std::shared_ptr<const RequestIndex> request_index;

  const TraceEvent& at(std::uint64_t seq) const { return events.at(seq - 1); }
  bool has(std::uint64_t seq) const { return seq >= 1 && seq <= events.size(); }
  std::string lane_name(int lane) const;
  // The violation the footer records, or null.
  const nlohmann::json& violation() const;
};

// Reads and validates a trace: header first, footer last, events numbered 1..n with parents that
// point backwards. Throws TraceError.
Trace read_trace(const std::string& path);
Trace parse_trace(std::istream& in, const std::string& name);

}  // namespace seer::explain
