// The read a write's value came from, when that is not the writer's latest read of the same place:
// a retry that refreshed only its guard (the version a compare-and-set expects) and wrote what it
// had computed from its first read. The latest read showed something the write drops; an earlier
// read that the write carries whole had not seen it: the write was decided on that one.
#include "causes.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <string>

namespace seer::explain {

namespace {

// How far back the writer's earlier reads are looked at: a retry follows its first read within a
// few accesses of the whole run, and a bound keeps this from scanning every access per write.
constexpr std::size_t kAccessesBack = 512;

// The names (string leaves) in a value: what a document holds, compared set against set.
void names_in(const nlohmann::json& j, std::set<std::string>& out, int depth = 0) {
  if (depth > 32) return;
  if (j.is_string()) {
    out.insert(j.get<std::string>());
  } else if (j.is_structured()) {
    for (const auto& v : j) names_in(v, out, depth + 1);
  }
}

std::set<std::string> names_of(const nlohmann::json& j) {
  std::set<std::string> out;
  names_in(j, out);
  return out;
}

bool includes(const std::set<std::string>& whole, const std::set<std::string>& part) {
  return std::includes(whole.begin(), whole.end(), part.begin(), part.end());
}

}  // namespace

const Access* read_the_value_came_from(const DetectContext& c, const Access& w,
                                       const Access& latest, std::uint64_t sent) {
  // Only a whole document written back to the key it was read from (a KV value, an object's
  // body) can be compared with what the reads returned; a SQL statement carries only its
  // parameters, not the rows it leaves as they were.
  if (w.scope != latest.scope || w.scope == "*" || w.scope.empty()) return nullptr;
  const auto& t = c.trace;
  const auto written = names_of(written_value(t, w));
  const auto latest_names = names_of(read_value(t, latest));
  // The names the latest read showed that the write drops: its value did not come from that read.
  std::set<std::string> dropped;
  std::set_difference(latest_names.begin(), latest_names.end(), written.begin(), written.end(),
                      std::inserter(dropped, dropped.end()));
  if (dropped.empty()) return nullptr;
  const auto& all = c.index.accesses;
  const auto at = static_cast<std::size_t>(&latest - all.data());
  if (at >= all.size()) return nullptr;
  for (std::size_t back = 1; back <= std::min(at, kAccessesBack); ++back) {
    const Access& r = all[at - back];
    if (r.client != w.client || !r.read || !r.delivered || r.stale) continue;
    if (r.scope != w.scope || r.served >= latest.served) continue;
    if (crashed_between(c.index, w.client, r.event, sent)) break;  // another life's read
    // The earlier read the write extends (it carries every name that read returned) while it
    // keeps none of what came after it: every name the latest read showed beyond the earlier one
    // is gone from the write. A write that keeps some of those saw the latest read (a state
    // moving on, a task taken): its other changes are its own.
    const auto earlier = names_of(read_value(t, r));
    if (!includes(written, earlier)) continue;
    bool kept_newer = false;
    bool any_newer = false;
    for (const auto& n : latest_names) {
      if (earlier.count(n)) continue;
      any_newer = true;
      if (written.count(n)) kept_newer = true;
    }
    if (any_newer && !kept_newer) return &r;
  }
  return nullptr;
}

}  // namespace seer::explain
