// The trace: every event of a run, in order, with causal parents and the oracle's annotations.
//
// The trace hash is computed for every run (recorded or not) over each event's identity: sequence,
// time, process, kind, peer, message id, causal parent and payload type. Two runs with the same
// hash made the same choices in the same order. The JSONL rendering (docs/trace-format.md) is
// produced only when a trace is recorded, because building annotations costs far more than running
// the event.
#pragma once

#include "seer/sim/message.hpp"
#include "seer/sim/time.hpp"
#include "seer/trace/vocabulary.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seer::sim {

using EventKind = trace::EventKind;
using trace::event_kind_name;

constexpr std::uint64_t kNoEvent = 0;  // sequence numbers start at 1

struct TraceEvent {
  std::uint64_t seq = 0;
  Time time = 0;
  ProcessId process = kNoProcess;  // kNoProcess: the simulator itself (partitions, heals)
  EventKind kind = EventKind::kStart;
  ProcessId peer = kNoProcess;        // the other end of a message
  std::uint64_t message = 0;          // message id, for send/deliver/drop/duplicate
  std::uint64_t previous = kNoEvent;  // previous event on the same process
  std::uint64_t cause = kNoEvent;     // the send behind a delivery, the set behind a timer, ...
  const Message* payload = nullptr;   // only valid while annotators run
  nlohmann::json detail;              // kind-specific fields (only when recording)
  nlohmann::json oracle;              // forbidden facts (only when recording)
};

class TraceHash {
 public:
  void add(const TraceEvent& e, std::string_view payload_type);
  std::uint64_t value() const { return hash_; }

 private:
  void mix(std::uint64_t v);
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::string hash_hex(std::uint64_t hash);

// Renders one event as its JSONL line (no newline).
std::string event_to_line(const TraceEvent& e, const std::vector<std::string>& process_names);

}  // namespace seer::sim
