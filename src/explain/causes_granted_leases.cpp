// Leases that live in a message (expired_lease, `how: granted`). A lock server answers an acquire
// with `granted {holder, expires}`, the deadline read on its own clock; the holder keeps writing
// to the resource the lease protects after the server granted the same lease to another process.
// The holder wrote no lease of its own, so detect_expired_leases (a deadline the holder wrote)
// does not see it. What tells it: a message carrying a deadline (a number reading as the sender's
// clock ahead, in a field not named for a duration), a later message of the same type from the
// same sender to another process carrying the same thing apart from the deadline and the
// recipient's name (the same lease, given away), and the first holder's writes after that, before
// it received the lease again. With the oracle's clocks, the holder's clock says why it acted:
// behind the granter's, it still read the deadline as ahead.
#include "causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

struct Grant {
  std::uint64_t send = 0;
  std::uint64_t delivery = 0;  // 0 if it never arrived
  int granter = kSimLane;
  int holder = kSimLane;
  std::string type;
  std::int64_t deadline = 0;  // on the granter's clock
  std::int64_t expiry = 0;    // the real time the granter's clock reads the deadline
  std::vector<std::string> subject;
};

// What a grant is of, apart from when it ends and whom it names: its other data, sorted. Request
// numbers, large numbers (times, durations) and the recipient's own name are left out, so two
// grants of one lease to two processes compare equal, and grants of two jobs do not.
void subject_of(const nlohmann::json& j, const std::string& recipient,
                std::vector<std::string>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_object()) {
    for (const auto& [field, v] : j.items()) {
      if (field != "req") subject_of(v, recipient, out, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) subject_of(v, recipient, out, depth + 1);
  } else if (j.is_number()) {
    // A small number is an id or a count; a large one a time or a duration.
    if (j.is_number_integer() && j.get<std::int64_t>() >= -1000 && j.get<std::int64_t>() <= 1000) {
      out.push_back(j.dump());
    }
  } else if (!(j.is_string() && j.get_ref<const std::string&>() == recipient)) {
    out.push_back(j.dump());
  }
}

std::vector<Grant> grants_of(const DetectContext& c, const std::map<int, ProcessClock>& clocks) {
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  std::vector<Grant> out;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kSend || e.lane == kSimLane || e.peer == kSimLane ||
        e.peer == e.lane || services.count(e.lane) || services.count(e.peer)) {
      continue;
    }
    const auto payload = e.line.find("payload");
    if (payload == e.line.end() || !payload->is_object()) continue;
    // A grant answers the holder's request (an acquire); a request carrying a deadline (a retry's
    // give-up time) grants nothing.
    const auto request = request_of(t, e.seq);
    if (request == 0 || t.at(request).peer != e.peer) continue;
    const auto clock = clocks.count(e.lane) ? clocks.at(e.lane) : ProcessClock{};
    const auto local = clock.local(e.time);
    const auto deadline = deadline_in(*payload, local);
    if (!deadline) continue;
    Grant g;
    g.send = e.seq;
    const auto delivered = c.index.deliver_of.find(e.message);
    if (delivered != c.index.deliver_of.end()) g.delivery = delivered->second;
    g.granter = e.lane;
    g.holder = e.peer;
    g.type = e.type;
    g.deadline = *deadline;
    g.expiry = clock.real_when(*deadline);
    subject_of(*payload, t.lane_name(e.peer), g.subject);
    std::sort(g.subject.begin(), g.subject.end());
    out.push_back(std::move(g));
  }
  return out;
}

bool same_lease(const Grant& a, const Grant& b) {
  return a.granter == b.granter && a.type == b.type && a.subject == b.subject;
}

// The holder's writes that took effect after `after` and before `until`, requested after it took
// the grant in: the first and the last (a retry of it, say).
std::vector<const Access*> writes_under(const DetectContext& c, const Grant& g, std::uint64_t after,
                                        std::uint64_t until) {
  const auto& all = c.index.accesses;
  std::vector<const Access*> acts;
  auto it = std::upper_bound(all.begin(), all.end(), after,
                             [](std::uint64_t s, const Access& a) { return s < a.event; });
  // A write's reply may arrive after the violation or the renewal: only where it took effect
  // counts (a renewal's bound is kept on the reply, so the scan ends there).
  for (; it != all.end() && (until == c.horizon || it->event <= until); ++it) {
    const auto& a = *it;
    if (a.client != g.holder || !a.write || a.application || a.served <= after ||
        a.served > until) {
      continue;
    }
    if (request_sent(c.trace, c.index, a) <= g.delivery) continue;
    acts.push_back(&a);
  }
  if (acts.size() > 2) acts.erase(acts.begin() + 1, acts.end() - 1);
  return acts;
}

std::string lease_ms(std::int64_t ns) {
  return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

Cause granted_lease_cause(const DetectContext& c, const std::map<int, ProcessClock>& clocks,
                          const Grant& g, const Grant& other, const Access& act) {
  const auto& t = c.trace;
  const auto sent = request_sent(t, c.index, act);
  const auto real_sent = t.at(sent).time;
  const auto clock = clocks.count(g.holder) ? clocks.at(g.holder) : ProcessClock{};
  const auto local_sent = clock.local(real_sent);
  Cause cause;
  cause.kind = "expired_lease";
  cause.process = t.lane_name(g.holder);
  cause.events = {sent, act.served, g.send, g.delivery, other.send};
  cause.facts = {{"how", "granted"},
                 {"lease_event", g.send},
                 {"lease_delivery", g.delivery},
                 {"takeover_event", other.send},
                 {"expiry", g.expiry},
                 {"stamp", g.deadline},
                 {"act_event", act.served},
                 {"act_sent_real_ns", real_sent},
                 {"act_sent_local_ns", local_sent},
                 {"decision_event", act.served}};
  std::string why = "it acted without asking again";
  if (local_sent < g.deadline && real_sent >= g.expiry) {
    Cause behind;
    behind.kind = "clock_behind";
    behind.process = cause.process;
    behind.events = {sent};
    behind.summary =
        fmt::format("{}'s clock read {} when {}'s read {}", cause.process, lease_ms(local_sent),
                    t.lane_name(g.granter), lease_ms(g.deadline));
    cause.behind.push_back(std::move(behind));
    why = fmt::format(
        "its clock read {} when it sent the request at real {}, before the deadline {} that {}'s "
        "clock had passed at real {}",
        lease_ms(local_sent), format_time(real_sent), lease_ms(g.deadline), t.lane_name(g.granter),
        format_time(g.expiry));
  }
  cause.summary = fmt::format(
      "{} acted ({} at #{}, {}) on the lease {} granted it at #{} ({} until {} on {}'s clock), "
      "after {} had granted it to {} at #{} ({}): {}",
      cause.process, access_named(t, act), act.served, format_time(t.at(act.served).time),
      t.lane_name(g.granter), g.send, g.type, lease_ms(g.deadline), t.lane_name(g.granter),
      t.lane_name(g.granter), t.lane_name(other.holder), other.send,
      format_time(t.at(other.send).time), why);
  return cause;
}

}  // namespace

std::vector<Cause> detect_granted_leases(const DetectContext& c) {
  std::vector<Cause> out;
  const auto clocks = clocks_of(c.trace);
  const auto grants = grants_of(c, clocks);
  if (grants.size() < 2) return out;
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const auto& g = grants[i];
    if (!g.delivery) continue;
    // The same lease given to another process later, and the holder's next grant of it (a
    // renewal: what it did after that was under the new one).
    const Grant* other = nullptr;
    std::uint64_t renewed = c.horizon;
    for (std::size_t j = i + 1; j < grants.size(); ++j) {
      const auto& n = grants[j];
      if (!same_lease(g, n)) continue;
      if (n.holder == g.holder) {
        if (n.delivery) {
          renewed = n.delivery;
          break;
        }
      } else if (!other) {
        other = &n;
      }
    }
    if (!other || other->send >= renewed) continue;
    for (const auto* act : writes_under(c, g, other->send, renewed)) {
      out.push_back(granted_lease_cause(c, clocks, g, *other, *act));
    }
  }
  return out;
}

}  // namespace seer::explain
