#include "crash_repeat.hpp"

#include "silence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace seer::explain {

namespace {

// The process's restart after `crash`, or 0.
std::uint64_t restart_after(const Trace& t, int lane, std::uint64_t crash, std::uint64_t horizon) {
  for (auto s = crash + 1; s <= horizon && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane == lane && e.kind == EventKind::kRestart) return s;
  }
  return 0;
}

// Whether something handed the restarted life this work again between `from` and `to`: a work
// item it took from a queue, or a message from another of the design's processes naming it. Then
// the repeat answers that message (a redelivery's story), not the crash's lost knowledge. Reads of
// a service's state (a poll of the table it should have marked) are no such prompt: they are how
// the new life derived its work from what was durable.
bool prompted(const DetectContext& c, int lane, std::uint64_t from, std::uint64_t to,
              const nlohmann::json& data) {
  for (const auto& a : c.index.accesses) {
    if (a.client != lane || a.op != "receive" || !a.delivered) continue;
    if (a.event > from && a.event < to && shares_a_name(data, read_value(c.trace, a))) return true;
  }
  const auto services = service_lanes(c.index);
  for (auto s = from + 1; s < to && c.trace.has(s); ++s) {
    const auto& e = c.trace.at(s);
    if (e.lane != lane || e.kind != EventKind::kDeliver || services.count(e.peer)) continue;
    if (shares_a_name(data, e.line.value("payload", nlohmann::json()))) return true;
  }
  return false;
}

Cause repeated(const DetectContext& c, const TraceEvent& crash, std::uint64_t restart,
               const Access& first, std::uint64_t first_sent, const Access& again,
               std::uint64_t again_sent) {
  const auto& t = c.trace;
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = t.lane_name(crash.lane);
  cause.events = {crash.seq, first.served, first_sent, again_sent, again.served};
  cause.facts = {{"how", "repeated_after_crash"},
                 {"crash_event", crash.seq},
                 {"restart_event", restart},
                 {"first_event", first.served},
                 {"retry_event", again_sent}};
  const bool landed_before = first.served < crash.seq;
  cause.summary = fmt::format(
      "{} crashed at #{} ({}) after sending {} at #{}, which took effect at #{} ({}{}), before "
      "anything durable recorded that it was done; the restarted {} (#{}) found it still to do "
      "and sent the same request again at #{}: the crash took the only knowledge of it",
      cause.process, crash.seq, format_time(crash.time), access_named(t, first), first_sent,
      first.served, format_time(t.at(first.served).time),
      landed_before ? "" : ", after the crash: it was in flight", cause.process, restart,
      again_sent);
  return cause;
}

}  // namespace

std::vector<Cause> detect_repeats_after_crash(const DetectContext& c) {
  const auto& t = c.trace;
  std::vector<Cause> out;
  for (const auto& [lane, crashes] : c.index.crashes) {
    for (const auto crash : crashes) {
      if (crash > c.horizon) break;
      const auto restart = restart_after(t, lane, crash, c.horizon);
      if (restart == 0) continue;
      const auto next_crash = std::upper_bound(crashes.begin(), crashes.end(), restart);
      const auto life_ends = next_crash == crashes.end() ? c.horizon + 1 : *next_crash;
      for (const auto& first : c.index.accesses) {
        if (first.client != lane || !first.write || first.served > c.horizon) continue;
        const auto first_sent = request_sent(t, c.index, first);
        // Sent by the life that crashed (no crash between it and this one).
        if (first_sent >= crash || crashed_between(c.index, lane, first_sent, crash)) continue;
        const auto data = asked(t, first_sent);
        if (data.is_null() || t.at(first_sent).kind != EventKind::kSend) continue;
        for (const auto& again : c.index.accesses) {
          if (again.client != lane || again.server != first.server || !again.write) continue;
          const auto again_sent = request_sent(t, c.index, again);
          if (again_sent <= restart || again_sent >= life_ends || again.served > c.horizon) {
            continue;
          }
          if (asked(t, again_sent) != data) continue;
          if (prompted(c, lane, restart, again_sent, data)) break;
          out.push_back(repeated(c, t.at(crash), restart, first, first_sent, again, again_sent));
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace seer::explain
