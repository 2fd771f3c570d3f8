// Where a cause's decision was taken (docs/explain.md, "What would have prevented it"): found from
// the cause's facts and evidence, moved from a service's reply to the request it answered.
#include "remedies.hpp"

#include "accesses.hpp"
#include "entities.hpp"
#include "remedy_options.hpp"

#include <algorithm>
#include <utility>

namespace seer::explain {

namespace {

std::optional<std::uint64_t> event_fact(const Cause& c, const char* name) {
  if (!c.facts.is_object()) return std::nullopt;
  const auto it = c.facts.find(name);
  if (it == c.facts.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

nlohmann::json request_number(const TraceEvent& e) {
  const auto payload = e.line.find("payload");
  if (payload == e.line.end() || !payload->is_object()) return nullptr;
  const auto req = payload->find("req");
  return req != payload->end() ? *req : nlohmann::json();
}

// A decision recorded where it took effect (a service's reply: a commit, an applied write) is made
// in the code of the process that sent the request: the reply's request (request_of; a reply with
// no request number answers the latest delivery from its receiver). The reply itself when none is
// found.
std::uint64_t request_behind(const Trace& trace, std::uint64_t decision, const std::string& actor) {
  if (!trace.has(decision)) return decision;
  const auto& reply = trace.at(decision);
  if (reply.kind != EventKind::kSend || reply.peer == kSimLane ||
      trace.lane_name(reply.lane) == actor || trace.lane_name(reply.peer) != actor) {
    return decision;
  }
  const auto delivered = request_of(trace, decision, Unnumbered::kLatestFromPeer);
  if (delivered == 0) return decision;
  const auto& request = trace.at(delivered);
  return request.parents.size() > 1 ? request.parents[1] : decision;
}

// The other way: the service's reply to a request the deciding process sent, where the decision
// took effect (found by the request's delivery and the same request number). None when the
// request carries no number (nothing ties a reply to it) or no reply came within a short scan.
std::optional<std::uint64_t> reply_to(const Trace& trace, std::uint64_t request) {
  constexpr std::uint64_t kMaxScan = 4096;  // events after the send; a reply comes much sooner
  if (!trace.has(request)) return std::nullopt;
  const auto& send = trace.at(request);
  const auto req = request_number(send);
  if (send.kind != EventKind::kSend || send.peer == kSimLane || req.is_null()) return std::nullopt;
  const std::uint64_t last = std::min<std::uint64_t>(trace.events.size(), request + kMaxScan);
  std::uint64_t delivered = 0;
  for (std::uint64_t at = request + 1; at <= last; ++at) {
    const auto& e = trace.at(at);
    if (delivered == 0) {
      if (e.kind == EventKind::kDeliver && e.message == send.message) delivered = at;
    } else if (e.lane == send.peer && e.kind == EventKind::kSend && e.peer == send.lane &&
               request_number(e) == req) {
      return at;
    }
  }
  return std::nullopt;
}

// The deciding process's first action (a send, a storage write) after `after` on its own lane,
// within a short scan: what a process did with a read it acted on.
std::optional<std::uint64_t> next_action(const Trace& trace, std::uint64_t after) {
  constexpr std::uint64_t kMaxScan = 1024;
  if (!trace.has(after)) return std::nullopt;
  const int lane = trace.at(after).lane;
  const std::uint64_t last = std::min<std::uint64_t>(trace.events.size(), after + kMaxScan);
  for (std::uint64_t at = after + 1; at <= last; ++at) {
    const auto& e = trace.at(at);
    if (e.lane != lane) continue;
    if (e.kind == EventKind::kSend || e.kind == EventKind::kStorageWrite) return at;
    if (e.kind == EventKind::kCrash) return std::nullopt;  // what came after is another life
  }
  return std::nullopt;
}

// A crash that took back unsynced writes: the design acted when it acknowledged one of them. Of
// the crashed process's storage writes in the cause's evidence, the one naming the violation's
// entity (else the first); the acknowledgement is its first send in the evidence after that write
// that names the entity (else its first send after the write), and the write acknowledged is the
// one naming the entity, else the last before the acknowledgement. {acknowledgement, write}.
std::optional<std::pair<std::uint64_t, std::uint64_t>> acknowledged_loss(const Cause& cause,
                                                                         const Trace& trace) {
  std::vector<std::uint64_t> writes;
  std::vector<std::uint64_t> sends;
  for (const auto e : cause.events) {
    if (!trace.has(e)) continue;
    if (trace.at(e).kind == EventKind::kStorageWrite) writes.push_back(e);
    if (trace.at(e).kind == EventKind::kSend) sends.push_back(e);
  }
  if (writes.empty()) return std::nullopt;
  std::sort(writes.begin(), writes.end());
  std::sort(sends.begin(), sends.end());
  const auto entities = checked_entities(trace);
  auto names_entity = [&](std::uint64_t e) { return event_names_any(trace.at(e), entities); };
  const auto named = std::find_if(writes.begin(), writes.end(), names_entity);
  const std::uint64_t write = named != writes.end() ? *named : writes.front();
  const int lane = trace.at(write).lane;
  std::optional<std::uint64_t> ack;
  for (const auto e : sends) {
    if (e <= write || trace.at(e).lane != lane) continue;
    if (names_entity(e)) {
      ack = e;
      break;
    }
    if (!ack) ack = e;
  }
  if (!ack) return std::nullopt;
  if (named != writes.end()) return std::make_pair(*ack, write);
  // No write names the entity: the one the acknowledgement followed most closely.
  const auto before = std::lower_bound(writes.begin(), writes.end(), *ack);
  return std::make_pair(*ack, *std::prev(before));
}

bool is_action(EventKind kind) {
  return kind == EventKind::kSend || kind == EventKind::kStorageWrite ||
         kind == EventKind::kInvoke || kind == EventKind::kComplete;
}

nlohmann::json event_ref(const Trace& trace, std::uint64_t seq) {
  if (!trace.has(seq)) return {{"seq", seq}};
  nlohmann::json j = {{"seq", seq}, {"text", describe_event(trace, seq)}};
  if (auto site = trace.at(seq).site(); !site.empty()) j["at"] = std::move(site);
  return j;
}

}  // namespace

std::optional<Remedy> remedy_for(const Cause& cause, const Trace& trace) {
  auto options = remedy_options(cause);
  if (!options) return std::nullopt;
  Remedy r;
  r.options = std::move(*options);
  // What the decision relied on: a read, a lease, an earlier handling of the same item, or for a
  // lost answer the moment the requester gave up (else the lost answer itself).
  const std::pair<const char*, const char*> inputs[] = {
      {"read_event", "acting on"},
      {"lease_event", "under the lease"},
      {"first_delivery_event", "first handled at"},
      {"timeout_event", "after giving up at"},
      {"drop_event", "the answer lost at"}};
  for (const auto& [fact, role] : inputs) {
    if (auto e = event_fact(cause, fact)) {
      r.relied_on_event = *e;
      r.relied_on_role = role;
      break;
    }
  }
  // The action: the cause's decision, a repeat of a request whose first try took effect, or an
  // acknowledgement of what a crash lost.
  // The action: the cause's decision (or, for a lease or a give-up, the act on it), a repeat of a
  // request whose first try took effect, or an acknowledgement of what a crash lost.
  std::optional<std::uint64_t> decided;
  for (const char* fact : {"decision_event", "act_event", "retry_event", "acknowledgement_event"}) {
    if ((decided = event_fact(cause, fact))) break;
  }
  if (!decided && !cause.events.empty() && trace.has(cause.events.front())) {
    // Without a decision fact the cause's own event says it: an action (a send, a write) is the
    // decision; a delivery is the view acted on (a stale reply), except a duplicate's, whose
    // handling is the action; a crash or a timer is neither.
    const auto first = cause.events.front();
    const auto kind = trace.at(first).kind;
    if (is_action(kind) || (kind == EventKind::kDeliver && cause.kind == "duplicate_delivery")) {
      decided = first;
    } else if (kind == EventKind::kDeliver && !r.relied_on_event) {
      r.relied_on_event = first;
      r.relied_on_role = "acting on";
    }
  }
  if (!decided && r.relied_on_event && trace.has(*r.relied_on_event) &&
      (cause.kind == "stale_read" || cause.kind == "outdated_read")) {
    // A read acted on: the reader's action in the cause's evidence, else its next one.
    const int reader = trace.at(*r.relied_on_event).lane;
    for (const auto e : cause.events) {
      if (e > *r.relied_on_event && trace.has(e) && trace.at(e).lane == reader &&
          is_action(trace.at(e).kind)) {
        decided = e;
        break;
      }
    }
    if (!decided) decided = next_action(trace, *r.relied_on_event);
  }
  if (!decided && cause.kind == "crash_lost_data") {
    if (auto ack = acknowledged_loss(cause, trace)) {
      decided = ack->first;
      if (!r.relied_on_event) {
        r.relied_on_event = ack->second;
        r.relied_on_role = "acknowledging the write at";
      }
    }
  }
  if (decided) r.decision_event = *decided;
  const auto request = request_behind(trace, r.decision_event, cause.process);
  if (request != r.decision_event) {
    r.took_effect_event = r.decision_event;
    r.decision_event = request;
  } else {
    r.took_effect_event = reply_to(trace, r.decision_event);
  }
  // Where the act took effect, when the cause found it (a write whose reply was lost too).
  if (const auto effect = event_fact(cause, "act_effect_event");
      effect && r.decision_event == event_fact(cause, "act_event")) {
    r.took_effect_event = *effect;
  }
  return r;
}

nlohmann::json remedy_json(const Remedy& remedy, const Trace& trace) {
  nlohmann::json j = {{"options", remedy.options}};
  if (trace.has(remedy.decision_event)) j["decision"] = event_ref(trace, remedy.decision_event);
  if (remedy.took_effect_event) j["took_effect"] = event_ref(trace, *remedy.took_effect_event);
  if (remedy.relied_on_event) {
    j["relied_on"] = event_ref(trace, *remedy.relied_on_event);
    j["relied_on"]["as"] = remedy.relied_on_role;
  }
  return j;
}

std::vector<std::string> remedy_lines(const Remedy& remedy, const Trace& trace) {
  std::vector<std::string> lines;
  if (trace.has(remedy.decision_event)) {
    std::string line = "where it acted: " + describe_event(trace, remedy.decision_event);
    if (remedy.took_effect_event) {
      line += " (took effect at #" + std::to_string(*remedy.took_effect_event) + ")";
    }
    lines.push_back(std::move(line));
  }
  if (remedy.relied_on_event && trace.has(*remedy.relied_on_event)) {
    lines.push_back(remedy.relied_on_role + ": " + describe_event(trace, *remedy.relied_on_event));
  }
  for (const auto& option : remedy.options) lines.push_back("- " + option);
  return lines;
}

}  // namespace seer::explain
