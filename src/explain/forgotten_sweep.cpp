// A process that forgot an entity: it visited the entity's key on its own (a sweep, a scan: a read
// made for no request it was serving) until some event, then never again, while it kept reading
// listings that still showed the key and visiting other keys. The forgetting is in the process's
// memory and leaves no event of its own; the trace shows it only as visits that stop.
#include "causes.hpp"
#include "entities.hpp"
#include "stuck.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <vector>

namespace seer::explain {

namespace {

// A key of one entity ("p/o2"), not a listing's prefix, a whole database or a message.
bool single_key(const std::string& scope) {
  return !scope.empty() && scope != "*" && scope.back() != '/' && scope.rfind("message ", 0) != 0;
}

// What a key is about: its last path component ("p/o2" -> "o2").
std::string key_entity(const std::string& key) {
  const auto slash = key.find_last_of('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

struct Visit {
  std::uint64_t send = 0;
  const Access* access = nullptr;
};

// Each process's reads of one key made on its own, in order. A request another process sent it
// claims the reads of the keys it names:
// - one it acted on at once (it was idle, and its next event is a send) claims them from its
//   delivery until it is answered (the process sends to its requester again, or answers a later
//   request), or until the process reads a key it does not name: it moved on (a request whose
//   serving ran out of time is never answered and claims none of the later reads);
// - one that arrived while the process waited on a service (a sweep in progress) is served after
//   what the process was doing: the reads that name it claim it only if no read of another key
//   comes before its answer (the earlier ones were the sweep's).
std::map<int, std::vector<Visit>> own_visits(const Trace& trace, const TraceIndex& index,
                                             std::uint64_t horizon) {
  std::map<std::uint64_t, const Access*> by_send;
  std::map<int, std::set<int>> services;  // each process's servers: their messages are replies
  for (const auto& a : index.accesses) {
    if (a.client == kSimLane || a.server == kSimLane) continue;
    services[a.client].insert(a.server);
    const auto send = request_sent(trace, index, a);
    if (send != a.served && trace.has(send) && trace.at(send).lane == a.client) {
      by_send.emplace(send, &a);
    }
  }
  std::vector<std::uint64_t> next_on_lane(trace.events.size() + 1, 0);
  std::vector<std::uint64_t> prev_on_lane(trace.events.size() + 1, 0);
  std::map<int, std::uint64_t> later;
  for (auto it = trace.events.rbegin(); it != trace.events.rend(); ++it) {
    next_on_lane[it->seq] = later[it->lane];
    later[it->lane] = it->seq;
  }
  std::map<int, std::uint64_t> earlier;
  for (const auto& e : trace.events) {
    prev_on_lane[e.seq] = earlier[e.lane];
    earlier[e.lane] = e.seq;
  }
  const auto is_service = [&](int lane, int peer) {
    const auto servers = services.find(lane);
    return servers != services.end() && servers->second.count(peer) > 0;
  };
  // Acted on at once: the process was idle (its previous event no exchange with a service it was
  // still in) and its next event is a send.
  const auto acted_at_once = [&](const TraceEvent& e) {
    const auto prev = prev_on_lane[e.seq];
    const auto next = next_on_lane[e.seq];
    const bool busy =
        prev &&
        (trace.at(prev).kind == EventKind::kSend || trace.at(prev).kind == EventKind::kDeliver) &&
        is_service(e.lane, trace.at(prev).peer);
    return !busy && next && trace.at(next).kind == EventKind::kSend;
  };
  struct Open {
    const nlohmann::json* payload = nullptr;
    std::uint64_t delivered = 0;
    bool at_once = false;
    std::vector<Visit> tentative;  // reads naming a waiting request, its own if nothing else comes
  };
  std::map<int, std::map<int, Open>> open;  // process -> requester -> its request
  std::map<int, std::vector<Visit>> out;
  const auto give_back = [&](int lane, Open& r) {
    auto& mine = out[lane];
    mine.insert(mine.end(), r.tentative.begin(), r.tentative.end());
    r.tentative.clear();
  };
  for (const auto& e : trace.events) {
    if (e.seq > horizon) break;
    if (e.lane == kSimLane) continue;
    auto& requests = open[e.lane];
    if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart) {
      for (auto& [peer, r] : requests) give_back(e.lane, r);
      requests.clear();
      continue;
    }
    if (e.kind == EventKind::kDeliver) {
      const bool reply = is_service(e.lane, e.peer);
      const auto first = index.deliver_of.find(e.message);
      const bool copy = first != index.deliver_of.end() && first->second != e.seq;
      const auto payload = e.line.find("payload");
      if (!reply && !copy && payload != e.line.end()) {
        const bool at_once = acted_at_once(e);
        give_back(e.lane, requests[e.peer]);
        requests[e.peer] = Open{&*payload, e.seq, at_once, {}};
      }
      continue;
    }
    if (e.kind != EventKind::kSend) continue;
    const auto asked = by_send.find(e.seq);
    if (asked != by_send.end() && single_key(asked->second->scope)) {
      const auto& a = *asked->second;
      const auto target = key_entity(a.scope);
      const bool read = a.read && !a.write;
      Open* claimed = nullptr;  // a request acted on at once claims it first
      for (auto it = requests.begin(); it != requests.end();) {
        auto& r = it->second;
        if (data_names(*r.payload, target)) {
          if (!claimed || (r.at_once && !claimed->at_once)) claimed = &r;
          ++it;
          continue;
        }
        give_back(e.lane, r);  // another key: what it held was not its
        it = r.at_once ? requests.erase(it) : std::next(it);  // at once: it moved on
      }
      if (!claimed) {
        if (read) out[e.lane].push_back({e.seq, &a});
      } else if (!claimed->at_once && read) {
        claimed->tentative.push_back({e.seq, &a});
      }
    }
    // Its answer closes the request, and the ones acted on at once before it.
    const auto answered = requests.find(e.peer);
    if (answered == requests.end()) continue;
    const auto since = answered->second.delivered;
    std::erase_if(requests, [&](auto& r) {
      if (r.first == e.peer) return true;
      return r.second.at_once && r.second.delivered < since;
    });
  }
  for (auto& [lane, requests] : open) {
    for (auto& [peer, r] : requests) give_back(lane, r);
  }
  for (auto& [lane, list] : out) {
    std::sort(list.begin(), list.end(),
              [](const Visit& a, const Visit& b) { return a.send < b.send; });
  }
  return out;
}

}  // namespace

std::optional<Forgotten> find_forgotten(const Trace& trace, const TraceIndex& index,
                                        const std::string& entity,
                                        const std::set<std::uint64_t>& touching, std::uint64_t heal,
                                        std::uint64_t horizon) {
  const auto visits = own_visits(trace, index, horizon);
  std::vector<Forgotten> found;
  for (const auto& [lane, list] : visits) {
    std::map<std::string, std::vector<const Visit*>> by_key;
    for (const auto& v : list) by_key[v.access->scope].push_back(&v);
    for (const auto& [key, of_key] : by_key) {
      const auto& last = *of_key.back();
      // The key is the entity's: it names it, or what the last visit read named it.
      if (!string_names(key, entity) && !touching.count(last.access->event)) continue;
      Forgotten f;
      f.lane = lane;
      f.key = key;
      f.last_visit = last.send;
      f.last_reply = trace.has(last.access->event) ? last.access->event : 0;
      f.visits = of_key.size();
      const auto target = key_entity(key);
      std::set<std::string> others;
      for (const auto& v : list) {
        if (v.send <= last.send || v.access->scope == key) continue;
        f.other_visits.push_back(v.send);
        others.insert(v.access->scope);
        if (v.send > heal) ++f.after_heal;
      }
      f.other_keys.assign(others.begin(), others.end());
      // Its listings after the last visit that still showed the key: it saw it and passed it by.
      for (const auto& a : index.accesses) {
        if (a.client != lane || !a.read || a.scope == key || !scopes_overlap(a.scope, key)) {
          continue;
        }
        if (a.event <= last.send || a.event > horizon || !trace.has(a.event)) continue;
        if (!data_names(read_value(trace, a), target)) continue;
        f.listings.push_back(a.event);
        if (a.event > heal) ++f.after_heal;
      }
      std::sort(f.listings.begin(), f.listings.end());
      const bool went_on = f.listings.size() >= 2 || f.other_visits.size() >= 2;
      if (went_on && f.after_heal > 0) found.push_back(std::move(f));
    }
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end(),
            [](const Forgotten& a, const Forgotten& b) { return a.last_visit > b.last_visit; });
  auto out = found.front();
  for (std::size_t i = 1; i < found.size(); ++i) {
    if (found[i].key == out.key) out.also.emplace_back(found[i].lane, found[i].last_visit);
  }
  return out;
}

std::optional<Cause> forgotten_cause(const Trace& trace, const Stuck& stuck,
                                     const std::string& entity) {
  if (!stuck.forgotten || !trace.has(stuck.forgotten->last_visit)) return std::nullopt;
  const auto& f = *stuck.forgotten;
  Cause c;
  c.kind = "forgotten_sweep";
  c.process = trace.lane_name(f.lane);
  // The last visit and its reply, then what it did instead: the first and last visits of other
  // keys, the first and last listings that still showed the key.
  c.events.push_back(f.last_visit);
  if (f.last_reply) c.events.push_back(f.last_reply);
  for (const auto* list : {&f.other_visits, &f.listings}) {
    if (list->empty()) continue;
    c.events.push_back(list->front());
    if (list->back() != list->front()) c.events.push_back(list->back());
  }
  c.facts = {{"entity", entity},
             {"key", f.key},
             {"last_visit_event", f.last_visit},
             {"visits", f.visits},
             {"other_visits", f.other_visits.size()},
             {"other_keys", f.other_keys},
             {"listings", f.listings.size()},
             {"after_heal", f.after_heal}};
  if (f.last_reply) c.facts["last_visit_reply"] = f.last_reply;
  if (!f.other_visits.empty()) {
    c.facts["first_other_visit"] = f.other_visits.front();
    c.facts["last_other_visit"] = f.other_visits.back();
  }
  if (!f.listings.empty()) {
    c.facts["first_listing"] = f.listings.front();
    c.facts["last_listing"] = f.listings.back();
  }
  nlohmann::json also = nlohmann::json::array();
  for (const auto& [lane, last] : f.also) {
    also.push_back({{"process", trace.lane_name(lane)}, {"last_visit_event", last}});
  }
  c.facts["also"] = std::move(also);
  std::string instead;
  if (!f.other_visits.empty()) {
    std::string keys;
    for (const auto& k : f.other_keys) keys += (keys.empty() ? "" : ", ") + k;
    instead =
        fmt::format("it visited other keys {} time(s) ({}; #{} to #{})", f.other_visits.size(),
                    keys, f.other_visits.front(), f.other_visits.back());
  }
  if (!f.listings.empty()) {
    instead += fmt::format("{}read {} listing(s) that still showed {} (#{} to #{})",
                           instead.empty() ? "it " : ", and ", f.listings.size(), f.key,
                           f.listings.front(), f.listings.back());
  }
  c.summary = fmt::format(
      "{} visited {} on its own (not for a request it served) {} time(s), the last at #{} ({}), "
      "and never again: afterwards {} ({} of them after the heal), while {} stayed stuck; nothing "
      "in the trace made it drop {}: it forgot it (in memory, where a sweep keeps what it visits)",
      c.process, f.key, f.visits, f.last_visit, format_time(trace.at(f.last_visit).time), instead,
      f.after_heal, entity, f.key);
  return c;
}

}  // namespace seer::explain
