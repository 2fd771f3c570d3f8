// Work in progress lost in a crash: one of the design's processes took in a request naming the
// violated entity, wrote part of what it asked (a write naming the entity took effect), and crashed
// before answering it. What remained to be done was only in its memory; the restarted process
// never knew the request existed (a multi-step operation with no durable record of its progress).
// Tried only where nothing else was named (explain.cpp).
#include "fallback.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// How far a request is followed to the crash that interrupted it: the bound keeps each
// request's cost independent of the trace's length.
constexpr std::uint64_t kWorkFollowed = 4000;

}  // namespace

std::vector<Cause> detect_work_lost_in_crash(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  if (c.index.crashes.empty()) return out;
  const auto named = violated_names(c);
  if (named.empty()) return out;
  const auto services = service_lanes(c.index);
  // The writes each process made, by where they took effect.
  std::multimap<std::uint64_t, const Access*> writes;
  for (const auto& a : c.index.accesses) {
    if (a.write && !a.application && a.served <= c.horizon) writes.emplace(a.served, &a);
  }
  // The latest request interrupted so, nearest the violation.
  const auto sends = sends_naming(c, named);
  for (auto it = sends.rbegin(); it != sends.rend(); ++it) {
    const auto& send = t.at(*it);
    if (services.count(send.lane) || services.count(send.peer)) continue;
    const auto crashes = c.index.crashes.find(send.peer);
    if (crashes == c.index.crashes.end()) continue;
    const auto delivered = c.index.deliver_of.find(send.message);
    if (delivered == c.index.deliver_of.end() || delivered->second > c.horizon) continue;
    const auto d = delivered->second;
    const auto crash = std::upper_bound(crashes->second.begin(), crashes->second.end(), d);
    if (crash == crashes->second.end() || *crash > c.horizon || *crash - d > kWorkFollowed) {
      continue;
    }
    // Unanswered before the crash: nothing went back to the requester.
    bool answered = false;
    for (auto s = d + 1; s < *crash && !answered; ++s) {
      const auto& e = t.at(s);
      answered = e.lane == send.peer && e.kind == EventKind::kSend && e.peer == send.lane;
    }
    if (answered) continue;
    // Part of it done: a write of the process's naming the entity took effect meanwhile.
    const Access* part = nullptr;
    for (auto w = writes.upper_bound(d); w != writes.end() && w->first < *crash; ++w) {
      if (w->second->client != send.peer) continue;
      if (data_names_any(written_value(t, *w->second), named)) {
        part = w->second;
        break;
      }
    }
    if (!part) continue;
    const auto written = request_sent(t, c.index, *part);
    Cause cause;
    cause.kind = "crash_lost_data";
    cause.process = t.lane_name(send.peer);
    cause.events = {*crash, written, part->served, d, send.seq};
    cause.facts = {{"how", "crashed_mid_request"},
                   {"request_event", d},
                   {"decision_event", part->served},
                   {"crash_event", *crash}};
    cause.summary = fmt::format(
        "{} took in {}'s {} (#{}, {}), wrote part of it ({} took effect at #{}, {}) and crashed "
        "at #{} ({}) before answering: what was left to do was only in its memory, and nothing "
        "after the crash knew the request existed",
        cause.process, t.lane_name(send.lane), send.type, d, format_time(t.at(d).time),
        access_named(t, *part), part->served, format_time(t.at(part->served).time), *crash,
        format_time(t.at(*crash).time));
    out.push_back(std::move(cause));
    break;
  }
  return out;
}

}  // namespace seer::explain
