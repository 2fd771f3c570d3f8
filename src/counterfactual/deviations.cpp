// Which of a run's scheduled deviations a cause's events show: a message's latency, loss or copy
// by the message's link and position on it (counted from the trace's sends, as the simulator
// counts them), a crash, pause or partition by process and time, a service fault by the event it
// was decided at, a clock by process.
#include "deviations.hpp"

#include "seer/sim/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace seer::counterfactual {

namespace {

using explain::EventKind;
using explain::Trace;
using sim::Time;
using trace::is_message_event;
using LinkKey = std::tuple<std::string, std::string, std::uint64_t>;

std::string ms(std::int64_t ns) {
  return fmt::format("{:.3f} ms", static_cast<double>(ns) / 1e6);
}

// The trace read once: each message's link key and send, and each lane's events in order.
struct TraceIndex {
  struct Sent {
    LinkKey key;
    std::uint64_t send = 0;
    std::string type;
  };
  std::unordered_map<std::uint64_t, Sent> messages;
  std::vector<std::vector<std::uint64_t>> lanes;  // per lane, its events' seqs in order

  explicit TraceIndex(const Trace& trace) : lanes(trace.processes.size()) {
    std::map<std::pair<int, int>, std::uint64_t> sent_on_link;
    for (const auto& e : trace.events) {
      if (e.lane >= 0 && static_cast<std::size_t>(e.lane) < lanes.size()) {
        lanes[static_cast<std::size_t>(e.lane)].push_back(e.seq);
      }
      if (e.kind != EventKind::kSend || e.message == 0) continue;
      const auto index = sent_on_link[{e.lane, e.peer}]++;
      messages[e.message] = {
          {trace.lane_name(e.lane), trace.lane_name(e.peer), index}, e.seq, e.type};
    }
  }

  // The lane's first delivery after `seq` (0: none): where a service's handling of one request
  // ends and the next begins.
  std::uint64_t next_delivery(const Trace& trace, int lane, std::uint64_t seq) const {
    if (lane < 0 || static_cast<std::size_t>(lane) >= lanes.size()) return 0;
    const auto& events = lanes[static_cast<std::size_t>(lane)];
    for (auto it = std::upper_bound(events.begin(), events.end(), seq); it != events.end(); ++it) {
      if (trace.at(*it).kind == EventKind::kDeliver) return *it;
    }
    return 0;
  }
};

// One schedule entry alone, in the run file's form.
template <typename Entry>
nlohmann::json entry_json(std::vector<Entry> sim::FaultSchedule::*list, const Entry& entry,
                          const char* name) {
  sim::FaultSchedule one;
  (one.*list).push_back(entry);
  return one.to_json()[name][0];
}

std::string message_phrase(const TraceIndex::Sent& sent, std::uint64_t message) {
  return fmt::format("m{} {} -> {}{}", message, std::get<0>(sent.key), std::get<1>(sent.key),
                     sent.type.empty() ? "" : " (" + sent.type + ")");
}

}  // namespace

std::vector<Shown> shown_deviations(const Trace& trace, const sim::FaultSchedule& schedule,
                                    const std::vector<std::uint64_t>& events, bool include_clocks) {
  const TraceIndex index(trace);
  std::vector<Shown> shown;

  // What the events touch: themselves, and each message event's send (a reply sent while a service
  // handled a faulty request is part of that handling).
  std::vector<std::uint64_t> touched;
  // key -> (the event that shows it best, message id): the drop, the copy's delivery or the
  // delivery, else the send.
  std::map<LinkKey, std::pair<std::uint64_t, std::uint64_t>> messages;
  std::set<int> lanes;
  for (const auto seq : events) {
    if (!trace.has(seq)) continue;
    const auto& e = trace.at(seq);
    touched.push_back(seq);
    if (e.lane >= 0) lanes.insert(e.lane);
    if (!is_message_event(e.kind) || e.message == 0) continue;
    const auto it = index.messages.find(e.message);
    if (it == index.messages.end()) continue;
    touched.push_back(it->second.send);
    auto [shown_at, added] = messages.try_emplace(it->second.key, seq, e.message);
    if (!added && e.kind != EventKind::kSend) {
      auto& best = shown_at->second.first;
      if (trace.at(best).kind == EventKind::kSend || e.kind == EventKind::kDrop ||
          e.kind == EventKind::kDuplicate) {
        best = seq;
      }
    }
  }

  const auto message_of = [&](const std::string& from, const std::string& to,
                              std::uint64_t position) {
    const auto it = messages.find({from, to, position});
    return it == messages.end() ? nullptr : &*it;
  };
  // A message list's deviations; `what` phrases what happened to the message.
  const auto message_deviations = [&](const auto& list, auto member, const char* name,
                                      const char* kind, Shown::List which, const auto& what) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& entry = list[i];
      const auto* m = message_of(entry.from, entry.to, entry.index);
      if (m == nullptr) continue;
      const auto [event, id] = m->second;
      shown.push_back(
          {{kind, event,
            fmt::format("{} (#{})", what(message_phrase(index.messages.at(id), id), entry), event),
            entry_json(member, entry, name)},
           which,
           i});
    }
  };
  message_deviations(
      schedule.drops, &sim::FaultSchedule::drops, "drops", "drop", Shown::List::kDrops,
      [](const std::string& message, const sim::MessageDrop&) { return "the loss of " + message; });
  message_deviations(schedule.duplicates, &sim::FaultSchedule::duplicates, "duplicates",
                     "duplicate", Shown::List::kDuplicates,
                     [](const std::string& message, const sim::MessageDuplicate&) {
                       return "the copy of " + message;
                     });
  message_deviations(schedule.latencies, &sim::FaultSchedule::latencies, "latencies", "latency",
                     Shown::List::kLatencies,
                     [&](const std::string& message, const sim::MessageLatency& l) {
                       return fmt::format("{} in flight {} instead of {}", message, ms(l.latency),
                                          ms(schedule.default_latency));
                     });

  // Crashes and pauses by process and time: the event that began it, or one that ended it (a
  // restart or resume after it and after no later one of the same process).
  const auto timed = [&](EventKind begins, EventKind ends, const std::string& process, Time at,
                         const std::vector<Time>& starts) -> std::uint64_t {
    for (const auto seq : events) {
      if (!trace.has(seq)) continue;
      const auto& e = trace.at(seq);
      if (trace.lane_name(e.lane) != process) continue;
      if (e.kind == begins && e.time == at) return seq;
      if (e.kind != ends || e.time < at) continue;
      const bool later = std::any_of(starts.begin(), starts.end(),
                                     [&](Time other) { return other > at && other <= e.time; });
      if (!later) return seq;
    }
    return 0;
  };
  const auto starts_of = [](const auto& list, const std::string& process) {
    std::vector<Time> starts;
    for (const auto& f : list) {
      if (f.process == process) starts.push_back(f.at);
    }
    return starts;
  };
  for (std::size_t i = 0; i < schedule.crashes.size(); ++i) {
    const auto& c = schedule.crashes[i];
    const auto event = timed(EventKind::kCrash, EventKind::kRestart, c.process, c.at,
                             starts_of(schedule.crashes, c.process));
    if (event == 0) continue;
    shown.push_back(
        {{"crash", event, fmt::format("the crash of {} at {} (#{})", c.process, ms(c.at), event),
          entry_json(&sim::FaultSchedule::crashes, c, "crashes")},
         Shown::List::kCrashes,
         i});
  }
  for (std::size_t i = 0; i < schedule.pauses.size(); ++i) {
    const auto& p = schedule.pauses[i];
    const auto event = timed(EventKind::kPause, EventKind::kResume, p.process, p.at,
                             starts_of(schedule.pauses, p.process));
    if (event == 0) continue;
    shown.push_back({{"pause", event,
                      fmt::format("the pause of {} at {} for {} (#{})", p.process, ms(p.at),
                                  ms(p.length), event),
                      entry_json(&sim::FaultSchedule::pauses, p, "pauses")},
                     Shown::List::kPauses,
                     i});
  }
  for (std::size_t i = 0; i < schedule.partitions.size(); ++i) {
    const auto& p = schedule.partitions[i];
    for (const auto seq : events) {
      if (!trace.has(seq)) continue;
      const auto& e = trace.at(seq);
      const bool begins = e.kind == EventKind::kPartition && e.time == p.at;
      const bool ends = e.kind == EventKind::kHeal && e.time == p.at + p.length;
      if (!begins && !ends) continue;
      shown.push_back(
          {{"partition", seq,
            fmt::format("the partition at {} for {} (#{})", ms(p.at), ms(p.length), seq),
            entry_json(&sim::FaultSchedule::partitions, p, "partitions")},
           Shown::List::kPartitions,
           i});
      break;
    }
  }

  // A service fault: the events of the service from where it was decided up to its next
  // delivery (the handling of that one request), and the messages it sent then.
  for (std::size_t i = 0; i < schedule.service_faults.size(); ++i) {
    const auto& f = schedule.service_faults[i];
    if (f.event == 0 || !trace.has(f.event)) continue;
    const int lane = trace.at(f.event).lane;
    const auto end = index.next_delivery(trace, lane, f.event);
    std::uint64_t event = 0;
    for (const auto seq : touched) {
      if (trace.at(seq).lane == lane && seq >= f.event && (end == 0 || seq < end)) {
        event = event == 0 ? seq : std::min(event, seq);
      }
    }
    if (event == 0) continue;
    shown.push_back(
        {{"service_fault", event, fmt::format("{}'s {} (#{})", f.process, f.kind, event),
          entry_json(&sim::FaultSchedule::service_faults, f, "service_faults")},
         Shown::List::kServiceFaults,
         i});
  }

  if (include_clocks) {
    for (std::size_t i = 0; i < schedule.clocks.size(); ++i) {
      const auto& c = schedule.clocks[i];
      const bool named = std::any_of(lanes.begin(), lanes.end(),
                                     [&](int lane) { return trace.lane_name(lane) == c.process; });
      if (!named) continue;
      shown.push_back(
          {{"clock", 0,
            fmt::format("{}'s clock {} off{}", c.process, ms(c.offset),
                        c.drift_ppm != 0 ? fmt::format(", drifting {} ppm", c.drift_ppm) : ""),
            entry_json(&sim::FaultSchedule::clocks, c, "clocks")},
           Shown::List::kClocks,
           i});
    }
  }
  return shown;
}

sim::FaultSchedule without(const sim::FaultSchedule& schedule, const std::vector<Shown>& removed) {
  std::set<std::pair<Shown::List, std::size_t>> gone;
  for (const auto& r : removed) gone.insert({r.list, r.index});
  const auto keep = [&](auto& list, Shown::List which) {
    std::remove_reference_t<decltype(list)> kept;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (gone.count({which, i}) == 0) kept.push_back(std::move(list[i]));
    }
    list = std::move(kept);
  };
  sim::FaultSchedule s = schedule;
  keep(s.latencies, Shown::List::kLatencies);
  keep(s.drops, Shown::List::kDrops);
  keep(s.duplicates, Shown::List::kDuplicates);
  keep(s.crashes, Shown::List::kCrashes);
  keep(s.pauses, Shown::List::kPauses);
  keep(s.partitions, Shown::List::kPartitions);
  keep(s.clocks, Shown::List::kClocks);
  keep(s.service_faults, Shown::List::kServiceFaults);
  return s;
}

std::vector<Deviation> deviations_shown(const Trace& trace, const sim::FaultSchedule& schedule,
                                        const std::vector<std::uint64_t>& events,
                                        bool include_clocks) {
  std::vector<Deviation> out;
  for (auto& s : shown_deviations(trace, schedule, events, include_clocks)) {
    out.push_back(std::move(s.deviation));
  }
  return out;
}

}  // namespace seer::counterfactual
