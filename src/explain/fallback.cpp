#include "fallback.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// The decisions looked at (the last ones before the violation), and how far each is walked back:
// the bounds keep the cost independent of the trace's length.
constexpr std::size_t kDecisions = 3;
constexpr std::size_t kInputsWalked = 64;

// A decision on the violated entity: a message or a write of one of the design's processes.
struct Decision {
  std::uint64_t event = 0;   // the send (of a message, or of a write's request)
  std::uint64_t effect = 0;  // where it took effect (the write's server event, the delivery)
  int lane = kSimLane;
};

// The last decisions before the horizon naming a violated entity, newest first.
std::vector<Decision> decisions_on(const DetectContext& c, const std::set<std::string>& named,
                                   const std::set<int>& services) {
  const auto& t = c.trace;
  std::map<std::uint64_t, std::uint64_t> writes;  // request send -> where it took effect
  for (const auto& a : c.index.accesses) {
    if (!a.write || a.application || a.served > c.horizon) continue;
    writes.emplace(request_sent(t, c.index, a), a.served);
  }
  std::vector<Decision> out;
  const auto sends = sends_naming(c, named);
  for (auto it = sends.rbegin(); it != sends.rend(); ++it) {
    const auto s = *it;
    const auto& e = t.at(s);
    if (services.count(e.lane)) continue;
    const auto write = writes.find(s);
    if (services.count(e.peer) && write == writes.end()) continue;  // a read, not a decision
    // A message takes effect where it is delivered.
    auto effect = write == writes.end() ? s : write->second;
    if (write == writes.end()) {
      const auto delivered = c.index.deliver_of.find(e.message);
      if (delivered != c.index.deliver_of.end() && delivered->second <= c.horizon) {
        effect = delivered->second;
      }
    }
    out.push_back({s, effect, e.lane});
    if (out.size() == kDecisions) break;
  }
  return out;
}

// Whether two reads asked the same (their requests equal but for the request number).
bool asks_the_same(const Trace& t, const Access& a, const Access& b) {
  const auto ra = request_of(t, a.served);
  const auto rb = request_of(t, b.served);
  if (ra == 0 || rb == 0) return false;
  auto pa = t.at(ra).line.value("payload", nlohmann::json());
  auto pb = t.at(rb).line.value("payload", nlohmann::json());
  if (pa.is_object()) pa.erase("req");
  if (pb.is_object()) pb.erase("req");
  return pa == pb;
}

}  // namespace

std::vector<Cause> detect_overtaken_decision_inputs(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto named = violated_names(c);
  if (named.empty()) return out;
  const auto services = service_lanes(c.index);
  // The reads each process made, by the event where the reply reached it, and the writes by
  // where they took effect.
  std::map<std::uint64_t, const Access*> read_at;
  std::multimap<std::uint64_t, const Access*> write_at;
  for (const auto& a : c.index.accesses) {
    if (a.read && a.delivered && a.event <= c.horizon) read_at.emplace(a.event, &a);
    if (a.write && a.served <= c.horizon) write_at.emplace(a.served, &a);
  }
  for (const auto& d : decisions_on(c, named, services)) {
    // Its inputs: the reads its process made before it in the same life, newest first.
    std::vector<const Access*> newer;  // the reads already walked past
    std::size_t walked = 0;
    for (auto s = d.event; walked < kInputsWalked;) {
      const auto& e = t.at(s);
      if (e.kind == EventKind::kStart || e.kind == EventKind::kRestart || e.parents.empty()) break;
      s = e.parents.front();
      ++walked;
      const auto r = read_at.find(s);
      if (r == read_at.end()) continue;
      const auto& read = *r->second;
      newer.push_back(&read);
      if (checks_own_write(c, read)) continue;
      // Another process's write that changed what it returned, after it was served and before
      // the decision took effect.
      const Access* over = nullptr;
      for (auto w = write_at.upper_bound(read.served); w != write_at.end() && w->first < d.effect;
           ++w) {
        if (w->second->client == read.client || !changed_what_was_read(*w->second, read)) continue;
        // A later read of the place the write changed, served after it, saw it: the decider
        // read again and knew. For SQL, only the same request again: another query that saw
        // the write's rows arrive elsewhere (a row moved from the part read first to a part
        // read after it) does not show what it took from the first answer (read skew).
        const bool seen = std::any_of(newer.begin(), newer.end(), [&](const Access* later) {
          return later->served > w->first && touches_what_was_read(*w->second, *later) &&
                 (read.tables_read.empty() || asks_the_same(t, *later, read));
        });
        if (seen) continue;
        over = w->second;
        break;
      }
      if (!over) continue;
      Cause cause;
      cause.kind = "outdated_read";
      cause.process = t.lane_name(d.lane);
      cause.events = {d.event, read.event, read.served, over->served};
      if (d.effect != d.event) cause.events.push_back(d.effect);
      cause.facts = {{"how", "decision_input_overtaken"},
                     {"decision_event", d.event},
                     {"read_event", read.event},
                     {"overtaking_event", over->served}};
      cause.summary = fmt::format(
          "{} decided at #{} ({} to {}) on its read {} answered at #{} ({}), but {}'s {} took "
          "effect at #{} ({}) before the decision did: the decision's input was already wrong "
          "(found by walking back from the decision; no more specific rule matched)",
          cause.process, d.event, t.at(d.event).type, t.lane_name(t.at(d.event).peer),
          access_named(t, read), read.served, format_time(t.at(read.served).time),
          t.lane_name(over->client), access_named(t, *over), over->served,
          format_time(t.at(over->served).time));
      out.push_back(std::move(cause));
      break;
    }
    if (!out.empty()) break;
  }
  return out;
}

}  // namespace seer::explain
