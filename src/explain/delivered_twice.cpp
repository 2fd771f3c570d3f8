// One send delivered twice to the same process, each delivery acted on (duplicate_delivery, `how:
// delivered_twice`), from the log alone: the network's copy of a message keeps the message's id,
// so a receiver's log shows the one message taken in twice. The oracle marks the copy itself
// (detect_duplicates names it); a log does not, but it shows the two deliveries of one send and
// what the receiver did after each.
#include "causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace seer::explain {

namespace {

// What a message held, less its request number (a number, not data).
nlohmann::json held_by(const TraceEvent& e) {
  auto payload = e.line.value("payload", nlohmann::json());
  if (payload.is_object()) payload.erase("req");
  return payload;
}

// Whether the payload holds a string: only a name (an id, a label) says that a write carries the
// message, not a number that any write may hold.
bool holds_a_name(const nlohmann::json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>().size() >= 2;
  if (j.is_array() || j.is_object()) {
    return std::any_of(j.begin(), j.end(), [](const nlohmann::json& v) { return holds_a_name(v); });
  }
  return false;
}

constexpr std::size_t kWritesLooked = 64;   // of the receiver's writes after a delivery
constexpr std::size_t kPeersCompared = 16;  // messages of the same kind delivered once

}  // namespace

std::vector<Cause> detect_delivered_twice(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  // Every delivery by receiver and message, in trace order.
  std::map<std::pair<int, std::uint64_t>, std::vector<std::uint64_t>> deliveries;
  bool twice = false;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kDeliver || e.lane == kSimLane) continue;
    auto& list = deliveries[{e.lane, e.message}];
    list.push_back(e.seq);
    twice = twice || list.size() == 2;
  }
  if (!twice) return out;
  const auto services = service_lanes(c.index);
  // The receiver's writes that took effect, with the sends of their requests, in trace order.
  std::map<int, std::vector<std::pair<std::uint64_t, const Access*>>> writes;
  for (const auto& a : c.index.accesses) {
    if (!a.write || a.served > c.horizon || a.client == kSimLane) continue;
    writes[a.client].emplace_back(request_sent(t, c.index, a), &a);
  }
  for (auto& [lane, list] : writes) std::sort(list.begin(), list.end());
  // The receiver's writes sent after `after` that carry `held`, at most kWritesLooked looked at.
  const auto carrying = [&](int lane, std::uint64_t after, const nlohmann::json& held) {
    std::vector<const Access*> found;
    const auto w = writes.find(lane);
    if (w == writes.end()) return found;
    auto it = std::upper_bound(w->second.begin(), w->second.end(),
                               std::pair<std::uint64_t, const Access*>{after, nullptr});
    for (std::size_t n = 0; it != w->second.end() && n < kWritesLooked; ++it, ++n) {
      if (flows_into(held, written_value(t, *it->second))) found.push_back(it->second);
    }
    return found;
  };
  for (const auto& [where, seqs] : deliveries) {
    if (seqs.size() < 2) continue;
    const auto& [lane, message] = where;
    const auto& first = t.at(seqs[0]);
    const auto& again = t.at(seqs[1]);
    // The oracle's mark names the copy itself (detect_duplicates).
    if (std::any_of(seqs.begin(), seqs.end(), [&](std::uint64_t s) {
          const auto& o = t.at(s).oracle();
          return o.is_object() && o.value("duplicate", false);
        })) {
      continue;
    }
    // A service applies a copied request once, and a client drops a copied reply.
    if (services.count(lane) || services.count(first.peer)) continue;
    const auto held = held_by(first);
    if (!holds_a_name(held)) continue;
    const auto acts = carrying(lane, first.seq, held);
    if (acts.size() < 2) continue;
    // What one delivery of this kind of message led to: the most writes carrying it that the
    // receiver made after any message of the same type from the same sender delivered once.
    std::size_t once = 1;
    std::size_t compared = 0;
    for (auto other = deliveries.rbegin(); other != deliveries.rend() && compared < kPeersCompared;
         ++other) {
      if (other->first.first != lane || other->second.size() != 1) continue;
      const auto& d = t.at(other->second.front());
      if (d.seq > first.seq || d.peer != first.peer || d.type != first.type) continue;
      ++compared;
      const auto h = held_by(d);
      if (holds_a_name(h)) once = std::max(once, carrying(lane, d.seq, h).size());
    }
    if (acts.size() <= once) continue;
    const auto* act = acts[once];
    if (request_sent(t, c.index, *act) < again.seq) continue;  // acted on before the copy came
    Cause cause;
    cause.kind = "duplicate_delivery";
    cause.process = t.lane_name(lane);
    cause.events = {again.seq, first.seq, act->served};
    const auto send = c.index.send_of.find(message);
    cause.facts = {{"how", "delivered_twice"},          {"message", message},
                   {"first_delivery_event", first.seq}, {"delivery_event", again.seq},
                   {"act_event", act->served},          {"acts", acts.size()},
                   {"acts_for_one_delivery", once}};
    if (send != c.index.send_of.end()) cause.facts["send_event"] = send->second;
    cause.summary = fmt::format(
        "{} took in message {} ({} from {}, one send) twice, at #{} ({}) and #{} ({}), and acted "
        "on it {} times ({} at #{}, {}), where one delivery of such a message led to {}: the "
        "network's copy was handled as a message of its own",
        cause.process, message, first.type, t.lane_name(first.peer), first.seq,
        format_time(first.time), again.seq, format_time(again.time), acts.size(),
        access_named(t, *act), act->served, format_time(t.at(act->served).time), once);
    out.push_back(std::move(cause));
  }
  return out;
}

}  // namespace seer::explain
