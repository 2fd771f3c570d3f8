#include "stuck.hpp"

#include "causes.hpp"
#include "entities.hpp"
#include "seer/explain/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
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

// Each process that touched the entity: its last such event, and what happened to it after.
struct Toucher {
  int lane = kSimLane;
  std::uint64_t last = 0;
  std::uint64_t crashed = 0;    // its first crash after `last`
  std::uint64_t restarted = 0;  // its restart after that crash
  std::uint64_t next = 0;       // its next event after `last` (what it went on to do)
};

std::vector<Toucher> touchers(const Trace& trace, const std::vector<std::uint64_t>& events) {
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
    for (auto s = t.last + 1; trace.has(s); ++s) {
      const auto& e = trace.at(s);
      if (e.lane != lane) continue;
      if (!t.next && e.kind != EventKind::kCrash) t.next = s;
      if (e.kind == EventKind::kCrash && !t.crashed) t.crashed = s;
      if (e.kind == EventKind::kRestart && t.crashed) {
        t.restarted = s;
        break;
      }
      if (t.next && t.crashed) continue;
      if (t.next && !t.crashed && s - t.last > 50'000) break;  // a long run: enough to know
    }
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

std::vector<Undelivered> undelivered_sends(const Trace& trace,
                                           const std::vector<std::uint64_t>& events) {
  std::set<std::uint64_t> sent;
  for (const auto s : events) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kSend && e.message) sent.insert(e.message);
  }
  if (sent.empty()) return {};
  std::set<std::uint64_t> delivered;
  std::map<std::uint64_t, std::uint64_t> dropped;
  for (const auto& e : trace.events) {
    if (!e.message || !sent.count(e.message)) continue;
    if (e.kind == EventKind::kDeliver) delivered.insert(e.message);
    if (e.kind == EventKind::kDrop && !dropped.count(e.message)) dropped[e.message] = e.seq;
  }
  std::vector<Undelivered> out;
  for (const auto s : events) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || !e.message || delivered.count(e.message)) continue;
    const auto d = dropped.find(e.message);
    out.push_back({s, d == dropped.end() ? 0 : d->second});
  }
  return out;
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
  if (a.lost_how == "service") return ", but the service lost its reply to " + who;
  if (!a.delivered) return ", but " + who + " never learned it";
  return "";
}

std::string seconds(std::int64_t ns) {
  return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9);
}

}  // namespace

bool is_liveness_violation(const nlohmann::json& violation) {
  return violation.is_object() && violation.value("kind", std::string()) == "liveness";
}

Stuck explain_stuck(const Trace& trace, const TraceIndex& index, const std::string& entity,
                    const std::set<std::uint64_t>& touching, std::uint64_t horizon) {
  const auto& violation = trace.violation();
  const auto property = violation.value("invariant", std::string());
  std::vector<std::uint64_t> events;
  for (const auto s : touching) {
    if (s <= horizon) events.push_back(s);
  }
  Stuck out;
  auto& j = out.json;
  j = {{"property", property}, {"entity", entity}};
  nlohmann::json why = nlohmann::json::array();
  const auto heal = find_heal(trace);
  if (heal) {
    j["heal"] = {{"event", heal->seq},
                 {"time", heal->time},
                 {"restarted", heal->oracle.value("restarting", nlohmann::json::array())},
                 {"resumed", heal->oracle.value("resuming", nlohmann::json::array())},
                 {"partitions_healed", heal->oracle.value("partitions_healing", 0)}};
    j["bound_ns"] = bound_of(*heal, property);
  }
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
    if (!string_names(a.scope, entity) && !touching.count(a.served)) continue;
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
  const auto processes = touchers(trace, events);
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
    std::uint64_t crashed = 0;
    std::uint64_t restarted = 0;
    for (auto s = after + 1; trace.has(s) && s <= horizon; ++s) {
      const auto& e = trace.at(s);
      if (e.lane != change->client) continue;
      if (e.kind == EventKind::kCrash && !crashed) crashed = s;
      if (e.kind == EventKind::kRestart && crashed) {
        restarted = s;
        break;
      }
    }
    if (crashed) {
      pattern = "holder_crashed";
      const auto holder = trace.lane_name(change->client);
      j["holder"] = {{"process", holder}, {"crashed_at", crashed}, {"restarted_at", restarted}};
      why.push_back(fmt::format(
          "{} crashed at #{} ({}) after that change{}, and never changed {} again: what it was "
          "to do next with it was lost with its memory, and no other process takes it over",
          holder, crashed, format_time(trace.at(crashed).time),
          restarted ? fmt::format(" (restarted at #{})", restarted) : std::string(), entity));
    }
  }
  auto lost = undelivered_sends(trace, events);
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
  j["pattern"] = pattern.empty() ? "abandoned" : pattern;
  j["why"] = std::move(why);
  return out;
}

}  // namespace seer::explain
