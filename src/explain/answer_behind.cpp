#include "answer_behind.hpp"

#include "entities.hpp"
#include "silence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// How many answers after the late one are followed: a connection one answer behind stays so
// until the requester gives up again, and the bound keeps each timeout's cost independent of the
// trace's length.
constexpr std::size_t kAnswersFollowed = 16;

// One process's own messages, in order.
struct Flow {
  std::vector<std::uint64_t> sends;
  std::vector<std::uint64_t> deliveries;
  std::vector<std::uint64_t> timeouts;  // its receive timeouts
};

// The requester's send of the request `answer` (a send) answers, by the request number the answer
// carries; 0 if it carries none.
std::uint64_t answered_request(const Trace& t, const TraceIndex& index, std::uint64_t answer) {
  const auto delivered = request_of(t, answer);
  if (!delivered) return 0;
  const auto sent = index.send_of.find(t.at(delivered).message);
  return sent == index.send_of.end() ? 0 : sent->second;
}

// The lane's last event of `list` before `before` whose peer is `peer` (any peer if kSimLane).
std::uint64_t last_before(const Trace& t, const std::vector<std::uint64_t>& list,
                          std::uint64_t before, int peer) {
  for (auto it = std::lower_bound(list.begin(), list.end(), before); it != list.begin();) {
    const auto s = *--it;
    if (peer == kSimLane || t.at(s).peer == peer) return s;
  }
  return 0;
}

// One answer taken for another request's, and what the requester did on it.
struct TakenAnswer {
  std::uint64_t request = 0;       // the request given up on
  std::uint64_t timeout = 0;       // where the requester gave up
  std::uint64_t late = 0;          // the late answer's delivery, while it waited for the next one
  std::uint64_t answer = 0;        // the answer acted on: its send
  std::uint64_t taken = 0;         // and its delivery
  std::uint64_t answers = 0;       // the request it answered (0: it carries no number)
  std::uint64_t awaited = 0;       // the request the requester was waiting for then
  std::uint64_t act = 0;           // the requester's message about the violated entity on it
  std::uint64_t last_timeout = 0;  // its last receive timeout before it took the answer
};

// Whether `act` followed from `delivered` on the same process with nothing else to start it in
// between (no timer, delivery, crash or restart): the delivery is what it acted on.
bool follows_directly(const Trace& t, std::uint64_t delivered, std::uint64_t act) {
  for (auto s = act; s > delivered && act - s < 64;) {
    const auto& e = t.at(s);
    if (s != act && (e.kind == EventKind::kTimer || e.kind == EventKind::kDeliver ||
                     e.kind == EventKind::kCrash || e.kind == EventKind::kRestart)) {
      return false;
    }
    if (e.parents.empty()) return false;
    s = e.parents.front();
    if (s == delivered) return true;
  }
  return false;
}

// What the requester did with an answer from the server delivered at `delivered`: the request it
// took the answer for (its next request to the server if it sent one before the server's next
// answer came: a queued answer is taken by the next wait, else its last before the delivery), and
// its first message after the delivery, before the server's next answer, to one of the design's
// own processes other than the server, that names a violated entity and followed directly from
// the delivery or from that request (0 if none).
struct Consumed {
  std::uint64_t awaited = 0;
  std::uint64_t act = 0;
};

Consumed consumed(const Trace& t, const Flow& flow, std::uint64_t delivered, int server,
                  const std::set<int>& services, const std::set<std::string>& named,
                  std::uint64_t horizon) {
  Consumed out;
  out.awaited = last_before(t, flow.sends, delivered, server);
  auto next = std::upper_bound(flow.deliveries.begin(), flow.deliveries.end(), delivered);
  while (next != flow.deliveries.end() && t.at(*next).peer != server) ++next;
  const auto until = next == flow.deliveries.end() ? horizon + 1 : *next;
  std::uint64_t request = 0;
  for (auto it = std::upper_bound(flow.sends.begin(), flow.sends.end(), delivered);
       it != flow.sends.end() && *it < until && *it <= horizon; ++it) {
    const auto& e = t.at(*it);
    if (e.peer == server) {
      if (!request) out.awaited = request = *it;
      continue;
    }
    if (e.peer == kSimLane || services.count(e.peer)) continue;
    if (!data_names_any(e.line.value("payload", nlohmann::json()), named)) continue;
    if (follows_directly(t, delivered, *it) || (request && follows_directly(t, request, *it))) {
      out.act = *it;
    }
    break;
  }
  return out;
}

// Follows the requester's answers from `server` from the late one on, while they answered earlier
// requests than the ones it took them for: the last it acted on with the violated entity (the
// nearest the violation), and the requester's last receive timeout before taking it (a later
// give-up that put it further behind).
bool follow_answers(const DetectContext& c, const Flow& flow, int server,
                    const std::set<int>& services, const std::set<std::string>& named,
                    TakenAnswer& x) {
  const auto& t = c.trace;
  std::size_t followed = 0;
  for (auto it = std::lower_bound(flow.deliveries.begin(), flow.deliveries.end(), x.late);
       it != flow.deliveries.end() && *it <= c.horizon && followed < kAnswersFollowed; ++it) {
    const auto& d = t.at(*it);
    if (d.peer != server) continue;
    ++followed;
    const auto sent = c.index.send_of.find(d.message);
    if (sent == c.index.send_of.end()) break;
    const auto answers = answered_request(t, c.index, sent->second);
    const auto taken = consumed(t, flow, *it, server, services, named, c.horizon);
    // Taken for a request made after the give-up, and (after the late answer itself) for another
    // request than its own: without a request number nothing tells a later answer's request, and
    // an answer to the request it was taken for means the requester caught up.
    if (taken.awaited <= x.timeout) continue;
    if (*it != x.late && (!answers || answers == taken.awaited)) break;
    if (taken.act) {
      x.answer = sent->second;
      x.taken = *it;
      x.answers = answers;
      x.awaited = taken.awaited;
      x.act = taken.act;
    }
  }
  if (!x.act) return false;
  x.last_timeout = last_before(t, flow.timeouts, x.taken, kSimLane);
  return true;
}

Cause taken_answer_cause(const Trace& t, const TakenAnswer& x) {
  Cause cause;
  cause.kind = "lost_response";
  const auto& request = t.at(x.request);
  cause.process = t.lane_name(request.lane);
  const auto server = t.lane_name(request.peer);
  cause.events = {x.act, x.taken, x.answer, x.timeout};
  if (x.late != x.taken) cause.events.push_back(x.late);
  cause.facts = {{"how", "answer_taken_for_next"},     {"request_event", x.request},
                 {"timeout_event", x.timeout},         {"late_answer_event", x.late},
                 {"answer_event", x.answer},           {"taken_event", x.taken},
                 {"awaited_request_event", x.awaited}, {"decision_event", x.act}};
  // A later give-up that put the requester further behind.
  if (x.last_timeout != x.timeout) {
    cause.events.push_back(x.last_timeout);
    cause.facts["last_timeout_event"] = x.last_timeout;
  }
  const auto& act = t.at(x.act);
  cause.summary = fmt::format(
      "{} gave up on its request to {} (#{}) at its receive timeout at #{}; the answer came late "
      "(#{}) and was taken for its next request's. {}'s answer sent at #{}{} reached it at #{} "
      "and was taken for its request #{}, and it acted on it: {} to {} at #{} ({})",
      cause.process, server, x.request, x.timeout, x.late, server, x.answer,
      x.answers ? fmt::format(" (to its request #{})", x.answers) : std::string(), x.taken,
      x.awaited, act.type, t.lane_name(act.peer), x.act, format_time(act.time));
  return cause;
}

}  // namespace

std::vector<Cause> detect_answers_taken_for_next(const DetectContext& c) {
  const auto& t = c.trace;
  std::map<int, Flow> flows;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.lane == kSimLane) continue;
    if (e.kind == EventKind::kSend && e.peer != kSimLane) flows[e.lane].sends.push_back(e.seq);
    if (e.kind == EventKind::kDeliver) flows[e.lane].deliveries.push_back(e.seq);
    if (is_receive_timeout(e)) flows[e.lane].timeouts.push_back(e.seq);
  }
  std::vector<Cause> out;
  const auto services = service_lanes(c.index);
  const auto named = violated_names(c);
  if (named.empty()) return out;
  std::set<std::uint64_t> told;  // acts already explained: the latest timeout behind each
  for (const auto& [lane, flow] : flows) {
    if (services.count(lane) || flow.timeouts.empty()) continue;
    for (auto it = flow.timeouts.rbegin(); it != flow.timeouts.rend(); ++it) {
      TakenAnswer x;
      x.timeout = *it;
      // The request given up on: the last one sent before the timeout, unanswered until then.
      x.request = last_before(t, flow.sends, x.timeout, kSimLane);
      if (!x.request) continue;
      const int server = t.at(x.request).peer;
      if (services.count(server)) continue;
      if (last_before(t, flow.deliveries, x.timeout, server) > x.request) continue;
      // Its answer after all: the first from the server after the timeout.
      const auto late = std::find_if(
          std::upper_bound(flow.deliveries.begin(), flow.deliveries.end(), x.timeout),
          flow.deliveries.end(), [&](std::uint64_t s) { return t.at(s).peer == server; });
      if (late == flow.deliveries.end() || *late > c.horizon) continue;
      x.late = *late;
      const auto late_sent = c.index.send_of.find(t.at(x.late).message);
      if (late_sent == c.index.send_of.end()) continue;
      // It answers the request given up on: by its number, else by causality (the server had
      // received that request when it answered) and a name both carry (what was asked: an
      // answer about something else, or a message that names nothing, answers another request).
      if (const auto answers = answered_request(t, c.index, late_sent->second)) {
        if (answers != x.request) continue;
      } else {
        const auto asked = c.index.deliver_of.find(t.at(x.request).message);
        if (asked == c.index.deliver_of.end() ||
            !c.graph.happens_before(asked->second, late_sent->second) ||
            !shares_a_name(seer::explain::asked(t, x.request),
                           seer::explain::asked(t, late_sent->second))) {
          continue;
        }
      }
      if (!follow_answers(c, flow, server, services, named, x) || told.count(x.act)) continue;
      told.insert(x.act);
      out.push_back(taken_answer_cause(t, x));
    }
  }
  return out;
}

}  // namespace seer::explain
