// A role handed over by message and still acted on (expired_lease, `how: handed_over`). A node
// that leads (a flag in its memory: no lease, no record naming the leader) hands the role to
// another node by a message and steps down, yet still answers requests as the role holder; the
// new holder answers the same kind of request with the same values. Nothing in the trace names
// the role, so it is read from who answers a kind of request with a value over time:
// - a role answer: an answer of the type (and shape: the fields it carries) a process gives a kind
//   of request while it holds the role; the other process answered that kind of request otherwise
//   (refused it) or never before;
// - the handover: the last message from the old holder to the new one before the new one's
//   first role answer after it;
// - the late act: a role answer by the old holder after its handover send, before it heard from
//   the new holder again, carrying a value the new holder's role answer carries too.
// Only messages and their order are used: no field name, no clock, no oracle fact.
#include "causes.hpp"
#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace seer::explain {

namespace {

constexpr std::ptrdiff_t kLooked = 64;

struct Answer {
  std::uint64_t send = 0;
  int server = kSimLane;
  // What kind of answer it is: its message type and the fields it carries. A refusal may be its
  // own type (`not_leader`) or the same type shaped otherwise (`{error, leader}`, not `{number}`).
  std::string type;
  std::string name;  // its message type, for the summary
  const nlohmann::json* payload = nullptr;
};

std::string shape_of(const std::string& type, const nlohmann::json& payload) {
  std::string out = type + " {";
  for (const auto& [field, v] : payload.items()) out += field + ",";
  return out + "}";
}

// The messages one process sent another, apart from answers: their sends and their deliveries,
// each sorted, for the last delivered before an event and whether one came within a span.
struct Between {
  std::vector<std::uint64_t> sends;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> deliveries;  // (delivery, send)
};

// The scalars an answer carries, by where they sit in it, apart from the request number: two
// answers that carry the same value at the same place hand out the same thing.
void scalars_of(const nlohmann::json& j, const std::string& path,
                std::vector<std::pair<std::string, std::string>>& out, int depth = 0) {
  if (depth > 8) return;
  if (j.is_object()) {
    for (const auto& [field, v] : j.items()) {
      if (depth == 0 && field == "req") continue;
      scalars_of(v, path + "/" + field, out, depth + 1);
    }
  } else if (j.is_array()) {
    std::size_t i = 0;
    for (const auto& v : j) scalars_of(v, path + "/" + std::to_string(i++), out, depth + 1);
  } else if (j.is_number_integer()) {
    const auto n = j.get<std::int64_t>();
    if (n < -1 || n > 1) out.emplace_back(path, j.dump());
  } else if (j.is_string() && j.get_ref<const std::string&>().size() >= 2) {
    out.emplace_back(path, j.dump());
  }
}

// A value `a` and `b` both carry at the same place that `before` (the old holder's role answer
// before its handover) did not, and that the violation names: handed out anew, not a constant of
// every answer. Empty if none.
std::string shared_value(const nlohmann::json& a, const nlohmann::json& b,
                         const nlohmann::json& before, const std::set<std::string>& named) {
  std::vector<std::pair<std::string, std::string>> in_a, in_b, in_before;
  scalars_of(a, "", in_a);
  scalars_of(b, "", in_b);
  scalars_of(before, "", in_before);
  for (const auto& s : in_a) {
    if (std::find(in_b.begin(), in_b.end(), s) == in_b.end()) continue;
    if (std::find(in_before.begin(), in_before.end(), s) != in_before.end()) continue;
    const auto& text = s.second;
    const bool quoted = text.size() >= 2 && text.front() == '"';
    if (!named.count(quoted ? text.substr(1, text.size() - 2) : text)) continue;
    return text;
  }
  return {};
}

// Every answer one of the design's own processes sent to a request, by the request's type, in
// event order; and every other message between two of them, by (sender, recipient).
struct Messages {
  std::map<std::string, std::vector<Answer>> answers;
  std::map<std::pair<int, int>, Between> between;
};

Messages messages_of(const DetectContext& c) {
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  std::set<int> requesters;  // processes that asked one of the design's own processes
  Messages out;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kSend || e.lane == kSimLane || e.peer == kSimLane ||
        e.peer == e.lane || services.count(e.lane) || services.count(e.peer)) {
      continue;
    }
    const auto payload = e.line.find("payload");
    if (payload != e.line.end() && payload->is_object() && payload->contains("req")) {
      if (const auto request = request_of(t, e.seq); request && t.at(request).peer == e.peer) {
        out.answers[t.at(request).type].push_back(
            {e.seq, e.lane, shape_of(e.type, *payload), e.type, &*payload});
        continue;
      }
    }
    auto& b = out.between[{e.lane, e.peer}];
    b.sends.push_back(e.seq);
    if (const auto d = c.index.deliver_of.find(e.message); d != c.index.deliver_of.end()) {
      b.deliveries.emplace_back(d->second, e.seq);
    }
  }
  for (auto& [pair, b] : out.between) std::sort(b.deliveries.begin(), b.deliveries.end());
  return out;
}

struct Handover {
  std::uint64_t send = 0;
  std::uint64_t delivery = 0;
};

// The latest message from `from` to `to` delivered before `before`, if any.
std::optional<Handover> last_delivered(const Messages& m, int from, int to, std::uint64_t before) {
  const auto found = m.between.find({from, to});
  if (found == m.between.end()) return std::nullopt;
  const auto& d = found->second.deliveries;
  auto it = std::lower_bound(d.begin(), d.end(), std::make_pair(before, std::uint64_t{0}));
  if (it == d.begin()) return std::nullopt;
  --it;
  return Handover{it->second, it->first};
}

// Whether a message from `from` to `to` was delivered after `after` and before `before`.
bool heard_between(const Messages& m, int from, int to, std::uint64_t after, std::uint64_t before) {
  const auto found = m.between.find({from, to});
  if (found == m.between.end()) return false;
  const auto& d = found->second.deliveries;
  const auto it = std::upper_bound(d.begin(), d.end(), std::make_pair(after, ~std::uint64_t{0}));
  return it != d.end() && it->first < before;
}

// Whether `from` sent `to` a message after `after` and before `before`.
bool sent_between(const Messages& m, int from, int to, std::uint64_t after, std::uint64_t before) {
  const auto found = m.between.find({from, to});
  if (found == m.between.end()) return false;
  const auto& s = found->second.sends;
  const auto it = std::upper_bound(s.begin(), s.end(), after);
  return it != s.end() && *it < before;
}

Cause handover_cause(const Trace& t, const Handover& handover, const Answer& late,
                     const Answer& taken, const std::string& value) {
  const int old_holder = t.at(handover.send).lane;
  const int new_holder = taken.server;
  Cause cause;
  cause.kind = "expired_lease";
  cause.process = t.lane_name(old_holder);
  cause.events = {handover.send, handover.delivery, late.send, taken.send};
  cause.facts = {{"how", "handed_over"},
                 {"lease_event", handover.send},
                 {"takeover_event", handover.delivery},
                 {"act_event", late.send},
                 {"decision_event", late.send},
                 {"other_act_event", taken.send},
                 {"value", nlohmann::json::parse(value)}};
  cause.summary = fmt::format(
      "{} handed its role over to {} ({} at #{}, {}; taken over at #{}), then still answered as "
      "the holder ({} at #{}, {}), carrying {}; {} answered the same kind of request with {} "
      "too ({} at #{}, {}): the old holder acted on a role it had given away",
      cause.process, t.lane_name(new_holder), t.at(handover.send).type, handover.send,
      format_time(t.at(handover.send).time), handover.delivery, late.name, late.send,
      format_time(t.at(late.send).time), value, t.lane_name(new_holder), value, taken.name,
      taken.send, format_time(t.at(taken.send).time));
  return cause;
}

}  // namespace

std::vector<Cause> detect_handed_over_roles(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto m = messages_of(c);
  // A value two answers share explains the violation only if it names that value ("ticket 37
  // issued twice"): two replicas serving one value consistently are no conflict.
  const auto named = violation_entities(t);
  if (named.empty()) return out;
  for (const auto& [kind, answers] : m.answers) {
    // A role shows in refusals: a kind of request always answered alike (granted or not, in its
    // data) is served by whoever is asked, and no one holds it.
    // (A named reference, not the binding: clang 14 cannot capture a structured binding.)
    const auto& first_type = answers.front().type;
    const auto other_type = std::find_if(answers.begin(), answers.end(),
                                         [&](const Answer& a) { return a.type != first_type; });
    if (other_type == answers.end()) continue;
    // Each server's answers to this kind of request, in its order.
    std::map<int, std::vector<const Answer*>> by_server;
    for (const auto& a : answers) by_server[a.server].push_back(&a);
    // The types each server had answered with so far, and who had answered with each type.
    std::map<int, std::set<std::string>> answered_with;
    std::map<std::string, std::set<int>> servers_of_type;
    std::map<int, const Answer*> previous;
    for (const auto& b : answers) {
      const auto* previous_own = previous[b.server];
      const auto& own_types = answered_with[b.server];
      const bool refused_before =
          std::any_of(own_types.begin(), own_types.end(),
                      [&](const std::string& type) { return type != b.type; });
      for (const int a_lane : servers_of_type[b.type]) {
        if (a_lane == b.server) continue;
        // The handover: the last message the old holder sent this one before this answer. This
        // answer is the first since it arrived, and before it the new holder had refused this
        // kind of request or never answered it.
        const auto handover = last_delivered(m, a_lane, b.server, b.send);
        if (!handover) continue;
        if (previous_own && (previous_own->send > handover->delivery || !refused_before)) continue;
        const auto& old_answers = by_server[a_lane];
        // The old holder held the role: its last role answer before the handover.
        auto after = std::upper_bound(old_answers.begin(), old_answers.end(), handover->send,
                                      [](std::uint64_t s, const Answer* x) { return s < x->send; });
        const Answer* held = nullptr;
        for (auto it = after; it != old_answers.begin();) {
          if ((*--it)->type == b.type) {
            held = *it;
            break;
          }
        }
        if (!held) continue;
        // Its role answers after the handover, before it heard from the new holder again, that
        // hand out what the new holder's answers of this tenure hand out.
        const auto& new_answers = by_server[b.server];
        const auto first_new =
            std::lower_bound(new_answers.begin(), new_answers.end(), b.send,
                             [](const Answer* x, std::uint64_t s) { return x->send < s; });
        bool found = false;
        std::size_t looked = 0;  // a tenure's first answers tell it; a long one costs no more
        for (auto it = after;
             it != old_answers.end() && !found && ++looked <= static_cast<std::size_t>(kLooked);
             ++it) {
          const auto& late = **it;
          if (heard_between(m, b.server, a_lane, handover->send, late.send)) break;
          if (late.type != b.type) continue;
          for (auto n = first_new; n != new_answers.end() && n - first_new < kLooked; ++n) {
            const auto& taken = **n;
            if (taken.type != b.type ||
                sent_between(m, b.server, a_lane, handover->delivery, taken.send)) {
              break;
            }
            const auto value = shared_value(*late.payload, *taken.payload, *held->payload, named);
            if (value.empty()) continue;
            out.push_back(handover_cause(t, *handover, late, taken, value));
            found = true;
            break;
          }
        }
      }
      previous[b.server] = &b;
      answered_with[b.server].insert(b.type);
      servers_of_type[b.type].insert(b.server);
    }
  }
  return out;
}

}  // namespace seer::explain
