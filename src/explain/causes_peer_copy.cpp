// A decision on a peer's state received by message, after the peer had changed it (outdated_read,
// `how: peer_copy`). Two nodes each grant spends of a tenant's quota and send each other their
// counts (`{"used": {"t2": 11}}`, unasked); a node answers a request about t2 counting the other's
// last copy, while the other had since answered the same kind of request about t2 itself, out of
// the copy's reach (not in the decision's causal past). Only a copy that names the object as a key
// of a map (a table of state, keyed by id) and arrived unasked (no request number: gossip, a push)
// counts, and only a peer's act of the decision's own kind (the same message type, about the same
// object): a copy that names everything would otherwise make every decision about anything suspect.
#include "causes.hpp"
#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace seer::explain {

namespace {

bool unasked(const TraceEvent& e) {
  const auto payload = e.line.find("payload");
  return payload != e.line.end() && payload->is_object() && !payload->contains("req");
}

// The ids a payload holds as keys of a map ({"used": {"t2": 11}} holds t2).
void map_keys(const nlohmann::json& j, std::set<std::string>& out, int depth = 0) {
  if (depth > 16 || !(j.is_object() || j.is_array())) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (j.is_object() && key_is_data(it.key())) out.insert(it.key());
    map_keys(*it, out, depth + 1);
  }
}

// The ids a payload holds as string values ({"tenant": "t2"}).
void id_values(const nlohmann::json& j, std::set<std::string>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_string()) {
    if (key_is_data(j.get_ref<const std::string&>())) out.insert(j.get<std::string>());
  } else if (j.is_object() || j.is_array()) {
    for (const auto& v : j) id_values(v, out, depth + 1);
  }
}

std::set<std::string> ids_of(const TraceEvent& e) {
  std::set<std::string> out;
  id_values(e.line.value("payload", nlohmann::json()), out);
  return out;
}

}  // namespace

std::vector<Cause> detect_outdated_peer_copies(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  // lane -> peer -> its latest unasked delivery from that peer naming ids as map keys
  std::map<int, std::map<int, std::uint64_t>> copies;
  // (lane, type) -> its sends of that type, in order
  std::map<std::pair<int, std::string>, std::vector<std::uint64_t>> answers;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.lane == kSimLane || services.count(e.lane)) continue;
    if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart) copies[e.lane].clear();
    if (e.kind == EventKind::kDeliver && e.peer != kSimLane && e.peer != e.lane && unasked(e)) {
      std::set<std::string> keys;
      map_keys(e.line.value("payload", nlohmann::json()), keys);
      if (!keys.empty()) copies[e.lane][e.peer] = e.seq;
      continue;
    }
    if (e.kind != EventKind::kSend || e.peer == kSimLane || services.count(e.peer)) continue;
    answers[{e.lane, e.type}].push_back(e.seq);  // answers or not: request_of only when it matters
    // A decision: an answer about an id that a peer's copy held as a map key.
    const auto found = copies.find(e.lane);
    if (found == copies.end() || found->second.empty() || request_of(t, e.seq) == 0) continue;
    const auto decided = ids_of(e);
    for (const auto& [peer, copy] : found->second) {
      if (peer == e.peer) continue;
      const auto& d = t.at(copy);
      if (d.parents.size() < 2) continue;
      const auto copy_sent = d.parents.back();
      std::set<std::string> held;
      map_keys(d.line.value("payload", nlohmann::json()), held);
      const auto peer_answers = answers.find({peer, e.type});
      if (peer_answers == answers.end()) continue;
      const auto& list = peer_answers->second;
      // The peer's first answer of the same kind about the same id after it sent the copy,
      // unknown to the decision.
      for (auto it = std::upper_bound(list.begin(), list.end(), copy_sent); it != list.end();
           ++it) {
        if (*it >= e.seq || c.graph.happens_before(*it, e.seq)) continue;
        if (request_of(t, *it) == 0) continue;
        const auto acted = ids_of(t.at(*it));
        std::string id;
        for (const auto& x : decided) {
          if (held.count(x) && acted.count(x)) id = x;
        }
        if (id.empty()) continue;
        Cause cause;
        cause.kind = "outdated_read";
        cause.process = t.lane_name(e.lane);
        cause.events = {copy, copy_sent, *it, e.seq};
        cause.facts = {{"how", "peer_copy"},
                       {"read_event", copy},
                       {"overtaking_event", *it},
                       {"decision_event", e.seq},
                       {"entity", id}};
        cause.summary = fmt::format(
            "{} answered {} about {} at #{} ({}) on {}'s copy of its state ({} delivered #{}, sent "
            "#{}), but {} had since answered {} about {} itself at #{} ({}), which the copy did "
            "not hold and {} had not seen (not in its causal past): a decision on an outdated copy",
            cause.process, e.type, id, e.seq, format_time(e.time), t.lane_name(peer), d.type, copy,
            copy_sent, t.lane_name(peer), t.at(*it).type, id, *it, format_time(t.at(*it).time),
            cause.process);
        out.push_back(std::move(cause));
        break;
      }
    }
  }
  return out;
}

}  // namespace seer::explain
