// Work marked done before it was done, lost in a crash: a process read the violated entity from a
// service (work to do, held in memory), then wrote a record of its progress to a service (a
// watermark, a checkpoint) that took effect, and crashed before any write of its naming the
// entity. Its next life read that record back (the very value it had written) and never read or
// wrote the entity again: the record said the work was done, and the only knowledge that it was
// not died with the crash (crash_lost_data, how `marked_done_before_crash`).
#include "crash_marked_done.hpp"

#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// How far back from a crash the read of the work is looked for, and how far after the restart
// the record's read: the bounds keep each crash's cost independent of the trace's length.
constexpr std::uint64_t kMarkedLifeFollowed = 4000;

// The value a read returned or a write carried, without the request's place (its key).
nlohmann::json marked_value(const nlohmann::json& v) {
  if (v.is_object() && v.contains("value")) return v["value"];
  return nullptr;
}

}  // namespace

std::vector<Cause> detect_work_marked_done(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  if (c.index.crashes.empty()) return out;
  const auto named = violated_names(c);
  if (named.empty()) return out;
  const auto services = service_lanes(c.index);
  for (const auto& [lane, crashes] : c.index.crashes) {
    if (services.count(lane)) continue;
    std::uint64_t life = 0;  // the previous crash of the lane: its life starts after it
    for (const auto crash : crashes) {
      if (crash > c.horizon) break;
      const auto begun = life;
      life = crash;
      // The restart after the crash, before the next crash.
      std::uint64_t restart = 0;
      for (auto s = crash + 1; s <= c.horizon && t.has(s) && s - crash <= kMarkedLifeFollowed;
           ++s) {
        const auto& e = t.at(s);
        if (e.lane != lane) continue;
        if (e.kind == EventKind::kRestart) restart = s;
        break;
      }
      if (!restart) continue;
      // The life's latest read that returned the entity: the work it held.
      // The accesses are in the order of their events: only a window around the crash is read.
      const auto& all = c.index.accesses;
      const auto from = [&](std::uint64_t seq) {
        return std::lower_bound(all.begin(), all.end(), seq,
                                [](const Access& a, std::uint64_t s) { return a.event < s; });
      };
      const Access* work = nullptr;
      for (auto it = from(crash > kMarkedLifeFollowed ? crash - kMarkedLifeFollowed : 0);
           it != all.end() && it->event < crash; ++it) {
        const auto& a = *it;
        if (a.event >= crash || a.client != lane || !a.read || !a.delivered || a.event <= begun ||
            crash - a.event > kMarkedLifeFollowed) {
          continue;
        }
        if (data_names_any(read_value(t, a), named)) work = &a;
      }
      if (!work) continue;
      // Its writes since that read, which took effect before the crash: none acted on the entity,
      // and one recorded progress (a value of a place the next life reads).
      bool acted = false;
      std::vector<const Access*> marks;
      for (auto it = from(work->event); it != all.end() && it->event <= c.horizon &&
                                        it->event - work->event <= 2 * kMarkedLifeFollowed;
           ++it) {
        const auto& a = *it;
        if (a.client != lane || !a.write || a.application || a.served >= crash) continue;
        const auto sent = request_sent(t, c.index, a);
        if (sent <= work->event || sent >= crash) continue;
        const auto written = written_value(t, a);
        if (data_names_any(written, named)) {
          acted = true;
          break;
        }
        if (!marked_value(written).is_null()) marks.push_back(&a);
      }
      if (acted || marks.empty()) continue;
      // The next life: it read a mark back as written, and never read or wrote the entity.
      const Access* mark = nullptr;
      const Access* reread = nullptr;
      bool touched = false;
      for (auto it = from(restart + 1);
           it != all.end() && it->event <= c.horizon && it->event - restart <= kMarkedLifeFollowed;
           ++it) {
        const auto& a = *it;
        if (a.client != lane) continue;
        if ((a.read && data_names_any(read_value(t, a), named)) ||
            (a.write && data_names_any(written_value(t, a), named))) {
          touched = true;
          break;
        }
        if (reread || !a.read || !a.delivered) continue;
        const auto value = marked_value(read_value(t, a));
        if (value.is_null()) continue;
        for (auto m = marks.rbegin(); m != marks.rend(); ++m) {
          if ((*m)->service == a.service && (*m)->scope == a.scope &&
              marked_value(written_value(t, **m)) == value) {
            mark = *m;
            reread = &a;
            break;
          }
        }
      }
      if (touched || !reread) continue;
      Cause cause;
      cause.kind = "crash_lost_data";
      cause.process = t.lane_name(lane);
      cause.events = {mark->served, crash, reread->event, work->event, work->served};
      cause.facts = {{"how", "marked_done_before_crash"},
                     {"decision_event", mark->served},
                     {"crash_event", crash},
                     {"restart_event", restart},
                     {"read_event", reread->event},
                     {"work_event", work->event}};
      cause.summary = fmt::format(
          "{} read work naming {} ({} at #{}, {}), recorded its progress ({} took effect at #{}, "
          "{}) and crashed at #{} ({}) before writing anything of that work; restarted, it read "
          "the record back ({} at #{}) and never read the work again: the record marked as done "
          "work that was only in the crashed process's memory",
          cause.process, *named.begin(), access_named(t, *work), work->event,
          format_time(t.at(work->event).time), access_named(t, *mark), mark->served,
          format_time(t.at(mark->served).time), crash, format_time(t.at(crash).time),
          access_named(t, *reread), reread->event);
      out.push_back(std::move(cause));
    }
  }
  return out;
}

}  // namespace seer::explain
