#include "seer/explain/query.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace seer::explain {

namespace {

bool is_stale(const TraceEvent& e) {
  const auto& oracle = e.oracle();
  if (!oracle.is_object()) return false;
  if (oracle.value("stale", false)) return true;
  const auto service = oracle.find("service");
  return service != oracle.end() && service->is_object() && service->value("stale", false);
}

void check_event(const Trace& t, std::uint64_t seq) {
  if (!t.has(seq)) {
    throw TraceError(
        fmt::format("{}: no event #{} (the trace has {})", t.path, seq, t.events.size()));
  }
}

}  // namespace

std::int64_t parse_duration(const std::string& text) {
  std::size_t used = 0;
  const double value = std::stod(text, &used);
  const auto unit = text.substr(used);
  double scale = 1;
  if (unit == "s") {
    scale = 1e9;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (!unit.empty() && unit != "ns") {
    throw std::invalid_argument("unknown time unit '" + unit + "' (use ns, us, ms or s)");
  }
  if (value < 0) throw std::invalid_argument("negative time");
  return static_cast<std::int64_t>(value * scale);
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
      if (e.kind == "send") open.emplace(e.message, e.seq);
      if (e.kind == "deliver" || e.kind == "drop") open.erase(e.message);
    }
    for (const auto& [id, send] : open) in_flight.insert(send);
  }

  std::set<std::uint64_t> touching;
  if (!q.key.empty()) touching = events_touching(t, q.key);

  std::vector<std::uint64_t> out;
  for (const auto& e : t.events) {
    if (!lanes.empty() && lanes.count(e.lane) == 0) continue;
    if (!q.kinds.empty() && std::find(q.kinds.begin(), q.kinds.end(), e.kind) == q.kinds.end()) {
      continue;
    }
    if (!q.key.empty() && touching.count(e.seq) == 0) continue;
    if (q.from && e.time < *q.from) continue;
    if (q.to && e.time > *q.to) continue;
    if (q.stale && !is_stale(e)) continue;
    if (q.facts && !e.oracle().is_object()) continue;
    if (q.in_flight_at && in_flight.count(e.seq) == 0) continue;
    if (causal_filter && causal.count(e.seq) == 0) continue;
    out.push_back(e.seq);
    if (q.limit && out.size() == q.limit) break;
  }
  return out;
}

}  // namespace seer::explain
