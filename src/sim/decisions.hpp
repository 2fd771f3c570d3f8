// Where a run's network and fault decisions come from: the seed (drawn by the caller and only
// recorded here) or an explicit FaultSchedule (looked up here). See seer/sim/schedule.hpp.
#pragma once

#include "seer/sim/message.hpp"
#include "seer/sim/schedule.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace seer::sim {

// What happens to one message.
struct MessageFate {
  bool drop = false;
  Duration latency = 0;
  std::optional<Duration> duplicate_latency;  // set: a copy is delivered too
};

class Decisions {
 public:
  // `replay` may be null (decisions drawn from the seed); `record` says whether to keep what was
  // decided.
  Decisions(std::shared_ptr<const FaultSchedule> replay, bool record, bool lenient = false);

  // Resolves the schedule's process names; throws std::invalid_argument on an unknown one.
  void bind(const std::vector<std::string>& process_names);
  bool replaying() const { return replay_ != nullptr; }
  Duration default_latency() const;

  // --- replay lookups ---
  MessageFate message(ProcessId from, ProcessId to, std::uint64_t index) const;
  // The first unused crash (pause) of `process` at or after `now`: its index in the schedule.
  std::optional<std::size_t> next_crash(ProcessId process, Time now);
  std::optional<std::size_t> next_pause(ProcessId process, Time now);
  std::optional<std::size_t> next_partition(Time now);
  const CrashFault& crash(std::size_t i) const { return replay_->crashes[i]; }
  const PauseFault& pause(std::size_t i) const { return replay_->pauses[i]; }
  const PartitionFault& partition(std::size_t i) const { return replay_->partitions[i]; }
  std::vector<bool> partition_side(std::size_t i) const;  // side[p]: in group A
  ClockFault clock(ProcessId process) const;
  // A service fault decision: the seeded draw, or the schedule's, by occurrence. Records it, with
  // `event` (the service's latest trace event) as where it was decided.
  bool service_fault(ProcessId process, const std::string& kind, bool drawn, std::uint64_t event);

  // --- recording (no-ops unless recording) ---
  void record_message(ProcessId from, ProcessId to, std::uint64_t index, const MessageFate& fate);
  void record_crash(CrashFault crash);
  void record_pause(PauseFault pause);
  // The process's latest pause ended in a race its message won (PauseFault::receive_first).
  void record_receive_first(const std::string& process);
  void record_partition(PartitionFault partition);
  void record_clock(ProcessId process, Duration offset, std::int32_t drift_ppm);
  // What was decided (sorted into a canonical order); null unless recording.
  std::shared_ptr<FaultSchedule> take_recorded();

 private:
  using LinkKey = std::tuple<ProcessId, ProcessId, std::uint64_t>;
  ProcessId id_of(const std::string& name, const char* where) const;
  std::optional<std::size_t> next_of(std::vector<std::size_t>& order, std::size_t& cursor, Time now,
                                     bool crashes);

  std::shared_ptr<const FaultSchedule> replay_;
  bool lenient_ = false;
  std::shared_ptr<FaultSchedule> recorded_;
  std::vector<std::string> names_;
  std::map<std::string, ProcessId> ids_;
  // Replay indexes.
  std::map<LinkKey, Duration> latency_;
  std::set<LinkKey> drop_;
  std::map<LinkKey, Duration> duplicate_;
  std::vector<std::vector<std::size_t>> crashes_by_process_, pauses_by_process_;
  std::vector<std::size_t> crash_cursor_, pause_cursor_;
  std::vector<std::size_t> partitions_by_time_;
  std::size_t partition_cursor_ = 0;
  std::set<std::tuple<ProcessId, std::string, std::uint64_t>> service_faults_;
  std::map<std::pair<ProcessId, std::string>, std::uint64_t> service_occurrences_;
};

}  // namespace seer::sim
