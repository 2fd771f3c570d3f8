// Decisions taken on a clock: a process whose clock was behind another's wrote after it, so
// whatever it took from its clock (a timestamp, a deadline, a lease's expiry) is older than what
// the other had already stored. Only the oracle knows the clocks' offsets and drifts.
#include "causes.hpp"

#include <fmt/format.h>

#include <map>

namespace seer::explain {

namespace {

struct Clock {
  std::int64_t offset_ns = 0;
  std::int64_t drift_ppm = 0;
  std::int64_t local(std::int64_t t) const { return t + offset_ns + t * drift_ppm / 1'000'000; }
};

std::map<int, Clock> clocks_of(const Trace& t) {
  std::map<int, Clock> out;
  for (const auto& e : t.events) {
    if (e.kind != "start") continue;
    const auto& f = e.oracle();
    if (!f.is_object()) continue;
    out[e.lane] = {f.value("clock_offset_ns", std::int64_t{0}),
                   f.value("clock_drift_ppm", std::int64_t{0})};
  }
  return out;
}

}  // namespace

std::vector<Cause> detect_clock_skew(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto clocks = clocks_of(t);
  if (clocks.empty()) return out;
  // The latest write on each (service, scope): who made it and what its clock read.
  struct Last {
    const Access* access;
    std::int64_t local;
  };
  std::map<std::pair<std::string, std::string>, Last> last;
  for (const auto& a : c.index.accesses) {
    if (!a.write || a.served > c.horizon) continue;
    // The writer's clock when it asked: the request's send, or the service's event.
    std::uint64_t asked = a.served;
    if (const auto request = request_of(t, a.served)) {
      const auto send = c.index.send_of.find(t.at(request).message);
      if (send != c.index.send_of.end()) asked = send->second;
    }
    const auto clock = clocks.find(a.client);
    if (clock == clocks.end()) continue;
    const std::int64_t local = clock->second.local(t.at(asked).time);
    const auto key = std::make_pair(a.service, a.scope);
    const auto prev = last.find(key);
    if (prev != last.end() && prev->second.access->client != a.client &&
        local < prev->second.local) {
      const auto& p = *prev->second.access;
      Cause cause;
      cause.kind = "clock_behind";
      cause.process = t.lane_name(a.client);
      cause.events = {a.served, p.served};
      const auto behind_ms = static_cast<double>(prev->second.local - local) / 1e6;
      cause.facts = {{"writer", t.lane_name(a.client)},
                     {"writer_clock_offset_ns", clock->second.offset_ns},
                     {"writer_clock_drift_ppm", clock->second.drift_ppm},
                     {"previous_writer", t.lane_name(p.client)},
                     {"behind_ns", prev->second.local - local}};
      cause.summary = fmt::format(
          "{} wrote {}({}) at #{} with its clock {:.3f}ms behind the time {} had read when it "
          "wrote it at #{}: anything {} took from its clock (a timestamp, a deadline, a lease) "
          "is older than what was already stored",
          cause.process, a.op, a.scope, a.served, behind_ms, t.lane_name(p.client), p.served,
          cause.process);
      out.push_back(std::move(cause));
    }
    last[key] = {&a, local};
  }
  return out;
}

}  // namespace seer::explain
