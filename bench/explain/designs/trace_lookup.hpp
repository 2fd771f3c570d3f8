// Small lookups over a recorded trace for the labels: find events by process, kind, message type
// and payload, and follow a request to its reply. Only the trace is used (payloads, oracle facts,
// the footer's violation), never the design's code.
#pragma once

#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;
using EventPred = std::function<bool(const TraceEvent&)>;

// The lane index of a process name, or -2 if the trace has no such process.
int lane_of(const Trace& trace, const std::string& process);
const std::string& process_of(const Trace& trace, const TraceEvent& e);
// The violation message in the footer ("" if none) and its invariant.
std::string violation_message(const Trace& trace);
std::string violation_invariant(const Trace& trace);
std::uint64_t violation_event(const Trace& trace);

// Events matching `pred`, in order (optionally only up to `until`, inclusive).
std::vector<const TraceEvent*> find_all(const Trace& trace, const EventPred& pred,
                                        std::uint64_t until = 0);
const TraceEvent* find_first(const Trace& trace, const EventPred& pred, std::uint64_t after = 0);
const TraceEvent* find_last(const Trace& trace, const EventPred& pred, std::uint64_t before = 0);

// A message event of `kind` ("send", "deliver", ...) and payload `type` on `process`.
EventPred message(const Trace& trace, const std::string& process, const std::string& kind,
                  const std::string& type);
const nlohmann::json& payload(const TraceEvent& e);

// For a request's send: the server's reply send to the same requester carrying the same `req`
// (the event where the request took effect, with the service's facts), or nullptr (the request
// was never served, or its reply never left).
const TraceEvent* reply_send_for(const Trace& trace, const TraceEvent& request_send);
// The first delivery of the message sent at `send`, or nullptr.
const TraceEvent* delivery_of(const Trace& trace, const TraceEvent& send);
// The send of the message delivered at `deliver` (its cause parent), or nullptr.
const TraceEvent* send_of(const Trace& trace, const TraceEvent& deliver);
// For a reply's send: the request's send it answers (same requester and `req`, the latest before).
const TraceEvent* request_send_for(const Trace& trace, const TraceEvent& reply_send);

// Text between `before` and the next `after` in `text` ("" if absent).
std::string between(const std::string& text, const std::string& before, const std::string& after);

}  // namespace seer::bench::explain
