#include "unshipped_ack.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// How far a node's story is followed from its acknowledgement (back to the request, on to the
// crash and past it): the bound keeps each acknowledgement's cost independent of the trace's
// length.
constexpr std::uint64_t kAckStoryFollowed = 4000;

struct UnshippedAck {
  std::uint64_t request = 0;  // the node's delivery of the request
  std::uint64_t stored = 0;   // its storage write of the entity
  std::uint64_t ack = 0;      // its answer to the requester
  std::uint64_t crash = 0;    // its first crash after the answer
};

// The request the acknowledgement `ack` answers: the node's latest delivery from the same
// process naming the entity, with a storage write naming it in between. False if none.
bool stored_on_request(const Trace& t, const TraceEvent& ack, const std::set<std::string>& named,
                       UnshippedAck& u) {
  for (auto s = ack.seq; s-- > 1 && ack.seq - s < kAckStoryFollowed;) {
    const auto& e = t.at(s);
    if (e.lane != ack.lane) continue;
    if (e.kind == EventKind::kStart || e.kind == EventKind::kRestart) return false;
    if (e.kind == EventKind::kStorageWrite && !u.stored && event_names_any(e, named)) u.stored = s;
    if (e.kind == EventKind::kDeliver && e.peer == ack.peer && event_names_any(e, named)) {
      u.request = s;
      return u.stored != 0;
    }
  }
  return false;
}

// Whether the node sent the entity to any process but the requester after the acknowledgement,
// before the horizon (within the bound): then a copy left it.
bool shipped(const DetectContext& c, const TraceEvent& ack, const std::set<std::string>& named) {
  const auto& t = c.trace;
  for (auto s = ack.seq + 1; s <= c.horizon && s - ack.seq < kAckStoryFollowed; ++s) {
    const auto& e = t.at(s);
    if (e.lane == ack.lane && e.kind == EventKind::kSend && e.peer != ack.peer &&
        event_names_any(e, named)) {
      return true;
    }
  }
  return false;
}

Cause unshipped_cause(const Trace& t, const UnshippedAck& u) {
  const auto& ack = t.at(u.ack);
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = t.lane_name(ack.lane);
  cause.events = {u.crash, u.ack, u.stored, u.request};
  cause.facts = {{"how", "acknowledged_then_crashed"},
                 {"request_event", u.request},
                 {"stored_event", u.stored},
                 {"acknowledgement_event", u.ack},
                 {"crash_event", u.crash}};
  cause.summary = fmt::format(
      "{} stored {}'s request (#{}) on its own storage at #{} and acknowledged it at #{} ({}), "
      "then crashed at #{} ({}) before passing it on to any other process, and never did after: "
      "the acknowledged data's only copy was on a crashed node",
      cause.process, t.lane_name(ack.peer), u.request, u.stored, u.ack, format_time(ack.time),
      u.crash, format_time(t.at(u.crash).time));
  return cause;
}

}  // namespace

std::vector<Cause> detect_unshipped_acknowledgements(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  if (c.index.crashes.empty()) return out;
  const auto named = violated_names(c);
  if (named.empty()) return out;
  const auto services = service_lanes(c.index);
  for (const auto s : sends_naming(c, named)) {
    const auto& e = t.at(s);
    if (services.count(e.lane) || services.count(e.peer)) continue;
    const auto crashes = c.index.crashes.find(e.lane);
    if (crashes == c.index.crashes.end()) continue;
    const auto crash = std::upper_bound(crashes->second.begin(), crashes->second.end(), e.seq);
    if (crash == crashes->second.end() || *crash > c.horizon) continue;
    UnshippedAck u;
    u.ack = e.seq;
    u.crash = *crash;
    if (!stored_on_request(t, e, named, u) || shipped(c, e, named)) continue;
    out.push_back(unshipped_cause(t, u));
  }
  return out;
}

}  // namespace seer::explain
