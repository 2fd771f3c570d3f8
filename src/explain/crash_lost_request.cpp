#include "crash_lost_request.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// How far the forwarder's story is followed from its request: its timeout and acknowledgement
// come within a few of its own steps, and the bound keeps each candidate's cost independent of
// the trace's length.
constexpr std::uint64_t kStoryFollowed = 2000;

// One request the server's crash lost, and what its requester did without the answer.
struct LostRequest {
  std::uint64_t request = 0;    // the requester's send
  std::uint64_t delivered = 0;  // the server's delivery (0: dropped on arrival)
  std::uint64_t dropped = 0;    // its drop while the server was down
  std::uint64_t crash = 0;      // the server's crash that lost it
  std::uint64_t rollback = 0;   // the restarted server's note of the transaction it dropped
  std::uint64_t origin = 0;     // the delivery that brought the entity to the requester
  std::uint64_t timeout = 0;    // where the requester gave up waiting
  std::uint64_t ack = 0;        // its answer to the origin's sender after that
};

// The server's crash that lost the request: for a request dropped on arrival because the server
// was down, the server's last crash before the drop; for one it received, its first crash after,
// when it had sent the requester nothing since (no answer).
bool lost_in_crash(const DetectContext& c, const TraceEvent& send, LostRequest& l) {
  const auto& t = c.trace;
  const auto crashes = c.index.crashes.find(send.peer);
  if (crashes == c.index.crashes.end()) return false;
  const auto& list = crashes->second;
  if (const auto drop = c.index.drop_of.find(send.message);
      drop != c.index.drop_of.end() && drop->second <= c.horizon) {
    if (drop_how(t.at(drop->second)) != "receiver_down") return false;
    const auto before = std::lower_bound(list.begin(), list.end(), drop->second);
    if (before == list.begin()) return false;
    l.dropped = drop->second;
    l.crash = *std::prev(before);
    return true;
  }
  const auto delivered = c.index.deliver_of.find(send.message);
  if (delivered == c.index.deliver_of.end() || delivered->second > c.horizon) {
    // Neither received nor dropped where the trace shows it (a log shows no drops): lost if the
    // server crashed after it was sent, or was down (crashed, not restarted) when it was sent.
    const auto after = std::upper_bound(list.begin(), list.end(), send.seq);
    if (after != list.end() && *after <= c.horizon) {
      l.crash = *after;
      return true;
    }
    if (after == list.begin() || send.seq - *std::prev(after) > kStoryFollowed) return false;
    for (auto s = *std::prev(after) + 1; s < send.seq; ++s) {
      if (t.at(s).lane == send.peer && t.at(s).kind == EventKind::kRestart) return false;
    }
    l.crash = *std::prev(after);
    return true;
  }
  const auto after = std::upper_bound(list.begin(), list.end(), delivered->second);
  if (after == list.end() || *after > c.horizon || *after - delivered->second > kStoryFollowed) {
    return false;
  }
  for (auto s = delivered->second + 1; s < *after; ++s) {
    const auto& e = t.at(s);
    if (e.lane == send.peer && e.kind == EventKind::kSend && e.peer == send.lane) return false;
  }
  l.delivered = delivered->second;
  l.crash = *after;
  // A service that notes the transaction it rolled back on restart: that note is this loss.
  for (auto s = l.crash + 1; s <= c.horizon && s - l.crash < kStoryFollowed; ++s) {
    const auto& e = t.at(s);
    if (e.lane != send.peer) continue;
    if (e.kind == EventKind::kCrash) break;
    if (e.kind == EventKind::kAnnotation && request_of(t, s) == l.delivered) {
      l.rollback = s;
      break;
    }
  }
  return true;
}

// The requester's story around the loss: the delivery that brought it the entity before it asked
// (from another process), its receive timeout before any message back from the server, and its
// first message after that to the process the entity came from. False if any is missing or the
// requester crashed meanwhile.
bool acknowledged_anyway(const DetectContext& c, const TraceEvent& send,
                         const std::set<std::string>& named, const std::set<int>& services,
                         LostRequest& l) {
  const auto& t = c.trace;
  for (auto s = send.seq; s-- > 1 && send.seq - s < kStoryFollowed;) {
    const auto& e = t.at(s);
    if (e.lane != send.lane) continue;
    if (e.kind == EventKind::kStart || e.kind == EventKind::kRestart) break;
    // A work item from a service (a queue) is acknowledged by the service's own protocol: only a
    // message from one of the design's processes asks for an answer of the design's own.
    if (e.kind == EventKind::kDeliver && e.peer != send.peer && !services.count(e.peer) &&
        data_names_any(e.line.value("payload", nlohmann::json()), named)) {
      l.origin = s;
      break;
    }
  }
  if (!l.origin) return false;
  const int asker = t.at(l.origin).peer;
  // An acknowledgement naming the entity already sent to the asker before the request (it
  // acknowledged first and passed the data on after: asynchronous replication) is where the
  // requester acted, whatever it sent after giving up.
  for (auto s = l.origin + 1; s < send.seq; ++s) {
    const auto& e = t.at(s);
    if (e.lane == send.lane && e.kind == EventKind::kSend && e.peer == asker &&
        data_names_any(e.line.value("payload", nlohmann::json()), named)) {
      l.ack = s;
      break;
    }
  }
  for (auto s = send.seq + 1; s <= c.horizon && s - send.seq < kStoryFollowed; ++s) {
    const auto& e = t.at(s);
    if (e.lane != send.lane) continue;
    if (e.kind == EventKind::kCrash) return false;
    if (!l.timeout) {
      if (e.kind == EventKind::kDeliver && e.peer == send.peer) return false;  // answered
      if (is_receive_timeout(e)) l.timeout = s;
      if (l.timeout && l.ack) return true;  // acknowledged before it asked
      continue;
    }
    if (e.kind == EventKind::kSend && e.peer == asker) {
      l.ack = s;
      return true;
    }
  }
  return false;
}

Cause lost_request_cause(const Trace& t, const LostRequest& l) {
  const auto& request = t.at(l.request);
  const auto& ack = t.at(l.ack);
  const auto requester = t.lane_name(request.lane);
  const auto server = t.lane_name(request.peer);
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = server;
  cause.events = {l.request, l.crash};
  if (l.dropped) cause.events.push_back(l.dropped);
  if (l.delivered) cause.events.push_back(l.delivered);
  if (l.rollback) cause.events.push_back(l.rollback);
  cause.events.insert(cause.events.end(), {l.timeout, l.ack, l.origin});
  cause.facts = {
      {"how", l.dropped || l.crash < l.request ? "dropped_while_down" : "request_lost_in_crash"},
      {"request_event", l.request},
      {"crash_event", l.crash},
      {"timeout_event", l.timeout},
      {"acknowledgement_event", l.ack}};
  if (l.dropped) cause.facts["drop_event"] = l.dropped;
  if (l.rollback) cause.facts["rollback_event"] = l.rollback;
  const auto lost =
      !l.dropped && !l.delivered ? fmt::format("{} never received it", server)
      : l.dropped
          ? fmt::format("it arrived while {} was down and was dropped at #{}", server, l.dropped)
          : fmt::format("{} had received it at #{} and not answered it", server, l.delivered);
  const auto acknowledged =
      l.ack < l.request
          ? fmt::format(
                "had already sent {} to {} at #{} ({}), which had asked it at #{}, before "
                "passing it on; it gave up waiting at #{} ({})",
                ack.type, t.lane_name(ack.peer), l.ack, format_time(ack.time), l.origin, l.timeout,
                format_time(t.at(l.timeout).time))
          : fmt::format(
                "gave up waiting at #{} ({}) and then sent {} to {} at #{} ({}), which had "
                "asked it at #{}",
                l.timeout, format_time(t.at(l.timeout).time), ack.type, t.lane_name(ack.peer),
                l.ack, format_time(ack.time), l.origin);
  cause.summary = fmt::format(
      "{} crashed at #{} ({}) with {}'s {} (sent at #{}, {}) lost: {}; {} {}: the lost request was "
      "acknowledged as if it had taken effect",
      server, l.crash, format_time(t.at(l.crash).time), requester, request.type, l.request,
      format_time(request.time), lost, requester, acknowledged);
  return cause;
}

}  // namespace

std::vector<Cause> detect_requests_lost_in_crash(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  if (c.index.crashes.empty()) return out;
  const auto named = violated_names(c);
  if (named.empty()) return out;
  const auto services = service_lanes(c.index);
  for (const auto s : sends_naming(c, named)) {
    const auto& e = t.at(s);
    if (!c.index.crashes.count(e.peer)) continue;
    LostRequest l;
    l.request = e.seq;
    if (!lost_in_crash(c, e, l) || !acknowledged_anyway(c, e, named, services, l)) continue;
    // A crash after an acknowledgement sent on giving up did not make it wrong; one sent before
    // the request was premature whenever the request was lost.
    if (l.crash > l.ack && l.ack > l.request) continue;
    out.push_back(lost_request_cause(t, l));
  }
  return out;
}

}  // namespace seer::explain
