#include "unanswered.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace seer::explain {

namespace {

// One delivery and what its receiver did about it.
struct Delivery {
  std::uint64_t seq = 0;
  std::uint64_t answer = 0;  // the receiver's send back to the sender (0: none)
};

// Every delivery up to `horizon`, with its answer: the receiver's first send to the sender
// before the sender's next message to it arrived. Requests and their answers are read from the
// message flow alone: the trace does not say which delivery a send reacted to.
std::vector<Delivery> answered_deliveries(const Trace& trace, std::uint64_t horizon) {
  std::vector<Delivery> out;
  std::map<std::pair<int, int>, std::size_t> open;  // (receiver, sender) -> index in `out`
  for (const auto& e : trace.events) {
    if (e.seq > horizon) break;
    if (e.kind == EventKind::kDeliver && e.lane != kSimLane && e.peer != kSimLane) {
      open[{e.lane, e.peer}] = out.size();  // an older open one stays unanswered
      out.push_back({e.seq, 0});
    } else if (e.kind == EventKind::kSend && e.lane != kSimLane) {
      const auto it = open.find({e.lane, e.peer});  // an answer: receiver back to sender
      if (it != open.end()) {
        out[it->second].answer = e.seq;
        open.erase(it);
      }
    }
  }
  return out;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

std::optional<Unanswered> find_unanswered(const Trace& trace, const std::set<int>& waiters,
                                          std::uint64_t after, std::uint64_t horizon) {
  const auto deliveries = answered_deliveries(trace, horizon);
  std::map<std::string, std::uint64_t> answered_type;  // type -> a delivery of it that was answered
  using Key = std::tuple<int, int, std::string>;       // (waiter, peer, type)
  std::map<Key, std::vector<const Delivery*>> after_heal;
  // A waiter asks again: the longest run of unanswered deliveries of one type, one after the other
  // in what the waiter sent the peer. A reply the peer got and did not answer (a response, to which
  // the peer's next request followed) is not a run: the peer spoke between two of them.
  std::map<Key, std::size_t> longest_retry;
  std::map<std::pair<int, int>, std::pair<std::string, std::size_t>> streak;  // per (waiter, peer)
  for (const auto& d : deliveries) {
    const auto& e = trace.at(d.seq);
    if (d.answer) answered_type.emplace(e.type, d.seq);
    if (d.seq <= after || !waiters.count(e.peer)) continue;
    after_heal[{e.peer, e.lane, e.type}].push_back(&d);
    auto& [type, length] = streak[{e.peer, e.lane}];
    length = d.answer ? 0 : (type == e.type ? length + 1 : 1);
    type = e.type;
    auto& longest = longest_retry[{e.peer, e.lane, e.type}];
    longest = std::max(longest, length);
  }
  std::optional<Unanswered> best;
  for (const auto& [key, list] : after_heal) {
    const auto& [waiter, peer, type] = key;
    const bool none_answered =
        std::none_of(list.begin(), list.end(), [](const Delivery* d) { return d->answer != 0; });
    const auto request = answered_type.find(type);
    if (!none_answered || longest_retry[key] < 2 || request == answered_type.end()) continue;
    if (best && best->received.size() >= list.size()) continue;
    Unanswered u;
    u.waiter = waiter;
    u.peer = peer;
    u.type = type;
    for (const auto* d : list) u.received.push_back(d->seq);
    u.answered_elsewhere = request->second;
    best = std::move(u);
  }
  if (!best) return best;
  // What the peer did answer of the waiter's after the heal: it was up and listening.
  for (const auto& [key, list] : after_heal) {
    const auto& [waiter, peer, type] = key;
    if (waiter != best->waiter || peer != best->peer || type == best->type) continue;
    for (const auto* d : list) {
      if (!d->answer) continue;
      best->answered_type = type;
      best->answered_example = d->answer;
      break;
    }
    if (best->answered_example) break;
  }
  return best;
}

std::string unanswered_text(const Trace& trace, const Unanswered& u, const std::string& entity) {
  const auto waiter = trace.lane_name(u.waiter);
  const auto peer = trace.lane_name(u.peer);
  const auto& elsewhere = trace.at(u.answered_elsewhere);
  return fmt::format(
      "{} received {} from {} after the heal (#{} to #{}) and answered none{}; a {} is "
      "answered elsewhere in the run ({} answered {}'s at #{}), so {} waited for answers {}'s "
      "handling of {} never sends, and could only ask again: that is why {} never came about",
      peer, plural(u.received.size(), ("`" + u.type + "`").c_str(), ("`" + u.type + "`s").c_str()),
      waiter, u.received.front(), u.received.back(),
      u.answered_example ? fmt::format(" (it answered {}'s `{}`, #{}: it was up and listening)",
                                       waiter, u.answered_type, u.answered_example)
                         : std::string(),
      u.type, trace.lane_name(elsewhere.lane), trace.lane_name(elsewhere.peer), elsewhere.seq,
      waiter, peer, u.type, entity);
}

Cause unanswered_cause(const Trace& trace, const Unanswered& u, const std::string& entity) {
  Cause c;
  c.kind = "unanswered";
  c.process = trace.lane_name(u.peer);
  c.events.push_back(u.received.back());
  if (u.received.front() != u.received.back()) c.events.push_back(u.received.front());
  const auto& last = trace.at(u.received.back());
  if (last.parents.size() > 1) c.events.push_back(last.parents.back());  // the waiter's send
  c.facts = {{"entity", entity},
             {"waiter", trace.lane_name(u.waiter)},
             {"request", u.type},
             {"received", u.received.size()},
             {"first_received_event", u.received.front()},
             {"last_received_event", u.received.back()},
             {"answered_elsewhere_event", u.answered_elsewhere}};
  if (u.answered_example) {
    c.facts["answered_other"] = {{"request", u.answered_type},
                                 {"answer_event", u.answered_example}};
  }
  c.summary = unanswered_text(trace, u, entity);
  return c;
}

}  // namespace seer::explain
