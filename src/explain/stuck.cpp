#include "stuck.hpp"

#include "causes.hpp"
#include "entities.hpp"
#include "seer/explain/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

namespace seer::explain {

namespace {

struct Heal {
  std::uint64_t seq = 0;
  std::int64_t time = 0;
  nlohmann::json oracle;
};

std::optional<Heal> find_heal(const Trace& trace) {
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kAnnotation && e.line.value("what", std::string()) == "heal") {
      return Heal{e.seq, e.time, e.oracle()};
    }
  }
  return std::nullopt;
}

// The property's bound, as the heal annotation lists it.
std::int64_t bound_of(const Heal& heal, const std::string& property) {
  const auto it = heal.oracle.find("liveness");
  if (it == heal.oracle.end() || !it->is_array()) return 0;
  for (const auto& l : *it) {
    if (l.is_object() && l.value("name", std::string()) == property) {
      return l.value("bound_ns", std::int64_t{0});
    }
  }
  return 0;
}

// Each process's events in order, and its crashes and restarts: built once, so what a process did
// after an event is a binary search, not a scan to the end of the trace per process.
class LaneEvents {
 public:
  explicit LaneEvents(const Trace& trace) {
    for (const auto& e : trace.events) {
      if (e.lane == kSimLane) continue;
      if (e.kind != EventKind::kCrash) steps_[e.lane].push_back(e.seq);
      if (e.kind == EventKind::kCrash) crashes_[e.lane].push_back(e.seq);
      if (e.kind == EventKind::kRestart) restarts_[e.lane].push_back(e.seq);
    }
  }

  // The process's next event after `s` other than a crash (what it went on to do), 0 if none.
  std::uint64_t next_after(int lane, std::uint64_t s) const { return first_after(steps_, lane, s); }

  // Its first crash after `s` up to `horizon`, and its restart after that crash up to `horizon`.
  std::pair<std::uint64_t, std::uint64_t> crash_after(int lane, std::uint64_t s,
                                                      std::uint64_t horizon) const {
    const auto crashed = first_after(crashes_, lane, s);
    if (!crashed || crashed > horizon) return {0, 0};
    const auto restarted = first_after(restarts_, lane, crashed);
    return {crashed, restarted <= horizon ? restarted : 0};
  }

 private:
  using ByLane = std::map<int, std::vector<std::uint64_t>>;
  static std::uint64_t first_after(const ByLane& by_lane, int lane, std::uint64_t s) {
    const auto it = by_lane.find(lane);
    if (it == by_lane.end()) return 0;
    const auto next = std::upper_bound(it->second.begin(), it->second.end(), s);
    return next == it->second.end() ? 0 : *next;
  }
  ByLane steps_;
  ByLane crashes_;
  ByLane restarts_;
};

// Each process that touched the entity: its last such event, and what happened to it after.
struct Toucher {
  int lane = kSimLane;
  std::uint64_t last = 0;
  std::uint64_t crashed = 0;    // its first crash after `last`
  std::uint64_t restarted = 0;  // its restart after that crash
  std::uint64_t next = 0;       // its next event after `last` (what it went on to do)
};

std::vector<Toucher> touchers(const LaneEvents& lanes, const Trace& trace,
                              const std::vector<std::uint64_t>& events) {
  std::map<int, Toucher> by_lane;
  for (const auto s : events) {
    const int lane = trace.at(s).lane;
    if (lane == kSimLane) continue;
    auto& t = by_lane[lane];
    t.lane = lane;
    t.last = std::max(t.last, s);
  }
  std::vector<Toucher> out;
  for (auto& [lane, t] : by_lane) {
    t.next = lanes.next_after(lane, t.last);
    std::tie(t.crashed, t.restarted) =
        lanes.crash_after(lane, t.last, std::numeric_limits<std::uint64_t>::max());
    out.push_back(t);
  }
  std::sort(out.begin(), out.end(),
            [](const Toucher& a, const Toucher& b) { return a.last > b.last; });
  return out;
}

// Sends naming the entity whose message never arrived: dropped by the network, or still in flight
// when the run ended.
struct Undelivered {
  std::uint64_t send = 0;
  std::uint64_t dropped = 0;  // the drop event, 0 if it was still in flight
};

std::vector<Undelivered> undelivered_sends(const Trace& trace, const TraceIndex& index,
                                           const std::vector<std::uint64_t>& events) {
  std::vector<Undelivered> out;
  for (const auto s : events) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || !e.message || index.deliver_of.count(e.message)) continue;
    const auto d = index.drop_of.find(e.message);
    out.push_back({s, d == index.drop_of.end() ? 0 : d->second});
  }
  return out;
}

void add_heal(nlohmann::json& j, const Heal& heal, const std::string& property) {
  j["heal"] = {{"event", heal.seq},
               {"time", heal.time},
               {"restarted", heal.oracle.value("restarting", nlohmann::json::array())},
               {"resumed", heal.oracle.value("resuming", nlohmann::json::array())},
               {"partitions_healed", heal.oracle.value("partitions_healing", 0)}};
  j["bound_ns"] = bound_of(heal, property);
}

std::string names_list(const nlohmann::json& names) {
  std::string out;
  if (!names.is_array()) return out;
  for (const auto& n : names) {
    if (!n.is_string()) continue;
    out += (out.empty() ? "" : ", ") + n.get<std::string>();
  }
  return out;
}

// How the writer of a change failed to learn of it, if it did.
std::string lost_reply_text(const Access& a, const Trace& trace) {
  const auto who = trace.lane_name(a.client);
  if (a.lost_how == "late") return ", but its reply reached " + who + " after it had given up";
  if (a.lost_how == "network_drop") return ", but the network dropped its reply to " + who;
  if (a.lost_how == "receiver_down") return ", but " + who + " was down when its reply came";
  if (a.lost_how == "service") return ", but the service lost its reply to " + who;
  if (!a.delivered) return ", but " + who + " never learned it";
  return "";
}

std::string seconds(std::int64_t ns) {
  return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9);
}

// What an operation asked, without its bookkeeping (correlation ids, request numbers, the
// connection's life): two invokes with the same signature ask the same thing again.
nlohmann::json without_bookkeeping(const nlohmann::json& j) {
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(without_bookkeeping(v));
    return out;
  }
  if (!j.is_object()) return j;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : j.items()) {
    if (k == "corrId" || k == "call" || k == "req" || k == "life" || k == "serial" ||
        k == "attempt" || k == "try" || k == "retry" || k == "expected") {
      continue;
    }
    out[k] = without_bookkeeping(v);
  }
  return out;
}

std::string signature(const TraceEvent& invoke) {
  return invoke.line.value("f", std::string()) + " " +
         without_bookkeeping(invoke.line.value("value", nlohmann::json())).dump();
}

// The complete event of `invoke` (its parents name the invoke), 0 if the operation never ended.
std::uint64_t complete_of(const Trace& trace, std::uint64_t invoke, std::uint64_t horizon) {
  const int lane = trace.at(invoke).lane;
  for (auto s = invoke + 1; s <= horizon && trace.has(s); ++s) {
    const auto& e = trace.at(s);
    if (e.lane != lane) continue;
    if (e.kind == EventKind::kCrash) return 0;
    if (e.kind != EventKind::kComplete) continue;
    if (std::find(e.parents.begin(), e.parents.end(), invoke) != e.parents.end()) return s;
  }
  return 0;
}

// A process that kept the entity alive: after the heal, most of its operations on it (the invokes
// naming it) asked one same thing again and again (a heartbeat, a lease renewal), at least twice,
// and its last other operation on it before the first of those did not end ok (no answer:
// `info`, a failure, or no completion at all). It held the entity and never finished or released
// it.
struct KeptAlive {
  int lane = kSimLane;
  std::uint64_t attempt = 0;
  std::uint64_t outcome = 0;  // the attempt's complete, 0 if none
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::size_t renewals = 0;
};

std::optional<KeptAlive> find_kept_alive(const Trace& trace,
                                         const std::vector<std::uint64_t>& events,
                                         std::uint64_t heal, std::uint64_t horizon) {
  std::map<int, std::vector<std::uint64_t>> invokes;
  for (const auto s : events) {
    const auto& e = trace.at(s);
    if (e.lane != kSimLane && e.kind == EventKind::kInvoke) invokes[e.lane].push_back(s);
  }
  std::optional<KeptAlive> best;
  for (const auto& [lane, list] : invokes) {
    // The renewal: the signature most of its operations on it after the heal had.
    std::map<std::string, std::size_t> after_heal;
    std::size_t total = 0;
    for (const auto s : list) {
      if (s <= heal) continue;
      ++after_heal[signature(trace.at(s))];
      ++total;
    }
    std::string renewal;
    std::size_t most = 0;
    for (const auto& [sig, n] : after_heal) {
      if (n > most) std::tie(renewal, most) = std::tie(sig, n);
    }
    if (most < 2 || 2 * most <= total) continue;
    KeptAlive k;
    k.lane = lane;
    for (const auto s : list) {
      if (signature(trace.at(s)) != renewal) continue;
      if (!k.first) k.first = s;
      k.last = s;
      ++k.renewals;
    }
    // Its last other operation on the entity before the renewals began.
    for (const auto s : list) {
      if (s >= k.first) break;
      k.attempt = s;
    }
    if (!k.attempt) continue;  // nothing but renewals: no operation it dropped
    k.outcome = complete_of(trace, k.attempt, horizon);
    if (k.outcome && trace.at(k.outcome).line.value("type", std::string()) == "ok") continue;
    if (!best || k.last > best->last) best = k;
  }
  return best;
}

// "task.fulfill", else the event's kind.
std::string operation_name(const Trace& trace, std::uint64_t invoke) {
  return trace.at(invoke).line.value("f", std::string("an operation"));
}

// "no answer (info: connection reset, #1562)", or "no answer: it never completed".
std::string outcome_text(const Trace& trace, std::uint64_t outcome) {
  if (!outcome) return "no answer: it never completed";
  const auto& c = trace.at(outcome);
  const auto type = c.line.value("type", std::string("info"));
  const auto error = c.line.value("error", std::string());
  return fmt::format("no answer ({}{} at #{})", type, error.empty() ? "" : ": " + error, outcome);
}

}  // namespace

bool is_liveness_violation(const nlohmann::json& violation) {
  return violation.is_object() && violation.value("kind", std::string()) == "liveness";
}

Stuck explain_stuck(const Trace& trace, const TraceIndex& index, const std::string& entity,
                    const std::set<std::uint64_t>& touching, std::uint64_t horizon) {
  const auto& violation = trace.violation();
  const auto property = violation.value("invariant", std::string());
  // A process awaited by name (a final reader that never read) is touched by its own events too.
  std::set<std::uint64_t> touched = touching;
  for (std::size_t lane = 0; lane < trace.processes.size(); ++lane) {
    if (trace.processes[lane] != entity) continue;
    for (const auto& e : trace.events) {
      if (e.lane == static_cast<int>(lane)) touched.insert(e.seq);
    }
  }
  std::vector<std::uint64_t> events;
  for (const auto s : touched) {
    if (s <= horizon) events.push_back(s);
  }
  Stuck out;
  auto& j = out.json;
  j = {{"property", property}, {"entity", entity}};
  nlohmann::json why = nlohmann::json::array();
  const auto heal = find_heal(trace);
  if (heal) add_heal(j, *heal, property);
  if (events.empty()) {
    j["pattern"] = "never_touched";
    why.push_back(fmt::format("no event of the run touched {}: nothing ever started it", entity));
    j["why"] = std::move(why);
    return out;
  }
  out.last_progress = events.back();
  const auto& last = trace.at(out.last_progress);
  j["last_progress"] = {{"event", out.last_progress},
                        {"time", last.time},
                        {"process", trace.lane_name(last.lane)},
                        {"text", describe_event(trace, out.last_progress)}};

  // The last change: the last write that took effect on it (a service's key, a row, a request
  // naming it); who made it holds what the entity is now.
  const Access* change = nullptr;
  for (const auto& a : index.accesses) {
    if (!a.write || a.served > horizon) continue;
    if (!string_names(a.scope, entity) && !touched.count(a.served)) continue;
    if (!change || a.served > change->served) change = &a;
  }
  if (change) {
    j["last_change"] = {{"event", change->served},
                        {"time", trace.at(change->served).time},
                        {"process", trace.lane_name(change->client)},
                        {"service", trace.lane_name(change->server)},
                        {"op", change->op}};
    why.push_back(fmt::format("its last change: {}'s {}({}) took effect on {} at #{} ({}){}",
                              trace.lane_name(change->client), change->op, change->scope,
                              trace.lane_name(change->server), change->served,
                              format_time(trace.at(change->served).time),
                              lost_reply_text(*change, trace)));
  }
  why.push_back(fmt::format("the last event that touched {}: {}", entity,
                            describe_event(trace, out.last_progress)));
  const LaneEvents lanes(trace);
  const auto processes = touchers(lanes, trace, events);
  nlohmann::json fates = nlohmann::json::array();
  std::string pattern;
  for (const auto& t : processes) {
    nlohmann::json f = {{"process", trace.lane_name(t.lane)}, {"last_event", t.last}};
    if (t.next) f["next_event"] = t.next;
    if (t.crashed) f["crashed_at"] = t.crashed;
    if (t.restarted) f["restarted_at"] = t.restarted;
    fates.push_back(std::move(f));
  }
  j["processes"] = std::move(fates);
  // The process that changed it last crashed after that change and never changed it again: it
  // held the entity (a claim, a lease, a task marked taken) and what it meant to do next died
  // with it.
  if (change && change->client != kSimLane) {
    const auto after = std::max(change->event, change->served);
    const auto [crashed, restarted] = lanes.crash_after(change->client, after, horizon);
    if (crashed) {
      pattern = "holder_crashed";
      out.holder = change->client;
      out.holder_crashed = crashed;
      for (const auto& t : processes) {
        if (t.lane == change->client) out.holder_last = t.last;
      }
      const auto holder = trace.lane_name(change->client);
      j["holder"] = {{"process", holder}, {"crashed_at", crashed}, {"restarted_at", restarted}};
      why.push_back(fmt::format(
          "{} crashed at #{} ({}) after that change{}, and never changed {} again: what it was "
          "to do next with it was lost with its memory, and no other process takes it over",
          holder, crashed, format_time(trace.at(crashed).time),
          restarted ? fmt::format(" (restarted at #{})", restarted) : std::string(), entity));
    }
  }
  // Or the latest process to work on it (it took it, acknowledged it, wrote half of it) that
  // crashed after that and never came back to it, with no change to it since the crash: it held
  // the entity in memory, with no write anyone could see.
  const Toucher* crashed_worker = nullptr;
  for (const auto& t : processes) {
    if (t.crashed && t.crashed <= horizon) {
      crashed_worker = &t;
      break;
    }
  }
  if (crashed_worker && change && change->served > crashed_worker->crashed) {
    crashed_worker = nullptr;  // someone changed it after that crash: not what held it up
  }
  if (pattern.empty() && crashed_worker) {
    const auto& w = *crashed_worker;
    pattern = "holder_crashed";
    out.holder = w.lane;
    out.holder_last = w.last;
    out.holder_crashed = w.crashed;
    const auto restarted = w.restarted <= horizon ? w.restarted : 0;
    const auto holder = trace.lane_name(w.lane);
    j["holder"] = {{"process", holder},
                   {"last_event", w.last},
                   {"crashed_at", w.crashed},
                   {"restarted_at", restarted}};
    why.push_back(fmt::format(
        "{} was the last to work on {} (#{}), crashed at #{} ({}){} and never came back to it: "
        "what it held of {} in memory was lost with it",
        holder, entity, w.last, w.crashed, format_time(trace.at(w.crashed).time),
        restarted ? fmt::format(" (restarted at #{})", restarted) : std::string(), entity));
  }
  auto lost = undelivered_sends(trace, index, events);
  // A message a later one of the same process naming it superseded (a retry that arrived) is not
  // why nothing followed.
  lost.erase(std::remove_if(lost.begin(), lost.end(),
                            [&](const Undelivered& u) {
                              const int lane = trace.at(u.send).lane;
                              return std::any_of(
                                  events.begin(), events.end(), [&](std::uint64_t s) {
                                    const auto& e = trace.at(s);
                                    return s > u.send && e.kind == EventKind::kSend &&
                                           e.lane == lane && index.deliver_of.count(e.message);
                                  });
                            }),
             lost.end());
  if (!lost.empty()) {
    nlohmann::json l = nlohmann::json::array();
    for (const auto& u : lost) {
      l.push_back({{"send", u.send}, {"dropped", u.dropped}});
    }
    j["undelivered"] = std::move(l);
    const auto& u = lost.back();
    const auto& send = trace.at(u.send);
    // The last thing that happened to it was a message that never arrived.
    if (pattern.empty() && (u.send == out.last_progress || u.dropped == out.last_progress)) {
      pattern = "message_lost";
    }
    why.push_back(
        fmt::format("{} message(s) naming it never arrived; the last, {} from {} to {} at #{}, {}",
                    lost.size(), send.type.empty() ? std::string("a message") : send.type,
                    trace.lane_name(send.lane), trace.lane_name(send.peer), u.send,
                    u.dropped ? fmt::format("was dropped at #{}", u.dropped)
                              : std::string("was still in flight when the run ended")));
  }
  const auto& final_toucher = processes.empty() ? Toucher{} : processes.front();
  if (final_toucher.next && !final_toucher.crashed) {
    why.push_back(fmt::format("then {} went on without it: {}", trace.lane_name(final_toucher.lane),
                              describe_event(trace, final_toucher.next)));
  }
  if (heal) {
    const auto after =
        std::count_if(events.begin(), events.end(), [&](std::uint64_t s) { return s > heal->seq; });
    j["touched_after_heal"] = after;
    std::string healed;
    const auto restarted = names_list(heal->oracle.value("restarting", nlohmann::json::array()));
    if (!restarted.empty()) healed += "restarted " + restarted + "; ";
    const auto resumed = names_list(heal->oracle.value("resuming", nlohmann::json::array()));
    if (!resumed.empty()) healed += "resumed " + resumed + "; ";
    const auto partitions = heal->oracle.value("partitions_healing", 0);
    if (partitions > 0) healed += fmt::format("healed {} partition(s); ", partitions);
    if (after == 0) {
      if (pattern.empty()) pattern = "abandoned";
      why.push_back(fmt::format(
          "after the heal at #{} ({}{}) no event touched {} for {}: no process was left with it "
          "to do, so nothing retried it",
          heal->seq, format_time(heal->time),
          healed.empty() ? "" : ": " + healed.substr(0, healed.size() - 2), entity,
          seconds(j.value("bound_ns", std::int64_t{0}))));
    } else {
      const bool changed_after = change && change->served > heal->seq;
      if (pattern.empty()) pattern = changed_after ? "no_convergence" : "left_as_is";
      std::set<std::string> readers;
      for (const auto s : events) {
        if (s > heal->seq && trace.at(s).lane != kSimLane) {
          readers.insert(trace.lane_name(trace.at(s).lane));
        }
      }
      std::string who;
      for (const auto& r : readers) who += (who.empty() ? "" : ", ") + r;
      why.push_back(
          changed_after
              ? fmt::format("after the heal at #{} ({}), {} event(s) of {} still touched {} and "
                            "changed it, the last at #{}, without bringing it about: the design "
                            "kept working on it and did not converge",
                            heal->seq, format_time(heal->time), after, who, entity, events.back())
              : fmt::format("after the heal at #{} ({}), {} looked at {} ({} event(s), the last "
                            "at #{}) and none changed it: each left it as it was",
                            heal->seq, format_time(heal->time), who, entity, after, events.back()));
    }
  }
  // A holder that did not crash but kept the entity alive: its renewals are not progress; the
  // operation before them that got no answer is where the design dropped it.
  if (heal && pattern != "holder_crashed") {
    if (const auto k = find_kept_alive(trace, events, heal->seq, horizon)) {
      pattern = "kept_alive";
      out.keeper = k->lane;
      out.attempt = k->attempt;
      out.attempt_outcome = k->outcome;
      out.renewal_first = k->first;
      out.renewal_last = k->last;
      out.renewals = k->renewals;
      out.last_progress = k->outcome ? k->outcome : k->attempt;
      const auto keeper = trace.lane_name(k->lane);
      const auto attempt = operation_name(trace, k->attempt);
      const auto renewal = operation_name(trace, k->first);
      j["last_progress"] = {{"event", out.last_progress},
                            {"time", trace.at(out.last_progress).time},
                            {"process", keeper},
                            {"text", describe_event(trace, out.last_progress)}};
      j["kept_alive"] = {
          {"process", keeper},
          {"attempt", {{"invoke", k->attempt}, {"f", attempt}}},
          {"renewal",
           {{"f", renewal}, {"first", k->first}, {"last", k->last}, {"count", k->renewals}}}};
      if (k->outcome) {
        const auto& c = trace.at(k->outcome);
        j["kept_alive"]["attempt"]["complete"] = k->outcome;
        j["kept_alive"]["attempt"]["type"] = c.line.value("type", std::string());
        if (c.line.contains("error")) j["kept_alive"]["attempt"]["error"] = c.line["error"];
      }
      why.insert(
          why.begin(),
          fmt::format(
              "{} held {}: its last operation on it before the renewals, {} at #{}, got {}; from "
              "#{} "
              "on it renewed it ({}, {} time(s), the last at #{}), which kept it held without "
              "finishing it or letting it go, so no other process could take it over",
              keeper, entity, attempt, k->attempt, outcome_text(trace, k->outcome), k->first,
              renewal, k->renewals, k->last));
    }
  }
  // Or a process that visited it on its own (a sweep) and stopped, while it went on with the
  // others: nothing took the entity away, the process forgot it.
  if (heal && pattern != "holder_crashed" && pattern != "kept_alive") {
    if (auto f = find_forgotten(trace, index, entity, touching, heal->seq, horizon)) {
      pattern = "forgotten";
      const auto who = trace.lane_name(f->lane);
      j["forgotten"] = {{"process", who},
                        {"key", f->key},
                        {"last_visit", f->last_visit},
                        {"visits", f->visits},
                        {"listings", f->listings.size()},
                        {"other_visits", f->other_visits.size()},
                        {"after_heal", f->after_heal}};
      why.insert(why.begin(),
                 fmt::format("{} visited {} on its own until #{} ({}), then never again while it "
                             "went on ({} listing(s) that still showed it, {} visit(s) of other "
                             "keys, {} after the heal): it forgot {}",
                             who, f->key, f->last_visit, format_time(trace.at(f->last_visit).time),
                             f->listings.size(), f->other_visits.size(), f->after_heal, f->key));
      // The analysis starts where the design dropped it: the last visit's answer.
      out.last_progress = f->last_reply ? f->last_reply : f->last_visit;
      j["last_progress"] = {{"event", out.last_progress},
                            {"time", trace.at(out.last_progress).time},
                            {"process", who},
                            {"text", describe_event(trace, out.last_progress)}};
      out.forgotten = std::move(f);
    }
  }
  // Nobody held it and nothing was lost: the processes still at it after the heal asked a peer
  // that received every request and answered none.
  if (heal && pattern != "holder_crashed" && pattern != "kept_alive" && pattern != "forgotten") {
    std::set<int> waiters;
    for (const auto s : events) {
      if (s > heal->seq && trace.at(s).lane != kSimLane) waiters.insert(trace.at(s).lane);
    }
    if (auto u = find_unanswered(trace, waiters, heal->seq, horizon)) {
      pattern = "unanswered";
      j["unanswered"] = {{"waiter", trace.lane_name(u->waiter)},
                         {"peer", trace.lane_name(u->peer)},
                         {"request", u->type},
                         {"received", u->received.size()},
                         {"first", u->received.front()},
                         {"last", u->received.back()}};
      why.insert(why.begin(), unanswered_text(trace, *u, entity));
      out.unanswered = std::move(u);
    }
  }
  j["pattern"] = pattern.empty() ? "abandoned" : pattern;
  j["why"] = std::move(why);
  return out;
}

Stuck explain_unnamed_stuck(const Trace& trace, std::uint64_t horizon) {
  const auto property = trace.violation().value("invariant", std::string());
  Stuck out;
  auto& j = out.json;
  j = {{"property", property}, {"entity", nullptr}, {"pattern", "unnamed"}};
  nlohmann::json why = nlohmann::json::array();
  why.push_back(fmt::format(
      "the property named nothing it waited for, so explain cannot follow one entity; a check "
      "that returns sim::Finding{{text, {{entity}}}} lets it say why that entity never came "
      "about"));
  const auto heal = find_heal(trace);
  if (heal) add_heal(j, *heal, property);
  // Who was still at work after the heal (or in the whole run, without one), and who stayed down.
  const std::uint64_t from = heal ? heal->seq : 0;
  std::map<int, std::uint64_t> last_of;
  std::map<int, bool> down;
  for (const auto& e : trace.events) {
    if (e.seq > horizon) break;
    if (e.lane == kSimLane) continue;
    if (e.kind == EventKind::kCrash) down[e.lane] = true;
    if (e.kind == EventKind::kRestart) down[e.lane] = false;
    if (e.seq > from && e.kind != EventKind::kCrash) last_of[e.lane] = e.seq;
  }
  nlohmann::json active = nlohmann::json::array();
  std::uint64_t last = 0;
  for (const auto& [lane, s] : last_of) {
    active.push_back({{"process", trace.lane_name(lane)}, {"last_event", s}});
    last = std::max(last, s);
  }
  nlohmann::json stayed_down = nlohmann::json::array();
  for (const auto& [lane, is_down] : down) {
    if (is_down) stayed_down.push_back(trace.lane_name(lane));
  }
  j["active_after_heal"] = active;
  j["down"] = stayed_down;
  if (last) {
    out.last_progress = last;
    j["last_progress"] = {{"event", last},
                          {"time", trace.at(last).time},
                          {"process", trace.lane_name(trace.at(last).lane)},
                          {"text", describe_event(trace, last)}};
  }
  const std::string since =
      heal ? fmt::format("after the heal at #{} ({})", heal->seq, format_time(heal->time))
           : std::string("in the run");
  if (active.empty()) {
    why.push_back(fmt::format("{} no process did anything: none was left with work to do", since));
  } else {
    std::string who;
    for (const auto& a : active) who += (who.empty() ? "" : ", ") + a["process"].get<std::string>();
    why.push_back(fmt::format("{} {} kept running; the last event: {}", since, who,
                              describe_event(trace, last)));
  }
  if (!stayed_down.empty()) {
    why.push_back(fmt::format("down when the property was checked: {}", names_list(stayed_down)));
  }
  j["why"] = std::move(why);
  return out;
}

std::optional<Cause> holder_crash_cause(const Trace& trace, const Stuck& stuck,
                                        const std::string& entity) {
  if (stuck.holder == kSimLane || !stuck.holder_crashed || !trace.has(stuck.holder_crashed)) {
    return std::nullopt;
  }
  Cause c;
  c.kind = "crash_lost_data";
  c.process = trace.lane_name(stuck.holder);
  if (trace.has(stuck.holder_last)) c.events.push_back(stuck.holder_last);
  c.events.push_back(stuck.holder_crashed);
  c.facts = {{"entity", entity}, {"crash", stuck.holder_crashed}};
  const auto& crash = trace.at(stuck.holder_crashed);
  if (crash.oracle().is_object()) c.facts["lost"] = crash.oracle();
  c.summary = fmt::format(
      "{} crashed at #{} ({}) holding {}: its last event on it was #{} ({}), and it never came "
      "back to it; what it had taken on for {} (in memory, not written anywhere another process "
      "would find it) died with it",
      c.process, stuck.holder_crashed, format_time(crash.time), entity, stuck.holder_last,
      describe_event(trace, stuck.holder_last), entity);
  return c;
}

std::optional<Cause> kept_alive_cause(const Trace& trace, const Stuck& stuck,
                                      const std::string& entity) {
  if (stuck.keeper == kSimLane || !trace.has(stuck.attempt)) return std::nullopt;
  Cause c;
  c.kind = "kept_alive";
  c.process = trace.lane_name(stuck.keeper);
  // The outcome first (where it dropped the entity), the attempt, what answered it instead (the
  // delivery the completion followed and its send), the renewals.
  if (stuck.attempt_outcome) {
    c.events.push_back(stuck.attempt_outcome);
    const auto& done = trace.at(stuck.attempt_outcome);
    if (!done.parents.empty() && trace.has(done.parents.front())) {
      const auto& before = trace.at(done.parents.front());
      if (before.kind == EventKind::kDeliver) {
        c.events.push_back(done.parents.front());
        if (before.parents.size() > 1) c.events.push_back(before.parents.back());
      }
    }
  }
  c.events.push_back(stuck.attempt);
  c.events.push_back(stuck.renewal_first);
  if (stuck.renewal_last != stuck.renewal_first) c.events.push_back(stuck.renewal_last);
  const auto attempt = operation_name(trace, stuck.attempt);
  const auto renewal = operation_name(trace, stuck.renewal_first);
  c.facts = {{"entity", entity},
             {"attempt_event", stuck.attempt},
             {"attempt", attempt},
             {"renewal", renewal},
             {"renewals", stuck.renewals},
             {"first_renewal_event", stuck.renewal_first},
             {"last_renewal_event", stuck.renewal_last}};
  if (stuck.attempt_outcome) c.facts["outcome_event"] = stuck.attempt_outcome;
  c.summary = fmt::format(
      "{}'s {} on {} at #{} ({}) got {}; {} neither tried it again nor let {} go: it renewed it "
      "instead ({}, {} time(s) from #{} to #{}), so {} stayed held by a process that would never "
      "finish it",
      c.process, attempt, entity, stuck.attempt, format_time(trace.at(stuck.attempt).time),
      outcome_text(trace, stuck.attempt_outcome), c.process, entity, renewal, stuck.renewals,
      stuck.renewal_first, stuck.renewal_last, entity);
  return c;
}

std::optional<Cause> unanswered_stuck_cause(const Trace& trace, const Stuck& stuck,
                                            const std::string& entity) {
  if (!stuck.unanswered) return std::nullopt;
  return unanswered_cause(trace, *stuck.unanswered, entity);
}

}  // namespace seer::explain
