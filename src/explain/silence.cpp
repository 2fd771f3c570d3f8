#include "silence.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace seer::explain {

namespace {

// (from, to) -> the messages one process sent another, in order.
using SendLists = std::map<std::pair<int, int>, std::vector<std::uint64_t>>;

// The names (strings of 3 or more characters) `a` carries that `b` carries too: what an exchange
// is about ("t-2"), not who took part in it.
std::vector<std::string> common_names(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  std::vector<const nlohmann::json*> stack{&a};
  while (!stack.empty()) {
    const auto* j = stack.back();
    stack.pop_back();
    if (j->is_string() && j->get_ref<const std::string&>().size() >= 3) {
      const auto& n = j->get_ref<const std::string&>();
      if (shares_a_name(*j, b) && std::find(out.begin(), out.end(), n) == out.end()) {
        out.push_back(n);
      }
    } else if (j->is_object()) {
      for (const auto& [k, v] : j->items()) {
        if (k != "sql" && k != "op" && k != "type" && k != "status") stack.push_back(&v);
      }
    } else if (j->is_array()) {
      for (const auto& v : *j) stack.push_back(&v);
    }
  }
  return out;
}

bool carries_any(const nlohmann::json& payload, const std::vector<std::string>& names) {
  // Whole, or as a path component ("ledger/r-7" names "r-7").
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return flows_into(nlohmann::json(n), payload); });
}

// One request, the answer that followed it, and what the requester did without it.
struct GaveUp {
  std::uint64_t request = 0;           // the requester's send
  std::uint64_t delivered = 0;         // the server's delivery of it
  std::uint64_t answer = 0;            // the server's send of the late answer
  std::uint64_t answer_delivered = 0;  // its delivery to the requester (0: never, by the horizon)
  std::uint64_t effect = 0;       // the server's write that took the request into account (0: none)
  std::uint64_t timeout = 0;      // the requester's receive timeout: where it gave up
  const Access* write = nullptr;  // what the requester wrote on the silence
  // took_effect_after_give_up: the request took effect only after the timeout, and the requester
  // had meanwhile acted on the assumption it had not (a compensation or a retry).
  bool late = false;
  std::uint64_t act = 0;         // the requester's send (to the server) or write request
  std::uint64_t act_effect = 0;  // where that act reached the server or took effect
};

// The server's write between the request's delivery and the answer's send, causally after the one
// and before the other: where the request took effect. Of several, the one that carries something
// of the request, else the last.
std::uint64_t effect_between(const DetectContext& c, int server, std::uint64_t delivered,
                             std::uint64_t answer, const std::vector<std::string>& about) {
  std::uint64_t last = 0;
  for (const auto& a : c.index.accesses) {
    if (a.client != server || !a.write || a.served <= delivered || a.served >= answer) continue;
    if (!c.graph.happens_before(delivered, a.served) || !c.graph.happens_before(a.served, answer)) {
      continue;
    }
    if (carries_any(written_value(c.trace, a), about)) return a.served;
    last = std::max(last, a.served);
  }
  return last;
}

// Why the answer was late: the server paused between the request and the answer (only the full
// trace has pauses), or the answer was in flight when the requester gave up.
std::vector<Cause> why_answer_late(const Trace& t, const GaveUp& g) {
  std::vector<Cause> out;
  const auto& answer = t.at(g.answer);
  if (const auto pause = last_pause(t, answer.lane, g.delivered, g.answer)) {
    Cause p;
    p.kind = "process_paused";
    p.process = t.lane_name(answer.lane);
    p.events = {pause};
    p.summary = fmt::format("{} was paused at #{} ({}) between the request and its answer",
                            p.process, pause, format_time(t.at(pause).time));
    out.push_back(std::move(p));
  }
  if (g.answer < g.timeout) {
    Cause d;
    d.kind = "message_delayed";
    d.process = t.lane_name(answer.lane);
    d.events = {g.answer};
    if (g.answer_delivered) d.events.push_back(g.answer_delivered);
    d.summary = fmt::format(
        "the answer {} ({} -> {}) sent at #{} ({}) was in flight at the "
        "timeout at #{}",
        answer.message, d.process, t.lane_name(answer.peer), g.answer, format_time(answer.time),
        g.timeout);
    out.push_back(std::move(d));
  }
  return out;
}

// The lost response both stories tell: the requester gave up on a request, and the facts they
// share.
Cause give_up_cause(const Trace& t, const GaveUp& g, const char* how) {
  Cause cause;
  cause.kind = "lost_response";
  cause.process = t.lane_name(t.at(g.request).lane);
  cause.facts = {{"how", how},
                 {"request_event", g.request},
                 {"answer_event", g.answer},
                 {"timeout_event", g.timeout}};
  if (g.effect) cause.facts["effect_event"] = g.effect;
  return cause;
}

Cause cause_of(const DetectContext& c, const GaveUp& g) {
  const auto& t = c.trace;
  const auto& request = t.at(g.request);
  const auto& answer = t.at(g.answer);
  const auto requester = t.lane_name(request.lane);
  const auto server = t.lane_name(request.peer);
  auto cause = give_up_cause(t, g, "acted_on_silence");
  cause.events = {g.effect ? g.effect : g.answer, g.request, g.answer, g.timeout, g.write->served};
  if (g.answer_delivered) cause.events.push_back(g.answer_delivered);
  cause.facts["decision_event"] = g.write->served;
  if (g.answer_delivered) cause.facts["answer_delivered_event"] = g.answer_delivered;
  const auto gave_up = format_time(t.at(g.timeout).time);
  std::string state;
  if (g.answer < g.timeout) {
    state = fmt::format("its {} was already on its way (sent at #{}, {})", answer.type, g.answer,
                        format_time(answer.time));
  } else {
    state = fmt::format("it had already taken the {} into account (its write at #{}, {})",
                        request.type, g.effect, format_time(t.at(g.effect).time));
  }
  cause.summary = fmt::format(
      "{} sent {} to {} at #{} ({}) and gave up waiting at #{} ({}), but {} had acted on it: "
      "{}{}; {} then wrote {} at #{} ({}) on that silence instead of asking again: it could not "
      "know its {} had taken effect",
      requester, request.type, server, g.request, format_time(request.time), g.timeout, gave_up,
      server, state,
      g.answer_delivered
          ? fmt::format(", and the {} reached {} only at #{} ({})", answer.type, requester,
                        g.answer_delivered, format_time(t.at(g.answer_delivered).time))
          : fmt::format(", and the {} had not reached {} by the violation", answer.type, requester),
      requester, access_named(t, *g.write), g.write->served,
      format_time(t.at(g.write->served).time), request.type);
  cause.behind = why_answer_late(t, g);
  return cause;
}

// The server's write, causally between the request's delivery and its answer, that carries what
// the request was about: a storage write of its own ("res/o-3") or a write to a service.
std::uint64_t stored_between(const DetectContext& c, int server, std::uint64_t delivered,
                             std::uint64_t answer, const std::vector<std::string>& about) {
  for (auto s = delivered + 1; s < answer; ++s) {
    const auto& e = c.trace.at(s);
    if (e.lane != server || e.kind != EventKind::kStorageWrite) continue;
    if (!carries_any(nlohmann::json(e.line.value("key", std::string())), about)) continue;
    if (c.graph.happens_before(delivered, s) && c.graph.happens_before(s, answer)) return s;
  }
  return 0;
}

// The request took effect only after its requester gave up: the requester's first receive timeout
// after the request (with no other request to that server in between) came before the server's
// write (or, with none, its answer) and is not causally after it, and the requester meanwhile
// acted on the assumption it had not: it sent the server another request about the same thing (a
// compensation) that reached the server before the late request did, or wrote it elsewhere (a
// retry) before the late request took effect. Fills `g` and returns whether it holds.
bool took_effect_after_give_up(const DetectContext& c, const std::vector<std::uint64_t>& timers,
                               const std::vector<std::uint64_t>& to_server, GaveUp& g,
                               const std::vector<std::string>& about,
                               const std::set<std::uint64_t>& told) {
  const auto& t = c.trace;
  const auto requester = t.at(g.request).lane;
  const auto server = t.at(g.request).peer;
  const auto heard = g.answer_delivered ? g.answer_delivered : c.horizon + 1;
  const auto timer = std::upper_bound(timers.begin(), timers.end(), g.request);
  if (timer == timers.end() || *timer >= heard) return false;
  const auto next = std::upper_bound(to_server.begin(), to_server.end(), g.request);
  if (next != to_server.end() && *next < *timer) return false;  // the timeout was another's
  std::uint64_t effect = stored_between(c, server, g.delivered, g.answer, about);
  if (!effect) effect = effect_between(c, server, g.delivered, g.answer, about);
  const auto late = effect ? effect : g.answer;
  if (late <= *timer || c.graph.happens_before(late, *timer)) return false;
  if (crashed_between(c.index, requester, g.request, late)) return false;
  // The requester's first act on the silence: a send to the server about the same thing,
  for (auto it = next; it != to_server.end() && *it < late; ++it) {
    if (!carries_any(asked(t, *it), about)) continue;
    // A compensation is another kind of request about it. The next request of the same kind is a
    // newer version or a repeat (a server's acknowledgement sent again), the retry rules' business.
    if (t.at(*it).type == t.at(g.request).type) continue;
    const auto reached = c.index.deliver_of.find(t.at(*it).message);
    // It overtook the request: the server saw the act first and the request after it.
    if (reached == c.index.deliver_of.end() || reached->second >= g.delivered) continue;
    g.act = *it;
    g.act_effect = reached->second;
    break;
  }
  // or a write about it elsewhere, whichever came first.
  for (const auto& a : c.index.accesses) {
    if (a.client != requester || !a.write || told.count(a.served) || a.served >= late) continue;
    const auto sent = request_sent(t, c.index, a);
    if (sent <= *timer || (g.act && sent >= g.act)) continue;
    if (!carries_any(written_value(t, a), about)) continue;
    g.act = sent;
    g.act_effect = a.served;
    g.write = &a;
  }
  if (!g.act) return false;
  g.timeout = *timer;
  g.effect = effect;
  g.late = true;
  return true;
}

Cause late_effect_cause(const DetectContext& c, const GaveUp& g) {
  const auto& t = c.trace;
  const auto& request = t.at(g.request);
  const auto& act = t.at(g.act);
  const auto requester = t.lane_name(request.lane);
  const auto server = t.lane_name(request.peer);
  const auto late = g.effect ? g.effect : g.answer;
  auto cause = give_up_cause(t, g, "took_effect_after_give_up");
  cause.events = {late, g.request, g.timeout, g.act, g.act_effect, g.delivered};
  if (g.effect) cause.events.push_back(g.answer);
  cause.facts["request_delivered_event"] = g.delivered;
  cause.facts["act_event"] = g.act;
  cause.facts["act_effect_event"] = g.act_effect;
  const auto what = g.write ? fmt::format("wrote {} at #{}", access_named(t, *g.write), g.act)
                            : fmt::format("sent {} to {} at #{} (delivered at #{})", act.type,
                                          server, g.act, g.act_effect);
  cause.summary = fmt::format(
      "{} sent {} to {} at #{} ({}) and gave up waiting at #{} ({}); it then {} on the "
      "assumption the {} had not taken effect, but {} received it only at #{} ({}) and it took "
      "effect at #{} ({}), after {}'s act",
      requester, request.type, server, g.request, format_time(request.time), g.timeout,
      format_time(t.at(g.timeout).time), what, request.type, server, g.delivered,
      format_time(t.at(g.delivered).time), late, format_time(t.at(late).time), requester);
  if (const auto pause = last_pause(t, request.peer, g.delivered, late)) {
    Cause p;
    p.kind = "process_paused";
    p.process = server;
    p.events = {pause};
    p.summary = fmt::format("{} was paused at #{} ({}) between the request and its effect", server,
                            pause, format_time(t.at(pause).time));
    cause.behind.push_back(std::move(p));
  }
  return cause;
}

// The request redone through another path: the requester gave up on it (its receive timeout,
// before the answer reached it) when its answer was already on its way or it had already taken
// effect, and then sent what the violation is about to a third process, which passed it on to
// the same server in a message of its own: the server acted on it a second time. The entity the
// violation names, carried by the request, the new message and the one passed on, links the two
// paths; happens-before orders them (the timeout before the new message, its delivery before the
// message passed on).
struct Redone {
  std::uint64_t drop = 0;     // the answer's drop, if the network lost it
  std::uint64_t retry = 0;    // the requester's message to the third process
  std::uint64_t relay = 0;    // the third process's message to the server
  std::uint64_t reached = 0;  // its delivery at the server
  std::uint64_t second = 0;   // the server's answer to it (0: none by the horizon)
};

// How many of one process's messages to another are looked at after an event: a retry follows
// its give-up, and a relay its delivery, within a few messages; the bound keeps each request's
// cost independent of the trace's length.
constexpr std::ptrdiff_t kLookedAhead = 8;

// The first message `from` sent `to` after `after` (of the next kLookedAhead) that carries one of
// `names` and is causally after `cause`. 0 if none.
std::uint64_t first_carrying(const DetectContext& c, const SendLists& sends, int from, int to,
                             std::uint64_t after, std::uint64_t cause,
                             const std::vector<std::string>& names) {
  const auto list = sends.find({from, to});
  if (list == sends.end()) return 0;
  const auto first = std::upper_bound(list->second.begin(), list->second.end(), after);
  const auto end =
      list->second.end() - first > kLookedAhead ? first + kLookedAhead : list->second.end();
  for (auto it = first; it != end; ++it) {
    if (!carries_any(asked(c.trace, *it), names)) continue;
    if (c.graph.happens_before(cause, *it)) return *it;
  }
  return 0;
}

bool redone_elsewhere(const DetectContext& c, const SendLists& sends,
                      const std::vector<std::uint64_t>& timers, const std::set<int>& services,
                      const std::vector<std::string>& about, const std::set<std::string>& named,
                      GaveUp& g, Redone& r) {
  const auto& t = c.trace;
  const int requester = t.at(g.request).lane;
  const int server = t.at(g.request).peer;
  std::vector<std::string> entities;
  for (const auto& n : about) {
    if (named.count(n)) entities.push_back(n);
  }
  if (entities.empty()) return false;
  // A message that answers one its sender received is no request of its own: the one it
  // answers is.
  if (request_of(t, g.request) != 0) return false;
  const auto heard = g.answer_delivered ? g.answer_delivered : c.horizon + 1;
  const auto timer = std::upper_bound(timers.begin(), timers.end(), g.request);
  if (timer == timers.end() || *timer >= heard) return false;
  g.timeout = *timer;
  g.effect = stored_between(c, server, g.delivered, g.answer, about);
  if (!g.effect) g.effect = effect_between(c, server, g.delivered, g.answer, about);
  // Lost, not slow: the answer was on its way at the timeout, or the request had taken effect.
  if (g.answer >= g.timeout && (g.effect == 0 || g.effect >= g.timeout)) return false;
  for (const auto& entry : sends) {
    const auto [from, to] = entry.first;
    if (from != requester || to == server || services.count(to)) continue;
    const auto retry = first_carrying(c, sends, from, to, g.timeout, g.timeout, entities);
    if (!retry || retry > c.horizon || (r.retry && r.retry < retry)) continue;
    if (crashed_between(c.index, requester, g.request, retry)) continue;
    const auto delivered = c.index.deliver_of.find(t.at(retry).message);
    if (delivered == c.index.deliver_of.end() || delivered->second > c.horizon) continue;
    const auto relay =
        first_carrying(c, sends, to, server, delivered->second, delivered->second, entities);
    if (!relay) continue;
    const auto reached = c.index.deliver_of.find(t.at(relay).message);
    if (reached == c.index.deliver_of.end() || reached->second > c.horizon) continue;
    r.retry = retry;
    r.relay = relay;
    r.reached = reached->second;
  }
  if (!r.retry) return false;
  if (const auto drop = c.index.drop_of.find(t.at(g.answer).message);
      drop != c.index.drop_of.end()) {
    r.drop = drop->second;
  }
  const int via = t.at(r.relay).lane;
  r.second = first_carrying(c, sends, server, via, r.reached, r.reached, entities);
  if (r.second > c.horizon) r.second = 0;
  return true;
}

Cause redone_cause(const DetectContext& c, const GaveUp& g, const Redone& r) {
  const auto& t = c.trace;
  const auto& request = t.at(g.request);
  const auto& answer = t.at(g.answer);
  const auto& retry = t.at(r.retry);
  const auto& relay = t.at(r.relay);
  const auto requester = t.lane_name(request.lane);
  const auto server = t.lane_name(request.peer);
  auto cause = give_up_cause(t, g, "redone_elsewhere");
  cause.events = {g.answer};
  if (r.drop) cause.events.push_back(r.drop);
  cause.events.insert(cause.events.end(), {g.timeout, r.retry, r.relay, r.reached});
  if (r.second) cause.events.push_back(r.second);
  cause.events.insert(cause.events.end(), {g.request, g.delivered});
  if (g.effect) cause.events.push_back(g.effect);
  cause.facts["retry_event"] = r.retry;
  cause.facts["relay_event"] = r.relay;
  cause.facts["decision_event"] = r.retry;
  if (r.drop) cause.facts["drop_event"] = r.drop;
  if (r.second) cause.facts["second_effect_event"] = r.second;
  const auto lost = r.drop ? fmt::format("the network dropped it at #{}", r.drop)
                           : fmt::format("it was still on its way when {} gave up at #{} ({})",
                                         requester, g.timeout, format_time(t.at(g.timeout).time));
  cause.summary = fmt::format(
      "{} sent {} to {} at #{} ({}); {} acted on it{} and answered {} at #{} ({}), but {}; {} "
      "gave up waiting at #{} and sent the same to {} instead ({} at #{}, {}), which passed it on "
      "to {} ({} at #{}, delivered at #{}){}: {} acted on it a second time, by another path",
      requester, request.type, server, g.request, format_time(request.time), server,
      g.effect ? fmt::format(" (#{})", g.effect) : std::string(), answer.type, g.answer,
      format_time(answer.time), lost, requester, g.timeout, t.lane_name(retry.peer), retry.type,
      r.retry, format_time(retry.time), server, relay.type, r.relay, r.reached,
      r.second ? fmt::format(" and answered it at #{}", r.second) : std::string(), server);
  return cause;
}

}  // namespace

std::vector<Cause> detect_silent_give_ups(const DetectContext& c) {
  const auto& t = c.trace;
  // Services' replies are accesses, told by detect_lost_responses.
  const auto services = service_lanes(c.index);
  SendLists sends;
  std::map<int, std::vector<std::uint64_t>> timeouts;  // lane -> receive timeouts
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.lane == kSimLane) continue;
    if (e.kind == EventKind::kSend && e.peer != kSimLane) sends[{e.lane, e.peer}].push_back(e.seq);
    if (is_receive_timeout(e)) timeouts[e.lane].push_back(e.seq);
  }
  std::vector<Cause> out;
  std::set<std::uint64_t> told;  // writes already explained: one silence, one cause
  const auto named = violated_names(c);
  for (const auto& [pair, list] : sends) {
    const auto [requester, server] = pair;
    if (services.count(server) || services.count(requester)) continue;
    const auto waits = timeouts.find(requester);
    if (waits == timeouts.end()) continue;
    const auto back = sends.find({server, requester});
    if (back == sends.end()) continue;
    for (const auto m : list) {
      const auto delivered = c.index.deliver_of.find(t.at(m).message);
      if (delivered == c.index.deliver_of.end() || delivered->second > c.horizon) continue;
      GaveUp g;
      g.request = m;
      g.delivered = delivered->second;
      const auto request = asked(t, m);
      // The answer: the server's first message back after it received the request that is about
      // the same thing. The trace shows no request number to pair them by; the causal chain from
      // the request's delivery to the answer's send and the names both carry do.
      std::vector<std::string> about;
      for (auto it = std::upper_bound(back->second.begin(), back->second.end(), g.delivered);
           it != back->second.end(); ++it) {
        about = common_names(request, asked(t, *it));
        if (!about.empty() && c.graph.happens_before(g.delivered, *it)) {
          g.answer = *it;
          break;
        }
      }
      if (!g.answer) continue;
      const auto answered = c.index.deliver_of.find(t.at(g.answer).message);
      if (answered != c.index.deliver_of.end() && answered->second <= c.horizon) {
        g.answer_delivered = answered->second;
      }
      const auto heard = g.answer_delivered ? g.answer_delivered : c.horizon + 1;
      // The requester's first write after a receive timeout, before the answer reached it, about
      // what it had asked: it gave up and acted on the silence.
      for (const auto& a : c.index.accesses) {
        if (a.client != requester || !a.write || told.count(a.served)) continue;
        const auto sent = request_sent(t, c.index, a);
        if (sent <= m || sent >= heard || a.served > c.horizon) continue;
        if (crashed_between(c.index, requester, m, sent)) continue;
        const auto& timers = waits->second;
        const auto last = std::lower_bound(timers.begin(), timers.end(), sent);
        if (last == timers.begin() || *std::prev(last) <= m) continue;
        if (!carries_any(written_value(t, a), about)) continue;
        g.timeout = *std::prev(last);
        g.write = &a;
        break;
      }
      if (g.write) {
        g.effect = effect_between(c, server, g.delivered, g.answer, about);
        // Lost only if the answer existed when the requester gave up (it was in flight), or the
        // request had already taken effect; a server that had not acted yet is slow, not silent.
        const bool in_flight = g.answer < g.timeout;
        const bool took_effect = g.effect != 0 && g.effect < g.timeout;
        if (in_flight || took_effect) {
          told.insert(g.write->served);
          out.push_back(cause_of(c, g));
          continue;
        }
      }
      // Redone through another path, the server acting on it twice.
      if (!g.write) {
        GaveUp lost{.request = g.request,
                    .delivered = g.delivered,
                    .answer = g.answer,
                    .answer_delivered = g.answer_delivered};
        Redone redone;
        if (redone_elsewhere(c, sends, waits->second, services, about, named, lost, redone)) {
          out.push_back(redone_cause(c, lost, redone));
          continue;
        }
      }
      // Slow, then: it counts if the requester acted before the late request took effect.
      GaveUp late{.request = g.request,
                  .delivered = g.delivered,
                  .answer = g.answer,
                  .answer_delivered = g.answer_delivered};
      if (!took_effect_after_give_up(c, waits->second, list, late, about, told)) continue;
      told.insert(late.act_effect);
      out.push_back(late_effect_cause(c, late));
    }
  }
  return out;
}

}  // namespace seer::explain
