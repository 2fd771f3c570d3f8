#include "id_reuse.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <utility>

namespace seer::explain {

namespace {

// A payload's scalar leaves by path ("/seq" -> 1), leaving out request numbers: bookkeeping the
// transport sets, not the design.
void leaves(const nlohmann::json& j, const std::string& path,
            std::map<std::string, nlohmann::json>& out, int depth = 0) {
  if (depth > 8) return;
  const auto below = [&](const std::string& step) {
    std::string next = path;
    next += '/';
    next += step;
    return next;
  };
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k != "req") leaves(v, below(k), out, depth + 1);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      leaves(j[i], below(std::to_string(i)), out, depth + 1);
    }
  } else if (j.is_number_integer() || j.is_string()) {
    out.emplace(path, j);
  }
}

struct Sent {
  std::uint64_t seq;
  int life;
  nlohmann::json payload;
  std::map<std::string, nlohmann::json> fields;
};

// The paths that identify a request within one life: present in at least two different
// payloads of that life, with a different value in each (a retransmission repeats the whole
// payload, so identical payloads count once).
std::set<std::string> id_paths(const std::vector<const Sent*>& life) {
  std::map<std::string, std::map<nlohmann::json, nlohmann::json>> seen;  // path -> value -> payload
  std::set<std::string> shared;
  std::map<std::string, int> distinct;
  for (const auto* s : life) {
    for (const auto& [path, value] : s->fields) {
      auto& values = seen[path];
      const auto it = values.find(value);
      if (it == values.end()) {
        values.emplace(value, s->payload);
        ++distinct[path];
      } else if (it->second != s->payload) {
        shared.insert(path);  // two different requests carried it: not an identifier
      }
    }
  }
  std::set<std::string> out;
  for (const auto& [path, n] : distinct) {
    if (n >= 2 && !shared.count(path)) out.insert(path);
  }
  return out;
}

// The receiver's answer to the delivery of `send`: its next send back to the sender.
std::pair<std::uint64_t, std::uint64_t> delivery_and_answer(const Trace& t, const TraceIndex& index,
                                                            const TraceEvent& send,
                                                            std::uint64_t horizon) {
  const auto d = index.deliver_of.find(send.message);
  if (d == index.deliver_of.end() || d->second > horizon) return {0, 0};
  for (auto s = d->second + 1; s <= horizon && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != send.peer) continue;
    if (e.kind == EventKind::kSend && e.peer == send.lane) return {d->second, s};
    if (e.kind == EventKind::kCrash) break;
  }
  return {d->second, 0};
}

}  // namespace

std::vector<Cause> detect_ids_reused_after_crash(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  // Each process's sends to each of the design's processes, by life.
  std::map<std::pair<int, int>, std::vector<Sent>> sends;
  std::map<int, int> life;
  // Each process's latest request number taken in from each peer: a send back carrying it is an
  // answer, numbered by its requester, and its other values are the answer's data, not numbers
  // its sender handed out (a balance that came out the same in both lives).
  std::map<std::pair<int, int>, nlohmann::json> asked_by;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind == EventKind::kRestart) ++life[e.lane];
    if (e.kind == EventKind::kDeliver && e.peer != kSimLane) {
      const auto payload = e.line.find("payload");
      if (payload != e.line.end() && payload->is_object()) {
        if (const auto req = payload->find("req"); req != payload->end()) {
          asked_by[{e.lane, e.peer}] = *req;
        }
      }
      continue;
    }
    if (e.kind != EventKind::kSend || e.peer == kSimLane) continue;
    if (services.count(e.peer) || services.count(e.lane)) continue;  // the design's own only
    Sent s{e.seq, life[e.lane], e.line.value("payload", nlohmann::json()), {}};
    if (!s.payload.is_object()) continue;
    if (const auto req = s.payload.find("req"); req != s.payload.end()) {
      const auto asked = asked_by.find({e.lane, e.peer});
      if (asked != asked_by.end() && asked->second == *req) continue;  // an answer
    }
    leaves(s.payload, "", s.fields);
    sends[{e.lane, e.peer}].push_back(std::move(s));
  }
  for (const auto& [pair, all] : sends) {
    const auto lives = life[pair.first];
    for (int old = 0; old < lives; ++old) {
      std::vector<const Sent*> before;
      for (const auto& s : all) {
        if (s.life == old) before.push_back(&s);
      }
      const auto ids = id_paths(before);
      if (ids.empty()) continue;
      // The first request of a later life that carries an identifier of this one with other
      // content: the receiver may take it for the old request.
      for (const auto& s : all) {
        if (s.life <= old) continue;
        const Sent* reused = nullptr;
        std::string path;
        for (const auto* b : before) {
          // The same identifier, and another identifier naming another object (a string: "s-3",
          // not an amount): another request under an old number. The same object again is the
          // same request sent again (a repeat).
          std::string same;
          bool other = false;
          for (const auto& id : ids) {
            const auto mine = s.fields.find(id);
            const auto theirs = b->fields.find(id);
            if (mine == s.fields.end() || theirs == b->fields.end()) continue;
            if (mine->second == theirs->second) {
              if (same.empty()) same = id;
            } else if (mine->second.is_string()) {
              other = true;
            }
          }
          if (!same.empty() && other) {
            reused = b;
            path = same;
            break;
          }
        }
        if (!reused) continue;
        const auto& send = t.at(s.seq);
        const auto old_delivery =
            delivery_and_answer(t, c.index, t.at(reused->seq), c.horizon).first;
        const auto [delivery, answer] = delivery_and_answer(t, c.index, send, c.horizon);
        if (!old_delivery || !delivery) continue;  // the receiver never saw both
        std::uint64_t crash = 0;                   // the last crash between the two lives' requests
        if (const auto lane = c.index.crashes.find(pair.first); lane != c.index.crashes.end()) {
          for (const auto k : lane->second) {
            if (k > reused->seq && k < s.seq) crash = k;
          }
        }
        Cause cause;
        cause.kind = "crash_lost_data";
        cause.process = t.lane_name(pair.first);
        cause.events = {s.seq, old_delivery};
        if (crash) cause.events.push_back(crash);
        cause.events.push_back(delivery);
        if (answer) cause.events.push_back(answer);
        cause.facts = {{"how", "id_reused_after_crash"},
                       {"field", path.substr(1)},
                       {"value", s.fields.at(path)},
                       {"request_event", s.seq},
                       {"earlier_request_event", reused->seq},
                       {"earlier_delivery_event", old_delivery},
                       {"decision_event", s.seq}};
        if (crash) cause.facts["crash_event"] = crash;
        if (answer) cause.facts["answer_event"] = answer;
        cause.summary = fmt::format(
            "{} sent {} to {} at #{} ({}) with {} = {}, a value its previous life had already used "
            "for another request (sent #{}, delivered #{}){}: the number lived only in memory and "
            "the restarted process began again, so {} could take the new request for the old "
            "one{}",
            cause.process, send.type, t.lane_name(pair.second), s.seq, format_time(send.time),
            path.substr(1), s.fields.at(path).dump(), reused->seq, old_delivery,
            crash ? fmt::format(", before the crash at #{}", crash) : "", t.lane_name(pair.second),
            answer ? fmt::format(" (it answered at #{})", answer) : "");
        out.push_back(std::move(cause));
      }
    }
  }
  return out;
}

}  // namespace seer::explain
