// Lost knowledge: requests that took effect without their requester learning it, deliveries handled
// twice, and crashes that took back data that had been acknowledged or was about to be.
#include "answer_behind.hpp"
#include "causes.hpp"
#include "crash_lost_request.hpp"
#include "crash_marked_done.hpp"
#include "crash_repeat.hpp"
#include "id_reuse.hpp"
#include "silence.hpp"
#include "unshipped_ack.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace seer::explain {

std::string format_time(std::int64_t ns) {
  return fmt::format("t={:.3f}ms", static_cast<double>(ns) / 1e6);
}

std::uint64_t last_pause(const Trace& t, int lane, std::uint64_t after, std::uint64_t before) {
  std::uint64_t resume = 0;
  for (auto s = before; s-- > after && s >= 1;) {
    const auto& e = t.at(s);
    if (e.lane != lane) continue;
    if (e.kind == EventKind::kPause) return s;
    if (e.kind == EventKind::kResume && resume == 0) resume = s;
  }
  return resume;
}

std::string access_named(const Trace& t, const Access& a) {
  if (!a.sql.empty()) {
    const bool unlabelled = a.op.empty() || a.op == "txn";
    return unlabelled ? fmt::format("[{}] on {}", a.sql, t.lane_name(a.server))
                      : fmt::format("{} [{}] on {}", a.op, a.sql, t.lane_name(a.server));
  }
  if (a.scope == "*" || a.scope.empty()) return fmt::format("{} ({})", a.op, t.lane_name(a.server));
  return fmt::format("{}({})", a.op, a.scope);
}

std::string abbreviated(const nlohmann::json& value, std::size_t max) {
  auto text = value.dump();
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return text.substr(0, cut) + "...";
}

nlohmann::json asked(const Trace& t, std::uint64_t send) {
  auto payload = t.at(send).line.value("payload", nlohmann::json());
  if (payload.is_object()) {
    for (const char* field : {"req", "attempt", "life", "serial", "expected", "try", "retry"}) {
      payload.erase(field);
    }
  }
  return payload;
}

bool shares_a_name(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> names;
  std::vector<const nlohmann::json*> stack{&a};
  while (!stack.empty()) {
    const auto* j = stack.back();
    stack.pop_back();
    if (j->is_string() && j->get_ref<const std::string&>().size() >= 3) {
      names.push_back(j->get<std::string>());
    } else if (j->is_object()) {
      // The statement's text and the operation are what is asked, not what it is about.
      for (const auto& [k, v] : j->items()) {
        if (k != "sql" && k != "op" && k != "type" && k != "status") stack.push_back(&v);
      }
    } else if (j->is_array()) {
      for (const auto& v : *j) stack.push_back(&v);
    }
  }
  const auto text = b.dump();
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return text.find('"' + n + '"') != std::string::npos;
  });
}

namespace {

// `j` without the strings equal to `name` (a process's own name in its request says who asks,
// not what is asked: two requests of one process share it whatever they are about).
nlohmann::json without_name(nlohmann::json j, const std::string& name, int depth = 0) {
  if (depth > 16) return j;
  if (j.is_string() && j.get_ref<const std::string&>() == name) return nullptr;
  if (j.is_object() || j.is_array()) {
    for (auto& v : j) v = without_name(std::move(v), name, depth + 1);
  }
  return j;
}

// The requester's retry after `after`: its next request to the same server that asks the same
// (or carries the same data), or else the same request to another server, or else (once it gave
// up waiting, after `gave_up`, its receive timeout) a message to another process carrying the
// request's data (a job handed back to a queue as a new message); 0 if it made none. The
// requester's own name is no data.
std::uint64_t retry_of(const Trace& t, int client, int server, std::uint64_t original,
                       std::uint64_t after, std::uint64_t horizon, std::uint64_t gave_up) {
  const bool known = t.has(original) && t.at(original).kind == EventKind::kSend;
  const auto own = t.lane_name(client);
  const auto first = known ? without_name(asked(t, original), own) : nlohmann::json();
  std::uint64_t similar = 0;
  // Failing a retry to the same server: the same request sent to another one (a job reassigned to
  // another worker, a write sent to another replica), as if the first had not taken effect.
  std::uint64_t elsewhere = 0;
  std::uint64_t carried = 0;  // the request's data sent elsewhere, in another kind of message
  bool prompted = false;      // a message from elsewhere asked for the same again meanwhile
  for (auto s = after + 1; s <= horizon && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != client) continue;
    // A redelivered job, or a client's retry to this process: what follows is a reaction to
    // that message, not a retry of the requester's own.
    if (e.kind == EventKind::kDeliver && e.peer != server && !first.is_null() &&
        shares_a_name(first, e.line.value("payload", nlohmann::json()))) {
      prompted = true;
    }
    if (e.kind != EventKind::kSend) continue;
    if (e.peer != server) {
      if (known && !prompted && elsewhere == 0 && e.type == t.at(original).type &&
          shares_a_name(first, asked(t, s))) {
        elsewhere = s;
      }
      if (known && gave_up != 0 && s > gave_up && !prompted && carried == 0 &&
          e.type != t.at(original).type && shares_a_name(first, asked(t, s))) {
        carried = s;
      }
      continue;
    }
    if (first.is_null()) return s;  // the original is unknown: its next request
    const auto again = without_name(asked(t, s), own);
    if (again != first && (similar != 0 || !shares_a_name(first, again))) continue;
    // Asked again from elsewhere: that message's doing, unless the requester had itself handed the
    // data there after giving up (its own retry, come back).
    if (prompted) return carried;
    if (again == first) return s;
    similar = s;
  }
  if (similar != 0) return similar;
  return elsewhere != 0 ? elsewhere : carried;
}

// The requester's timeout that fired while the reply was on its way, if any.
std::uint64_t timeout_before(const Trace& t, int client, std::uint64_t sent,
                             std::uint64_t delivered) {
  for (auto s = sent + 1; s < delivered && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane == client && is_receive_timeout(e)) return s;
  }
  return 0;
}

// What became of a write's reply, as its requester saw it.
struct LostReply {
  std::string kind;  // the fact "how": service, never_delivered, slow_server, late_request, ...
  std::string how;   // in words
  std::uint64_t timeout = 0;       // where the requester gave up, if it did
  std::uint64_t request_sent = 0;  // the requester's send of the request
};

// nullopt: the reply is not lost (yet): its requester is still waiting, or took it in time.
std::optional<LostReply> how_lost(const DetectContext& c, const Access& a) {
  const auto& t = c.trace;
  LostReply r;
  r.kind = a.lost_how.empty() ? "late" : a.lost_how;
  // The requester may have given up before its request even arrived.
  r.request_sent = a.served;
  // A request a log shows received and never answered took effect, if at all, where it was
  // received: that delivery is its own request.
  const auto request =
      t.at(a.served).kind == EventKind::kDeliver ? a.served : request_of(t, a.served);
  if (request) {
    const auto send = c.index.send_of.find(t.at(request).message);
    if (send != c.index.send_of.end()) r.request_sent = send->second;
  }
  if (!a.delivered && a.lost_how == "service") {
    r.how = "the service lost the reply";
    return r;
  }
  // A reply still in flight when the run ended (or, in a log, a request the service never
  // answered before it): nothing dropped it, and it is lost only if its requester gave up on it
  // before the end; a requester still waiting saw nothing come of it.
  if (!a.delivered && (a.lost_how == "never_delivered" || a.lost_how == "unanswered")) {
    r.timeout = timeout_before(t, a.client, r.request_sent, c.horizon + 1);
    if (r.timeout == 0) return std::nullopt;  // still waiting for it: nothing lost yet
    const auto gave_up = fmt::format("{} gave up waiting at #{} ({})", t.lane_name(a.client),
                                     r.timeout, format_time(t.at(r.timeout).time));
    r.how = a.lost_how == "unanswered" ? "no answer had come when " + gave_up
                                       : "the reply was still in flight when " + gave_up;
    return r;
  }
  if (!a.delivered && a.lost_how == "receiver_down") {
    r.how =
        fmt::format("the reply was dropped at #{} because {} was down (crashed) when it arrived",
                    a.event, t.lane_name(a.client));
    return r;
  }
  // Dropped only where the trace shows the drop.
  if (!a.delivered && a.lost_how == "network_drop") {
    r.how = fmt::format("the network dropped the reply at #{}", a.event);
    return r;
  }
  if (!a.delivered) return std::nullopt;  // no way it was lost is known
  r.timeout = timeout_before(t, a.client, r.request_sent, a.event);
  if (r.timeout == 0) return std::nullopt;
  const auto arrived = request_of(t, a.served);
  const auto gave_up = format_time(t.at(r.timeout).time);
  if (r.timeout < a.served && arrived != 0 && arrived < r.timeout) {
    r.kind = "slow_server";
    r.how = fmt::format(
        "{} had given up waiting at #{} ({}): the request arrived at #{} ({}) but {} took effect "
        "only at #{}, so the reply (#{}) came to nobody",
        t.lane_name(a.client), r.timeout, gave_up, arrived, format_time(t.at(arrived).time),
        t.lane_name(a.server), a.served, a.event);
  } else if (r.timeout < a.served) {
    r.kind = "late_request";
    r.how = fmt::format(
        "{} had given up waiting at #{} ({}) while the request (#{}) was still in flight, so the "
        "reply (#{}) came to nobody",
        t.lane_name(a.client), r.timeout, gave_up, r.request_sent, a.event);
  } else {
    r.how = fmt::format("the reply arrived at #{} ({}), after {} had given up at #{} ({})", a.event,
                        format_time(t.at(a.event).time), t.lane_name(a.client), r.timeout, gave_up);
  }
  return r;
}

// Why the requester gave up: the message (its request, or the reply) still in flight at its
// timeout.
std::optional<Cause> delayed_message(const Trace& t, const Access& a, const LostReply& r) {
  const bool request_late = r.kind == "late_request";
  const std::uint64_t send = request_late ? r.request_sent : a.served;
  std::uint64_t arrived = 0;
  if (request_late) {
    arrived = request_of(t, a.served);
  } else if (a.delivered) {
    arrived = a.event;
  }
  if (!t.has(send) || t.at(send).kind != EventKind::kSend) return std::nullopt;
  const auto& m = t.at(send);
  Cause delayed;
  delayed.kind = "message_delayed";
  delayed.process = t.lane_name(m.lane);
  delayed.events = {send};
  if (arrived) delayed.events.push_back(arrived);
  const char* what = request_late ? "the request" : "the reply";
  delayed.summary =
      arrived ? fmt::format(
                    "{} {} ({} -> {}) sent at #{} ({}) arrived at #{} ({}), after the "
                    "timeout at #{}",
                    what, m.message, t.lane_name(m.lane), t.lane_name(m.peer), send,
                    format_time(m.time), arrived, format_time(t.at(arrived).time), r.timeout)
              : fmt::format(
                    "{} {} ({} -> {}) sent at #{} ({}) was still in flight at the "
                    "timeout at #{}",
                    what, m.message, t.lane_name(m.lane), t.lane_name(m.peer), send,
                    format_time(m.time), r.timeout);
  return delayed;
}

// The access whose request `client` sent at `send`, if any: the accesses are in the order of
// their replies' deliveries, which follow the send; at most 512 are looked at.
const Access* access_requested_at(const DetectContext& c, int client, std::uint64_t send) {
  const auto& all = c.index.accesses;
  auto it = std::partition_point(all.begin(), all.end(),
                                 [&](const Access& x) { return x.event <= send; });
  for (int n = 0; it != all.end() && n < 512; ++it, ++n) {
    if (it->client != client || it->served <= send || it->served > c.horizon) continue;
    if (request_sent(c.trace, c.index, *it) == send) return &*it;
  }
  return nullptr;
}

Cause lost_response(const DetectContext& c, const Access& a, const LostReply& r) {
  const auto& t = c.trace;
  Cause cause;
  cause.kind = "lost_response";
  cause.process = t.lane_name(a.client);
  cause.events = {a.served};
  if (a.event != a.served) cause.events.push_back(a.event);
  if (r.timeout) cause.events.push_back(r.timeout);
  if (a.effect) cause.events.push_back(a.effect);  // what handling it wrote
  cause.facts = a.facts ? *a.facts : nlohmann::json();
  cause.facts["how"] = r.kind;
  // A request the trace shows received and never answered: its outcome is unknown, not applied.
  const bool unanswered = a.lost_how == "unanswered";
  cause.summary = fmt::format(
      "{} {} {}'s {} at #{} ({}){}, but {}: {} could not know {}", t.lane_name(a.server),
      unanswered ? "received" : "applied", cause.process, access_named(t, a), a.served,
      format_time(t.at(a.served).time),
      a.effect ? fmt::format(" (its write at #{})", a.effect) : std::string(), r.how, cause.process,
      unanswered ? "whether it had taken effect" : "it had taken effect");
  if (r.timeout && r.kind != "slow_server") {
    if (auto delayed = delayed_message(t, a, r)) cause.behind.push_back(std::move(*delayed));
  }
  const auto after = r.timeout ? r.timeout : a.served;
  // Where it gave up waiting (a reply the service lost: the requester's timeout after its request).
  const auto gave_up =
      r.timeout ? r.timeout : timeout_before(t, a.client, r.request_sent, c.horizon + 1);
  if (const auto retry =
          retry_of(t, a.client, a.server, r.request_sent, after, c.horizon, gave_up)) {
    cause.events.push_back(retry);
    if (t.at(retry).peer != a.server && t.at(retry).type != t.at(r.request_sent).type) {
      cause.summary += fmt::format("; after giving up it sent the request's data to {} at #{}",
                                   t.lane_name(t.at(retry).peer), retry);
    } else if (t.at(retry).peer != a.server) {
      cause.summary += fmt::format("; it sent the same request to {} at #{}",
                                   t.lane_name(t.at(retry).peer), retry);
    } else {
      cause.summary += asked(t, retry) == asked(t, r.request_sent)
                           ? fmt::format("; it sent the same request again at #{}", retry)
                           : fmt::format("; it sent a request with the same data at #{}", retry);
    }
    cause.facts["retry_event"] = retry;
    // It gave up waiting before it sent that: the give-up is where it decided, and when what it
    // sent the server is another request carrying the same data (not the request again: a
    // decline, a compensation), that request is its act on the silence, and where the act took
    // effect is part of the story.
    if (gave_up != 0 && gave_up < retry) {
      if (r.timeout == 0) cause.events.push_back(gave_up);
      cause.facts["timeout_event"] = gave_up;
      if (t.at(retry).peer == a.server && asked(t, retry) != asked(t, r.request_sent)) {
        cause.facts["act_event"] = retry;
        if (const auto* x = access_requested_at(c, a.client, retry); x && x->write) {
          cause.events.push_back(x->served);
          cause.facts["act_effect_event"] = x->served;
          cause.summary += fmt::format(
              ", after giving up at #{}: its act on the silence, which took "
              "effect at #{}",
              gave_up, x->served);
        }
      }
    }
  } else if (gave_up != 0) {
    // No retry: its first act after giving up, a write to a service about what it had asked (a
    // compensation of the step before, a failure recorded), took the silence for "not done".
    std::uint64_t act = 0;
    int looked = 0;
    for (auto s = gave_up + 1; s <= c.horizon && t.has(s) && looked < 8; ++s) {
      const auto& e = t.at(s);
      if (e.lane != a.client) continue;
      ++looked;
      if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash ||
          e.kind == EventKind::kRestart) {
        break;
      }
      if (e.kind == EventKind::kSend) {
        act = s;
        break;
      }
    }
    const auto* x = act ? access_requested_at(c, a.client, act) : nullptr;
    if (x && x->write && x->served != a.served) {
      const auto shared = shared_id_word(asked(t, r.request_sent), asked(t, act), cause.process);
      if (!shared.empty()) {
        if (r.timeout == 0) cause.events.push_back(gave_up);
        cause.events.push_back(x->served);
        cause.events.push_back(act);
        cause.facts["timeout_event"] = gave_up;
        cause.facts["act_event"] = act;
        cause.facts["act_effect_event"] = x->served;
        cause.summary += fmt::format(
            "; it gave up waiting at #{} and then wrote {} at #{} about {} as if the request had "
            "not taken effect: its act on the silence",
            gave_up, access_named(t, *x), x->served, shared);
      }
    }
  }
  return cause;
}

// A request to one of the design's own servers that the server had not answered by the
// violation, though a write it made for it (one carrying the request's data, sent after taking it
// in) had taken effect after its requester gave up and sent it elsewhere: the request took effect
// at that write, not at an answer still to come (how `effect_unanswered`).
std::vector<Cause> effects_unanswered(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  std::uint64_t breaking = 0;  // the last write that took effect before the violation
  for (const auto& a : c.index.accesses) {
    if (a.write && !a.application && a.served <= c.horizon) breaking = std::max(breaking, a.served);
  }
  const auto services = service_lanes(c.index);
  const auto design = [&](int lane) { return lane != kSimLane && !services.count(lane); };
  // Each process's receive timeouts, in order: a request no timeout followed is no give-up.
  std::map<int, std::vector<std::uint64_t>> timeouts;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (is_receive_timeout(e)) timeouts[e.lane].push_back(e.seq);
  }
  // Each server's answers by (server, requester, request number): the sends that carry it.
  std::map<std::tuple<int, int, std::string>, std::vector<std::uint64_t>> answers;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kSend || !design(e.lane) || !design(e.peer)) continue;
    const auto& p = e.line.value("payload", nlohmann::json());
    if (p.is_object() && p.contains("req"))
      answers[{e.lane, e.peer, p["req"].dump()}].push_back(e.seq);
  }
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kDeliver || !design(e.lane) || !design(e.peer) || e.lane == e.peer) {
      continue;
    }
    const auto& payload = e.line.value("payload", nlohmann::json());
    if (!payload.is_object() || !payload.contains("req")) continue;
    const auto answered = answers.find({e.lane, e.peer, payload["req"].dump()});
    if (answered != answers.end() && std::any_of(answered->second.begin(), answered->second.end(),
                                                 [&](std::uint64_t s) { return s > e.seq; })) {
      continue;
    }
    const auto sent = c.index.send_of.find(e.message);
    if (sent == c.index.send_of.end()) continue;
    // The requester's first receive timeout after sending it.
    const auto gave_up = timeouts.find(e.peer);
    if (gave_up == timeouts.end()) continue;
    const auto first_timeout =
        std::upper_bound(gave_up->second.begin(), gave_up->second.end(), sent->second);
    if (first_timeout == gave_up->second.end()) continue;
    auto data = payload;
    data.erase("req");
    // The server's first write for it that took effect.
    const auto effect_for = [&](int server, std::uint64_t from) -> const Access* {
      for (const auto& w : c.index.accesses) {
        if (w.client != server || !w.write || w.application || w.served > c.horizon) continue;
        if (request_sent(t, c.index, w) <= from) continue;
        if (flows_into(data, written_value(t, w))) return &w;
      }
      return nullptr;
    };
    const auto* effect = effect_for(e.lane, e.seq);
    // The write that broke the invariant is never its own lost response (as above).
    if (!effect || effect->served == breaking) continue;
    // Made for this delivery: the server took in no other request of its kind from the same
    // requester before sending it (a retry to the same server would own it as well).
    const auto effect_sent = request_sent(t, c.index, *effect);
    bool later_request = false;
    for (auto s = e.seq + 1; s < effect_sent && !later_request; ++s) {
      const auto& d = t.at(s);
      later_request =
          d.lane == e.lane && d.kind == EventKind::kDeliver && d.peer == e.peer && d.type == e.type;
    }
    if (later_request) continue;
    const auto timeout = *first_timeout;
    if (timeout >= effect->served) continue;
    // Its retry elsewhere: the requester's first send after giving up, to another of the
    // design's processes, of the same kind and with the same data.
    std::uint64_t retry = 0;
    for (auto s = timeout + 1; s <= c.horizon && t.has(s) && !retry; ++s) {
      const auto& r = t.at(s);
      if (r.lane != e.peer || r.kind != EventKind::kSend || r.peer == e.lane || !design(r.peer) ||
          r.type != e.type) {
        continue;
      }
      auto again = r.line.value("payload", nlohmann::json());
      if (again.is_object()) again.erase("req");
      if (again == data) retry = s;
    }
    if (!retry) continue;
    Cause cause;
    cause.kind = "lost_response";
    cause.process = t.lane_name(e.peer);
    cause.events = {effect->served, timeout, retry, e.seq};
    const auto retried = c.index.deliver_of.find(t.at(retry).message);
    const Access* again = retried == c.index.deliver_of.end()
                              ? nullptr
                              : effect_for(t.at(retry).peer, retried->second);
    if (again) cause.events.push_back(again->served);
    cause.facts = {{"how", "effect_unanswered"},
                   {"request_event", e.seq},
                   {"request_sent", sent->second},
                   {"effect_event", effect->served},
                   {"retry_event", retry}};
    cause.summary = fmt::format(
        "{} took in {}'s {} at #{} and its write for it ({}) took effect at #{} ({}), but {} had "
        "given up waiting at #{} ({}) and sent the same request to {} at #{}{}; {} had not "
        "answered by the violation: the request had taken effect where {} could not see it",
        t.lane_name(e.lane), cause.process, e.type, e.seq, access_named(t, *effect), effect->served,
        format_time(t.at(effect->served).time), cause.process, timeout,
        format_time(t.at(timeout).time), t.lane_name(t.at(retry).peer), retry,
        again ? fmt::format(", whose write took effect at #{}", again->served) : std::string(),
        t.lane_name(e.lane), cause.process);
    out.push_back(std::move(cause));
  }
  // A request that was itself another's retry is that one's story: the first attempt's effect,
  // the give-up and the retry tell it, and the retry's own give-up follows from it.
  std::set<std::uint64_t> retries;
  for (const auto& x : out) retries.insert(x.facts["retry_event"].get<std::uint64_t>());
  std::erase_if(out, [&](const Cause& x) {
    return retries.count(x.facts["request_sent"].get<std::uint64_t>()) > 0;
  });
  return out;
}

}  // namespace

std::vector<Cause> detect_lost_responses(const DetectContext& c) {
  std::vector<Cause> out;
  std::uint64_t breaking = 0;  // the last write that took effect before the violation
  for (const auto& a : c.index.accesses) {
    if (a.write && !a.application && a.served <= c.horizon) breaking = std::max(breaking, a.served);
  }
  for (const auto& a : c.index.accesses) {
    if (!a.write || a.served > c.horizon) continue;
    // The write that broke the invariant: what became of its reply came after the fact.
    if (a.served == breaking) continue;
    if (const auto lost = how_lost(c, a)) out.push_back(lost_response(c, a, *lost));
  }
  // Requests to the design's own servers that took effect with no answer yet.
  auto unanswered = effects_unanswered(c);
  out.insert(out.end(), std::make_move_iterator(unanswered.begin()),
             std::make_move_iterator(unanswered.end()));
  // Requests answered by a message of their own, which the accesses above do not pair.
  auto silent = detect_silent_give_ups(c);
  out.insert(out.end(), std::make_move_iterator(silent.begin()),
             std::make_move_iterator(silent.end()));
  auto partial = detect_writes_without_answer(c);
  out.insert(out.end(), std::make_move_iterator(partial.begin()),
             std::make_move_iterator(partial.end()));
  auto taken = detect_answers_taken_for_next(c);
  out.insert(out.end(), std::make_move_iterator(taken.begin()),
             std::make_move_iterator(taken.end()));
  return out;
}

namespace {

// The first delivery of the same item (the queue's message id) or message (the network's) before
// `e`, added to the cause; for an item, why it came back: its first consumer crashed or was
// paused before acknowledging. A network copy may overtake the original: then the original's
// delivery, up to `horizon`, is the other half of the pair.
void add_first_delivery(const Trace& t, const TraceEvent& e, bool redelivery, std::int64_t item,
                        std::uint64_t horizon, Cause& cause) {
  if (!redelivery) {
    for (auto s = e.seq + 1; s <= horizon && t.has(s); ++s) {
      const auto& later = t.at(s);
      if (later.kind != EventKind::kDeliver || later.message != e.message) continue;
      if (later.oracle().is_object() && later.oracle().value("duplicate", false)) continue;
      bool earlier = false;
      for (auto b = e.seq; b-- > 1 && !earlier;) {
        earlier = t.at(b).kind == EventKind::kDeliver && t.at(b).message == e.message;
      }
      if (earlier) break;  // the original came first: found below
      cause.events.push_back(s);
      cause.facts["original_delivery_event"] = s;
      return;
    }
  }
  for (auto s = e.seq; s-- > 1;) {
    const auto& p = t.at(s);
    if (p.kind != EventKind::kDeliver) continue;
    const bool same =
        redelivery ? trace::service_facts(p.oracle()).value("message_id", std::int64_t{-2}) == item
                   : p.message == e.message;
    if (!same) continue;
    cause.events.push_back(s);
    cause.facts["first_delivery_event"] = s;
    for (auto k = s + 1; redelivery && k < e.seq; ++k) {
      const auto& stop = t.at(k);
      if (stop.lane != p.lane ||
          (stop.kind != EventKind::kCrash && stop.kind != EventKind::kPause)) {
        continue;
      }
      cause.events.push_back(k);
      Cause why;
      why.kind = stop.kind == EventKind::kCrash ? "process_crashed" : "process_paused";
      why.process = t.lane_name(stop.lane);
      why.events = {k};
      why.summary = fmt::format(
          "{} {} at #{} ({}) after taking it and before acknowledging it", why.process,
          stop.kind == EventKind::kCrash ? "crashed" : "was paused", k, format_time(stop.time));
      cause.behind.push_back(std::move(why));
      break;
    }
    return;
  }
}

// A crash that dropped an open transaction (the SQL service's annotation).
Cause dropped_transaction(const Trace& t, const TraceEvent& e) {
  const auto& oracle = e.oracle();
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = t.lane_name(e.lane);
  cause.events = {e.seq};
  cause.facts = oracle;
  cause.summary = fmt::format(
      "{} crashed at #{} ({}) before committing {}: the transaction was rolled back and its "
      "requester got no answer",
      cause.process, e.seq, format_time(e.time),
      oracle.value("label", std::string("a transaction")));
  return cause;
}

// Whether `e` begins a handling on its lane: a delivery, or the process's start, restart or crash.
bool begins_handling(const TraceEvent& e) {
  return e.kind == EventKind::kDeliver || e.kind == EventKind::kStart ||
         e.kind == EventKind::kRestart || e.kind == EventKind::kCrash;
}

// The keys the storage writes `writes` wrote.
std::set<std::string> keys_written(const Trace& t, const std::vector<std::uint64_t>& writes) {
  std::set<std::string> keys;
  for (const auto w : writes) keys.insert(t.at(w).line.value("key", std::string()));
  return keys;
}

// The storage writes `lane` made before event `before` in the handling it belongs to (since the
// lane's latest delivery, start, restart or crash) that a sync after them made durable, latest
// first; erases and writes of the keys `except` left out.
std::vector<std::uint64_t> durable_writes_before(const Trace& t, int lane, std::uint64_t before,
                                                 const std::set<std::string>& except) {
  std::vector<std::uint64_t> durable;
  bool synced = false;
  for (auto s = before; s-- > 1;) {
    const auto& e = t.at(s);
    if (e.lane != lane) continue;
    if (begins_handling(e)) break;
    if (e.kind == EventKind::kStorageSync) synced = true;
    if (e.kind == EventKind::kStorageWrite && synced && !e.line.value("erase", false) &&
        !except.count(e.line.value("key", std::string()))) {
      durable.push_back(s);
    }
  }
  return durable;
}

// A write made durable ahead of the writes it vouches for (a "done" marker synced before its
// items): of the crashed process's storage writes while it handled the request it was handling
// when the first taken-back write was made (since that request's delivery), one followed by a
// sync before that write (durable), whose key its next life read (found) while handling a later
// request and then answered (its first send after the read, to that request's sender, before it
// took in another message). The crash took back the writes after it, and the restarted process
// answered from the one that survived. {write, read, answer}.
struct Vouched {
  std::uint64_t write = 0;
  std::uint64_t read = 0;
  std::uint64_t answer = 0;
};

std::optional<Vouched> durable_ahead(const Trace& t, const TraceEvent& crash,
                                     const std::vector<std::uint64_t>& taken_back,
                                     std::uint64_t horizon) {
  if (taken_back.empty()) return std::nullopt;
  const int lane = crash.lane;
  const auto first_lost = *std::min_element(taken_back.begin(), taken_back.end());
  // The handling the first taken-back write belongs to, and its durable writes before it.
  const auto durable = durable_writes_before(t, lane, first_lost, keys_written(t, taken_back));
  if (durable.empty()) return std::nullopt;
  // The next life: its reads of those keys, each while handling a request, and the answer.
  std::uint64_t handling = 0;
  bool restarted = false;
  for (auto s = crash.seq + 1; s <= horizon && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != lane) continue;
    if (e.kind == EventKind::kRestart && !restarted) {
      restarted = true;
      continue;
    }
    if (!restarted) continue;
    if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart) break;
    if (e.kind == EventKind::kDeliver) {
      handling = s;
      continue;
    }
    if (e.kind != EventKind::kStorageRead || !handling || !e.line.value("found", false)) continue;
    const auto key = e.line.value("key", std::string());
    const auto w = std::find_if(durable.begin(), durable.end(), [&](std::uint64_t d) {
      return t.at(d).line.value("key", std::string()) == key;
    });
    if (w == durable.end()) continue;
    for (auto a = s + 1; a <= horizon && t.has(a); ++a) {
      const auto& next = t.at(a);
      if (next.lane != lane) continue;
      if (next.kind == EventKind::kDeliver || next.kind == EventKind::kCrash) break;
      if (next.kind == EventKind::kSend && next.peer == t.at(handling).peer) {
        return Vouched{*w, s, a};
      }
    }
  }
  return std::nullopt;
}

// A crash cause's story gains an event it does not already name.
void add_event_once(Cause& cause, std::uint64_t e) {
  if (std::find(cause.events.begin(), cause.events.end(), e) == cause.events.end()) {
    cause.events.push_back(e);
  }
}

// The cause told by a write made durable ahead of those the crash took back (durable_ahead): the
// surviving write is where the design acted (it vouched for the lost ones), the restarted
// process's read of it what it relied on, and its answer the promise.
void vouched_for(const Trace& t, const Vouched& v, Cause& cause) {
  for (const auto e : {v.write, v.read, v.answer}) add_event_once(cause, e);
  if (!cause.facts.is_object()) cause.facts = nlohmann::json::object();
  cause.facts["how"] = "durable_ahead";
  cause.facts["decision_event"] = v.write;
  cause.facts["read_event"] = v.read;
  cause.facts["answer_event"] = v.answer;
  const auto& w = t.at(v.write);
  const auto& a = t.at(v.answer);
  cause.summary += fmt::format(
      "; its write of {} at #{} had been made durable before them, in the same handling, and "
      "after restarting it read {} (#{}) and answered {} to {} at #{} from it: the surviving "
      "write vouched for writes the crash took back",
      w.line.value("key", std::string()), v.write, w.line.value("key", std::string()), v.read,
      a.type, t.lane_name(a.peer), v.answer);
}

// Whether storage read `r` read `key`: the key itself, or a prefix over it (a listing).
bool storage_read_covers(const TraceEvent& r, const std::string& key) {
  const auto k = r.line.value("key", std::string());
  if (!k.empty()) return k == key;
  const auto prefix = r.line.value("prefix", std::string());
  return !prefix.empty() && key.starts_with(prefix);
}

// Erases a crash took back behind a durable write that already accounts for what they erased (a
// snapshot, a compacted summary): in the handling the first taken-back erase belongs to (since
// the process's latest delivery), the process read what it then erased (the key, or a listing
// over it), wrote another key and synced it before the erases: that write is durable, the erases
// were not, and the crash revived the erased data beside the write that already counts it. Of
// several such writes, the first naming an entity the violation is about, else the first.
// {write, read, erases}.
struct Revived {
  std::uint64_t write = 0;
  std::uint64_t read = 0;
  std::vector<std::uint64_t> erases;
};

std::optional<Revived> erased_behind_durable(const Trace& t, const TraceEvent& crash,
                                             const std::vector<std::uint64_t>& erases) {
  if (erases.empty()) return std::nullopt;
  const auto first = *std::min_element(erases.begin(), erases.end());
  const auto erased = keys_written(t, erases);
  const auto durable = durable_writes_before(t, crash.lane, first, erased);  // latest first
  if (durable.empty()) return std::nullopt;
  // The latest read of an erased key before the latest of those writes, in the same handling.
  std::uint64_t read = 0;
  for (auto s = durable.front(); s-- > 1;) {
    const auto& e = t.at(s);
    if (e.lane != crash.lane) continue;
    if (begins_handling(e)) break;
    if (e.kind == EventKind::kStorageRead &&
        std::any_of(erased.begin(), erased.end(),
                    [&](const std::string& k) { return storage_read_covers(e, k); })) {
      read = s;
      break;
    }
  }
  if (read == 0) return std::nullopt;
  // The writes made after that read, earliest first.
  std::vector<std::uint64_t> after;
  for (auto it = durable.rbegin(); it != durable.rend(); ++it) {
    if (*it > read) after.push_back(*it);
  }
  if (after.empty()) return std::nullopt;
  const auto named = checked_entities(t);
  const auto w = std::find_if(after.begin(), after.end(),
                              [&](std::uint64_t x) { return event_names_any(t.at(x), named); });
  Revived r;
  r.write = w != after.end() ? *w : after.front();
  r.read = read;
  r.erases = erases;
  std::sort(r.erases.begin(), r.erases.end());
  return r;
}

// The cause told by erases a crash took back behind a durable write that counts what they erased
// (erased_behind_durable): the write is where the design acted (it should say which of the erased
// data it holds), the read what it was computed from, the erases what the crash revived.
void revived_behind(const Trace& t, const TraceEvent& crash, const Revived& r, bool logged,
                    Cause& cause) {
  add_event_once(cause, r.write);
  // The last erases first: the ones nearest the crash.
  for (auto it = r.erases.rbegin(); it != r.erases.rend() && it - r.erases.rbegin() < 3; ++it) {
    add_event_once(cause, *it);
  }
  add_event_once(cause, r.read);
  if (!cause.facts.is_object()) cause.facts = nlohmann::json::object();
  cause.facts["how"] = "erase_taken_back";
  cause.facts["decision_event"] = r.write;
  cause.facts["read_event"] = r.read;
  cause.facts["erase_events"] = r.erases;
  const auto& w = t.at(r.write);
  const auto& read = t.at(r.read);
  const auto read_what = read.line.contains("key") ? read.line.value("key", std::string())
                                                   : read.line.value("prefix", std::string());
  cause.summary += fmt::format(
      "; {} of the writes it {} were erases (the last {} at #{}), made after its write of {} at "
      "#{} was synced: that write, computed from its read of {} at #{}, already counts what "
      "they erased, and the crash at #{} {} the erased data beside it (counted twice)",
      r.erases.size(), logged ? "may have taken back" : "took back",
      t.at(r.erases.back()).line.value("key", std::string()), r.erases.back(),
      w.line.value("key", std::string()), r.write, read_what, r.read, crash.seq,
      logged ? "may have revived" : "revived");
}

// A crash that lost unsynced writes: the writes it took back and what the process promised while
// they were unsynced (its sends since its last sync).
Cause lost_writes(const Trace& t, const TraceEvent& e, const nlohmann::json& lost, bool torn,
                  std::uint64_t horizon) {
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = t.lane_name(e.lane);
  cause.events = {e.seq};
  cause.facts = e.oracle();
  std::uint64_t last_sync = 0;
  std::vector<std::uint64_t> promises;
  std::vector<std::uint64_t> writes;  // the writes the crash took back, latest first
  for (auto s = e.seq; s-- > 1;) {
    const auto& p = t.at(s);
    if (p.lane != e.lane) continue;
    if (p.kind == EventKind::kStorageSync || p.kind == EventKind::kRestart ||
        p.kind == EventKind::kStart) {
      last_sync = s;
      break;
    }
    if (p.kind == EventKind::kSend) promises.push_back(s);
    if (p.kind == EventKind::kStorageWrite && writes.size() < 3) {
      const auto key = p.line.value("key", nlohmann::json());
      // Each lost write is a key, or an object naming its key.
      if (std::any_of(lost.begin(), lost.end(), [&](const nlohmann::json& w) {
            return w == key || (w.is_object() && w.value("key", nlohmann::json()) == key);
          })) {
        writes.push_back(s);
      }
    }
  }
  for (std::size_t i = 0; i < promises.size() && i < 3; ++i) cause.events.push_back(promises[i]);
  cause.events.insert(cause.events.end(), writes.begin(), writes.end());
  cause.summary =
      fmt::format("{} crashed at #{} ({}) and lost {} unsynced write(s){}", cause.process, e.seq,
                  format_time(e.time), lost.size(), torn ? " (one torn)" : "");
  if (const auto v = durable_ahead(t, e, writes, horizon)) {
    vouched_for(t, *v, cause);
    return cause;
  }
  // The erases it took back, when a durable write before them already counts what they erased.
  std::vector<std::uint64_t> erases;
  for (auto s = e.seq; s-- > last_sync + 1;) {
    const auto& p = t.at(s);
    if (p.lane != e.lane || p.kind != EventKind::kStorageWrite || !p.line.value("erase", false)) {
      continue;
    }
    const auto key = p.line.value("key", nlohmann::json());
    if (std::any_of(lost.begin(), lost.end(), [&](const nlohmann::json& w) {
          return w.is_object() && w.value("erase", false) &&
                 w.value("key", nlohmann::json()) == key;
        })) {
      erases.push_back(s);
    }
  }
  if (const auto r = erased_behind_durable(t, e, erases)) {
    revived_behind(t, e, *r, false, cause);
    return cause;
  }
  if (!promises.empty()) {
    const auto& ack = t.at(promises.front());
    cause.summary += fmt::format(
        " after sending {} message(s) since its last sync{}, the latest {} to {} at #{} with {}: "
        "acknowledged before durable",
        promises.size(), last_sync ? fmt::format(" (#{})", last_sync) : "", ack.type,
        t.lane_name(ack.peer), ack.seq, ack.line.value("payload", nlohmann::json()).dump());
  }
  return cause;
}

// The storage writes (`erases`: the erases; otherwise the other writes) of the crashed process `e`
// since its last sync, start, restart or earlier crash, latest first, at most `most`: what a crash
// may take back, as a log shows it.
std::vector<std::uint64_t> unsynced_writes(const Trace& t, const TraceEvent& e, bool erases,
                                           std::size_t most) {
  std::vector<std::uint64_t> out;
  for (auto s = e.seq; s-- > 1 && out.size() < most;) {
    const auto& p = t.at(s);
    if (p.lane != e.lane) continue;
    if (p.kind == EventKind::kStorageSync || p.kind == EventKind::kRestart ||
        p.kind == EventKind::kStart || p.kind == EventKind::kCrash) {
      break;
    }
    if (p.kind == EventKind::kStorageWrite && p.line.value("erase", false) == erases) {
      out.push_back(s);
    }
  }
  return out;
}

// Without the oracle's list of lost writes (a log): the crashed process's erases since its last
// sync (or start) are those a crash may take back. Told when a durable write before them already
// counts what they erased (erased_behind_durable) and the violation was found while the process
// was down (its disk as the crash left it), or its next life read the erased data back.
std::optional<Cause> unsynced_erases_revived(const Trace& t, const TraceEvent& e,
                                             std::uint64_t horizon) {
  const auto erases = unsynced_writes(t, e, true, std::numeric_limits<std::size_t>::max());
  const auto r = erased_behind_durable(t, e, erases);
  if (!r) return std::nullopt;
  std::set<std::string> erased;
  for (const auto w : r->erases) erased.insert(t.at(w).line.value("key", std::string()));
  bool restarted = false;
  bool read_back = false;
  for (auto s = e.seq + 1; s <= horizon && t.has(s) && !read_back; ++s) {
    const auto& p = t.at(s);
    if (p.lane != e.lane) continue;
    if (p.kind == EventKind::kCrash) break;
    if (p.kind == EventKind::kRestart) restarted = true;
    read_back = restarted && p.kind == EventKind::kStorageRead &&
                std::any_of(erased.begin(), erased.end(),
                            [&](const std::string& k) { return storage_read_covers(p, k); });
  }
  if (restarted && !read_back) return std::nullopt;
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = t.lane_name(e.lane);
  cause.events = {e.seq};
  cause.summary = fmt::format(
      "{} crashed at #{} ({}) with {} erase(s) not yet synced, which a crash may take back",
      cause.process, e.seq, format_time(e.time), r->erases.size());
  revived_behind(t, e, *r, true, cause);
  return cause;
}

// Without the oracle's list of lost writes (a log): the crashed process's storage writes since
// its last sync (or start) are those a crash may take back, as the log shows them. Told only when
// one of its writes made durable ahead of them was read and answered from by its next life
// (durable_ahead): what a log can say of a marker that outlived its items.
std::optional<Cause> unsynced_vouched_for(const Trace& t, const TraceEvent& e,
                                          std::uint64_t horizon) {
  const auto unsynced = unsynced_writes(t, e, false, 3);
  const auto v = durable_ahead(t, e, unsynced, horizon);
  if (!v) return unsynced_erases_revived(t, e, horizon);
  Cause cause;
  cause.kind = "crash_lost_data";
  cause.process = t.lane_name(e.lane);
  cause.events = {e.seq};
  cause.events.insert(cause.events.end(), unsynced.begin(), unsynced.end());
  cause.summary = fmt::format(
      "{} crashed at #{} ({}) with {} write(s) not yet synced, which a crash may take back",
      cause.process, e.seq, format_time(e.time), unsynced.size());
  vouched_for(t, *v, cause);
  return cause;
}

}  // namespace

std::vector<Cause> detect_duplicates(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kDeliver) continue;
    const auto& oracle = e.oracle();
    if (!oracle.is_object()) continue;
    const auto service = oracle.find("service");
    const bool redelivery =
        service != oracle.end() && service->is_object() &&
        (service->value("duplicate", false) || service->value("while_in_flight_elsewhere", false));
    const bool network_copy = oracle.value("duplicate", false);
    if (!redelivery && !network_copy) continue;
    Cause cause;
    cause.kind = "duplicate_delivery";
    cause.process = t.lane_name(e.lane);
    cause.events = {e.seq};
    cause.facts = oracle;
    const auto item = redelivery ? service->value("message_id", std::int64_t{-1}) : -1;
    add_first_delivery(t, e, redelivery, item, c.horizon, cause);
    if (redelivery) {
      const auto& s = *service;
      cause.summary = fmt::format(
          "{} delivered message {} to {} again at #{} ({}, delivery {}{}{})",
          s.value("name", std::string("the queue")), s.value("message_id", std::int64_t{0}),
          cause.process, e.seq, format_time(e.time), s.value("delivery", std::int64_t{0}),
          s.value("while_in_flight_elsewhere", false)
              ? ", while another consumer still held it: its visibility timeout had expired"
              : "",
          s.value("overdue", false) ? ", overdue" : "");
      cause.score = 10;  // a redelivered work item is more telling than a network copy
    } else {
      cause.score = -15;  // servers usually drop transport duplicates
      cause.summary = fmt::format(
          "the network delivered a second copy of message {} ({}, {} -> {}) at #{} ({})", e.message,
          e.type, t.lane_name(e.peer), cause.process, e.seq, format_time(e.time));
      // A simulated service applies a copied request once, and its client drops a copied reply
      // (docs/services.md): such a copy changed nothing, and is no first cause.
      if (services.count(e.lane) || services.count(e.peer)) {
        cause.score -= 40;
        cause.facts["deduplicated"] = true;
        cause.summary += services.count(e.lane)
                             ? ": the service applies a copied request once, so it changed nothing"
                             : ": the client drops a copied reply, so it changed nothing";
      }
    }
    out.push_back(std::move(cause));
  }
  return out;
}

std::vector<Cause> detect_crash_losses(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    const auto& oracle = e.oracle();
    if (e.kind == EventKind::kAnnotation &&
        e.line.value("what", std::string()) == "crash_dropped_transaction") {
      out.push_back(dropped_transaction(t, e));
      continue;
    }
    if (e.kind == EventKind::kCrash && !oracle.is_object()) {
      if (auto logged = unsynced_vouched_for(t, e, c.horizon)) out.push_back(std::move(*logged));
      continue;
    }
    if (e.kind != EventKind::kCrash || !oracle.is_object()) continue;
    const auto lost = oracle.value("lost_unsynced_writes", nlohmann::json::array());
    const bool torn = oracle.contains("torn_persisted");
    if (lost.empty() && !torn) continue;
    out.push_back(lost_writes(t, e, lost, torn, c.horizon));
  }
  // A request the crash lost and its requester acknowledged anyway: its story holds the restart's
  // note of the dropped transaction, when there is one, and tells more than the note alone.
  auto lost_requests = detect_requests_lost_in_crash(c);
  std::set<std::uint64_t> told;
  for (const auto& l : lost_requests) {
    if (l.facts.contains("rollback_event"))
      told.insert(l.facts["rollback_event"].get<std::uint64_t>());
  }
  std::erase_if(out, [&](const Cause& x) { return told.count(x.events.front()) > 0; });
  out.insert(out.end(), std::make_move_iterator(lost_requests.begin()),
             std::make_move_iterator(lost_requests.end()));
  // A crash that took no write back can still take the only knowledge that a side effect was done.
  auto repeats = detect_repeats_after_crash(c);
  out.insert(out.end(), std::make_move_iterator(repeats.begin()),
             std::make_move_iterator(repeats.end()));
  // Or its numbering of requests, which the receiver remembers.
  auto reused = detect_ids_reused_after_crash(c);
  out.insert(out.end(), std::make_move_iterator(reused.begin()),
             std::make_move_iterator(reused.end()));
  // Or work it held in memory that its own durable record already marked done.
  auto marked = detect_work_marked_done(c);
  out.insert(out.end(), std::make_move_iterator(marked.begin()),
             std::make_move_iterator(marked.end()));
  // Or the only copy of a write it had acknowledged and not yet passed on.
  auto unshipped = detect_unshipped_acknowledgements(c);
  out.insert(out.end(), std::make_move_iterator(unshipped.begin()),
             std::make_move_iterator(unshipped.end()));
  return out;
}

}  // namespace seer::explain
