#include "decisions.hpp"

#include <algorithm>
#include <stdexcept>

namespace seer::sim {

Decisions::Decisions(std::shared_ptr<const FaultSchedule> replay, bool record, bool lenient)
    : replay_(std::move(replay)), lenient_(lenient) {
  if (record) {
    recorded_ = std::make_shared<FaultSchedule>();
    if (replay_) recorded_->default_latency = replay_->default_latency;
  }
}

Duration Decisions::default_latency() const {
  return replay_ ? replay_->default_latency : FaultSchedule{}.default_latency;
}

ProcessId Decisions::id_of(const std::string& name, const char* where) const {
  const auto it = ids_.find(name);
  if (it == ids_.end()) {
    throw std::invalid_argument(std::string("schedule: ") + where + " names unknown process '" +
                                name + "'");
  }
  return it->second;
}

void Decisions::bind(const std::vector<std::string>& names) {
  names_ = names;
  for (std::size_t i = 0; i < names.size(); ++i) ids_[names[i]] = static_cast<ProcessId>(i);
  if (!replay_) return;
  const auto& s = *replay_;
  // In a lenient replay an entry about a process this run lacks is skipped (kNoProcess).
  const auto id = [&](const std::string& name, const char* where) {
    return lenient_ && !ids_.count(name) ? kNoProcess : id_of(name, where);
  };
  const auto link = [&](const auto& m, const char* where) {
    const LinkKey key{id(m.from, where), id(m.to, where), m.index};
    return std::get<0>(key) == kNoProcess || std::get<1>(key) == kNoProcess
               ? std::optional<LinkKey>()
               : std::optional<LinkKey>(key);
  };
  for (const auto& m : s.latencies) {
    if (const auto key = link(m, "latencies")) latency_[*key] = m.latency;
  }
  for (const auto& m : s.drops) {
    if (const auto key = link(m, "drops")) drop_.insert(*key);
  }
  for (const auto& m : s.duplicates) {
    if (const auto key = link(m, "duplicates")) duplicate_[*key] = m.latency;
  }
  const auto n = names.size();
  crashes_by_process_.assign(n, {});
  pauses_by_process_.assign(n, {});
  crash_cursor_.assign(n, 0);
  pause_cursor_.assign(n, 0);
  for (std::size_t i = 0; i < s.crashes.size(); ++i) {
    const auto p = id(s.crashes[i].process, "crashes");
    if (p != kNoProcess) crashes_by_process_[static_cast<std::size_t>(p)].push_back(i);
  }
  for (std::size_t i = 0; i < s.pauses.size(); ++i) {
    const auto p = id(s.pauses[i].process, "pauses");
    if (p != kNoProcess) pauses_by_process_[static_cast<std::size_t>(p)].push_back(i);
  }
  auto by_time = [](const auto& faults) {
    return [&faults](std::size_t a, std::size_t b) {
      return faults[a].at != faults[b].at ? faults[a].at < faults[b].at : a < b;
    };
  };
  for (auto& v : crashes_by_process_) std::sort(v.begin(), v.end(), by_time(s.crashes));
  for (auto& v : pauses_by_process_) std::sort(v.begin(), v.end(), by_time(s.pauses));
  for (std::size_t i = 0; i < s.partitions.size(); ++i) {
    for (const auto& name : s.partitions[i].group_a) id(name, "partitions");
    partitions_by_time_.push_back(i);
  }
  std::sort(partitions_by_time_.begin(), partitions_by_time_.end(), by_time(s.partitions));
  for (const auto& c : s.clocks) id(c.process, "clocks");
  for (const auto& f : s.service_faults) {
    const auto p = id(f.process, "service_faults");
    if (p != kNoProcess) service_faults_.insert({p, f.kind, f.occurrence});
  }
}

MessageFate Decisions::message(ProcessId from, ProcessId to, std::uint64_t index) const {
  const LinkKey key{from, to, index};
  MessageFate fate;
  fate.drop = drop_.count(key) > 0;
  const auto l = latency_.find(key);
  fate.latency = l == latency_.end() ? replay_->default_latency : l->second;
  const auto d = duplicate_.find(key);
  if (!fate.drop && d != duplicate_.end()) fate.duplicate_latency = d->second;
  return fate;
}

std::optional<std::size_t> Decisions::next_of(std::vector<std::size_t>& order, std::size_t& cursor,
                                              Time now, bool crashes) {
  while (cursor < order.size()) {
    const auto i = order[cursor++];
    const Time at = crashes ? replay_->crashes[i].at : replay_->pauses[i].at;
    if (at >= now) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> Decisions::next_crash(ProcessId p, Time now) {
  const auto i = static_cast<std::size_t>(p);
  return next_of(crashes_by_process_[i], crash_cursor_[i], now, true);
}

std::optional<std::size_t> Decisions::next_pause(ProcessId p, Time now) {
  const auto i = static_cast<std::size_t>(p);
  return next_of(pauses_by_process_[i], pause_cursor_[i], now, false);
}

std::optional<std::size_t> Decisions::next_partition(Time now) {
  while (partition_cursor_ < partitions_by_time_.size()) {
    const auto i = partitions_by_time_[partition_cursor_++];
    if (replay_->partitions[i].at >= now) return i;
  }
  return std::nullopt;
}

std::vector<bool> Decisions::partition_side(std::size_t i) const {
  std::vector<bool> side(names_.size(), false);
  for (const auto& name : replay_->partitions[i].group_a) {
    const auto it = ids_.find(name);
    if (it != ids_.end()) side[static_cast<std::size_t>(it->second)] = true;
  }
  return side;
}

ClockFault Decisions::clock(ProcessId process) const {
  for (const auto& c : replay_->clocks) {
    if (c.process == names_[static_cast<std::size_t>(process)]) return c;
  }
  return ClockFault{names_[static_cast<std::size_t>(process)], 0, 0};
}

bool Decisions::service_fault(ProcessId process, const std::string& kind, bool drawn,
                              std::uint64_t event) {
  if (!replay_ && !recorded_) return drawn;  // a plain seeded run: nothing to look up or keep
  const auto occurrence = service_occurrences_[{process, kind}]++;
  const bool fault = replay_ ? service_faults_.count({process, kind, occurrence}) > 0 : drawn;
  if (fault && recorded_) {
    recorded_->service_faults.push_back(
        {names_[static_cast<std::size_t>(process)], kind, occurrence, event});
  }
  return fault;
}

void Decisions::record_message(ProcessId from, ProcessId to, std::uint64_t index,
                               const MessageFate& fate) {
  if (!recorded_) return;
  const auto& f = names_[static_cast<std::size_t>(from)];
  const auto& t = names_[static_cast<std::size_t>(to)];
  if (fate.drop) {
    recorded_->drops.push_back({f, t, index});
    return;
  }
  if (fate.latency != recorded_->default_latency) {
    recorded_->latencies.push_back({f, t, index, fate.latency});
  }
  if (fate.duplicate_latency) {
    recorded_->duplicates.push_back({f, t, index, *fate.duplicate_latency});
  }
}

void Decisions::record_crash(CrashFault crash) {
  if (recorded_) recorded_->crashes.push_back(std::move(crash));
}

void Decisions::record_pause(PauseFault pause) {
  if (recorded_) recorded_->pauses.push_back(std::move(pause));
}

void Decisions::record_receive_first(const std::string& process) {
  if (!recorded_) return;
  for (auto it = recorded_->pauses.rbegin(); it != recorded_->pauses.rend(); ++it) {
    if (it->process != process) continue;
    it->receive_first = true;
    return;
  }
}

void Decisions::record_partition(PartitionFault partition) {
  if (recorded_) recorded_->partitions.push_back(std::move(partition));
}

void Decisions::record_clock(ProcessId process, Duration offset, std::int32_t drift_ppm) {
  if (recorded_ && (offset != 0 || drift_ppm != 0)) {
    recorded_->clocks.push_back({names_[static_cast<std::size_t>(process)], offset, drift_ppm});
  }
}

std::shared_ptr<FaultSchedule> Decisions::take_recorded() {
  return std::move(recorded_);
}

}  // namespace seer::sim
