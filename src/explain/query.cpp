#include "seer/explain/query.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

namespace seer::explain {

namespace {

void check_event(const Trace& t, std::uint64_t seq) {
  if (!t.has(seq)) {
    throw TraceError(
        fmt::format("{}: no event #{} (the trace has {})", t.path, seq, t.events.size()));
  }
}

}  // namespace

std::int64_t parse_duration(const std::string& text) {
  // DIGITS[.DIGITS][UNIT]: no sign, exponent, hex, inf or nan (std::stod took them all, and cast
  // values past int64 to anything).
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("'" + text + "': " + why);
  };
  std::size_t used = 0;
  while (used < text.size() && std::isdigit(static_cast<unsigned char>(text[used]))) ++used;
  if (used == 0) throw bad("expected a number of ns, us, ms or s, e.g. 120ms");
  if (used < text.size() && text[used] == '.') {
    const auto fraction = ++used;
    while (used < text.size() && std::isdigit(static_cast<unsigned char>(text[used]))) ++used;
    if (used == fraction) throw bad("expected digits after the decimal point");
  }
  const auto unit = text.substr(used);
  long double scale = 1;
  if (unit == "s") {
    scale = 1e9L;
  } else if (unit == "ms") {
    scale = 1e6L;
  } else if (unit == "us") {
    scale = 1e3L;
  } else if (!unit.empty() && unit != "ns") {
    throw bad("unknown time unit '" + unit + "' (use ns, us, ms or s)");
  }
  const long double ns = std::strtold(text.substr(0, used).c_str(), nullptr) * scale;
  // 2^63 ns, about 292 years: more than any trace's times.
  if (!(ns < 9223372036854775807.0L)) throw bad("too large (at most 2^63-1 ns)");
  return static_cast<std::int64_t>(ns);
}

std::vector<std::uint64_t> run_query(const Trace& t, const CausalGraph& graph,
                                     const TraceQuery& q) {
  std::set<int> lanes;
  for (const auto& name : q.processes) {
    const auto it = std::find(t.processes.begin(), t.processes.end(), name);
    if (it != t.processes.end()) {
      lanes.insert(static_cast<int>(it - t.processes.begin()));
    } else if (name == "sim") {
      lanes.insert(kSimLane);
    } else {
      throw TraceError(fmt::format("{}: no process '{}' in the trace", t.path, name));
    }
  }
  std::set<std::uint64_t> causal;
  bool causal_filter = false;
  auto restrict = [&](const std::vector<std::uint64_t>& events) {
    std::set<std::uint64_t> next(events.begin(), events.end());
    if (causal_filter) {
      std::set<std::uint64_t> both;
      std::set_intersection(causal.begin(), causal.end(), next.begin(), next.end(),
                            std::inserter(both, both.end()));
      next = std::move(both);
    }
    causal = std::move(next);
    causal_filter = true;
  };
  if (q.before) {
    check_event(t, *q.before);
    auto past = graph.past({*q.before});
    past.erase(std::remove(past.begin(), past.end(), *q.before), past.end());
    restrict(past);
  }
  if (q.after) {
    check_event(t, *q.after);
    std::vector<std::uint64_t> future;
    for (auto s = *q.after + 1; s <= t.events.size(); ++s) {
      if (graph.happens_before(*q.after, s)) future.push_back(s);
    }
    restrict(future);
  }
  if (!q.knows.empty()) {
    if (!q.at) throw TraceError("--knows needs --at EVENT");
    check_event(t, *q.at);
    const auto it = std::find(t.processes.begin(), t.processes.end(), q.knows);
    if (it == t.processes.end()) {
      throw TraceError(fmt::format("{}: no process '{}' in the trace", t.path, q.knows));
    }
    const int lane = static_cast<int>(it - t.processes.begin());
    std::uint64_t own = 0;  // the process's latest event at or before `at`
    for (auto s = *q.at; s >= 1 && own == 0; --s) {
      if (t.at(s).lane == lane) own = s;
    }
    restrict(own == 0 ? std::vector<std::uint64_t>{} : graph.past({own}));
  }
  std::set<std::uint64_t> in_flight;
  if (q.in_flight_at) {
    std::map<std::uint64_t, std::uint64_t> open;  // message id -> send, until delivered or dropped
    for (const auto& e : t.events) {
      if (e.time > *q.in_flight_at) break;
      if (e.kind == EventKind::kSend) open.emplace(e.message, e.seq);
      if (e.kind == EventKind::kDeliver || e.kind == EventKind::kDrop) open.erase(e.message);
    }
    for (const auto& [id, send] : open) in_flight.insert(send);
  }

  std::set<std::uint64_t> touching;
  if (!q.key.empty()) touching = events_touching(t, q.key);

  std::vector<std::uint64_t> out;
  for (const auto& e : t.events) {
    if (!lanes.empty() && lanes.count(e.lane) == 0) continue;
    if (!q.kinds.empty() &&
        std::find(q.kinds.begin(), q.kinds.end(), e.kind_name()) == q.kinds.end()) {
      continue;
    }
    if (!q.key.empty() && touching.count(e.seq) == 0) continue;
    if (q.from && e.time < *q.from) continue;
    if (q.to && e.time > *q.to) continue;
    if (q.stale && !trace::marked_stale(e.oracle())) continue;
    if (q.facts && !e.oracle().is_object()) continue;
    if (q.in_flight_at && in_flight.count(e.seq) == 0) continue;
    if (causal_filter && causal.count(e.seq) == 0) continue;
    out.push_back(e.seq);
    if (q.limit && out.size() == q.limit) break;
  }
  return out;
}

}  // namespace seer::explain
