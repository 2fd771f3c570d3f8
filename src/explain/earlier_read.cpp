// The read a write's value came from, when that is not the writer's latest read of the same place:
// a retry that refreshed only its guard (the version a compare-and-set expects) and wrote what it
// had computed from its first read. The latest read showed something the write drops; an earlier
// read that the write carries whole had not seen it: the write was decided on that one.
#include "causes.hpp"

namespace seer::explain {

namespace {

// How far back the writer's earlier reads are looked at: a retry follows its first read within a
// few accesses of the whole run, and a bound keeps this from scanning every access per write.
constexpr std::size_t kAccessesBack = 512;

// Whether `write` carries every name (string) `read` returned: its value extends that read.
bool carries_whole(const nlohmann::json& read, const nlohmann::json& write) {
  return !drops_carried_part(read, read, write, /*names_only=*/true);
}

}  // namespace

const Access* read_the_value_came_from(const DetectContext& c, const Access& w,
                                       const Access& latest, std::uint64_t sent) {
  // Only a whole document written back to the key it was read from (a KV value, an object's
  // body) can be compared with what the reads returned; a SQL statement carries only its
  // parameters, not the rows it leaves as they were.
  if (w.scope != latest.scope || w.scope == "*" || w.scope.empty()) return nullptr;
  const auto& t = c.trace;
  const auto written = written_value(t, w);
  const auto latest_value = read_value(t, latest);
  // The write drops a name the latest read showed: its value did not come from that read.
  if (carries_whole(latest_value, written)) return nullptr;
  const auto& all = c.index.accesses;
  const auto at = static_cast<std::size_t>(&latest - all.data());
  if (at >= all.size()) return nullptr;
  for (std::size_t back = 1; back <= std::min(at, kAccessesBack); ++back) {
    const Access& r = all[at - back];
    if (r.client != w.client || !r.read || !r.delivered || r.stale) continue;
    if (r.scope != w.scope || r.served >= latest.served) continue;
    if (crashed_between(c.index, w.client, r.event, sent)) break;  // another life's read
    const auto value = read_value(t, r);
    // The earlier read the write extends, which had not seen what the latest read showed.
    if (carries_whole(value, written) && !carries_whole(latest_value, value)) return &r;
  }
  return nullptr;
}

}  // namespace seer::explain
