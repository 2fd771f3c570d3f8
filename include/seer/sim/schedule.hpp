// An explicit fault schedule: every way a run departed from a quiet network, as a list of
// removable deviations.
//
// A seeded run can record its schedule; a run given a schedule takes every network and fault
// decision from it instead of from the seed (workload and algorithm randomness still come from the
// seed). Replaying the recorded schedule reproduces the seeded run exactly; removing a deviation
// gives the same run without that fault, which is what `seer shrink` does (docs/shrink.md).
//
// Decisions are keyed so that they survive unrelated changes: a message by its link (sender,
// receiver) and its position among the messages sent on that link; a service fault by the service
// process, the kind and its occurrence number; a crash or pause by process and time.
#pragma once

#include "seer/sim/time.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seer::sim {

struct MessageLatency {
  std::string from, to;
  std::uint64_t index = 0;  // position among the messages sent on the link
  Duration latency = 0;
};

struct MessageDrop {
  std::string from, to;
  std::uint64_t index = 0;
};

struct MessageDuplicate {
  std::string from, to;
  std::uint64_t index = 0;
  Duration latency = 0;  // of the copy
};

struct CrashFault {
  std::string process;
  Time at = 0;
  Duration down = 0;            // until the restart
  bool torn = false;            // a prefix of the unsynced writes persists
  std::uint64_t torn_keep = 0;  // how many pending writes persist
  std::uint64_t torn_cut = 0;   // bytes kept of the last one
};

struct PauseFault {
  std::string process;
  Time at = 0;
  Duration length = 0;
  // The process was waiting in a receive whose timeout passed during the pause while a message
  // arrived, and on resume the message won (else the timeout did).
  bool receive_first = false;
};

struct PartitionFault {
  Time at = 0;
  Duration length = 0;
  std::vector<std::string> group_a;  // every other process is in group B
  bool one_way = false;              // only A -> B is blocked
};

struct ClockFault {
  std::string process;
  Duration offset = 0;
  std::int32_t drift_ppm = 0;
};

// A fault a simulated service injects inside its contract (a lost response, a stale read, a
// redelivery), by the service process, the kind and its occurrence among that kind's decisions.
struct ServiceFault {
  std::string process;
  std::string kind;
  std::uint64_t occurrence = 0;
  // Where it was decided, when a run recorded it: the service's latest trace event then (the
  // delivery of the request it served, or an event after it). Not part of a run file: seer
  // explain --verify reads it to tie the fault to the events a cause names.
  std::uint64_t event = 0;
};

// The largest time or duration a schedule may hold: one day of virtual time, far past any run
// (RunConfig::max_time is 600 s) and far from overflowing the simulator's clock arithmetic.
inline constexpr Duration kMaxScheduleTime = seconds(86'400);

struct FaultSchedule {
  Duration default_latency = microseconds(500);  // of every message the schedule does not list
  std::vector<MessageLatency> latencies;
  std::vector<MessageDrop> drops;
  std::vector<MessageDuplicate> duplicates;
  std::vector<CrashFault> crashes;
  std::vector<PauseFault> pauses;
  std::vector<PartitionFault> partitions;
  std::vector<ClockFault> clocks;
  std::vector<ServiceFault> service_faults;

  // The faults (everything but latencies), and all deviations.
  std::size_t fault_count() const;
  std::size_t size() const { return latencies.size() + fault_count(); }
  // One line per kind with its count, e.g. "2 drops, 1 crash, 14 latencies".
  std::string summary() const;

  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming the offending field.
  static FaultSchedule from_json(const nlohmann::json& j);
};

}  // namespace seer::sim
