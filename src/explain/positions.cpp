// A position saved in an ordered listing (a cursor, a watermark): a write that carries one of the
// keys a listing returned is a bound over the listed range, not a copy of a value read. A key
// created under the listing's prefix after it was read, sorting below that bound, falls behind the
// position: a reader that resumes past the position never lists it again. Only the listing's keys
// and their order tell it, never a field name.
#include "causes.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// The keys a listing returned: strings under its prefix, in any array of its answer.
void listed_keys(const nlohmann::json& j, const std::string& prefix, bool in_array,
                 std::vector<std::string>& out, int depth = 0) {
  if (depth > 8) return;
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (in_array && s.size() > prefix.size() && s.starts_with(prefix)) out.push_back(s);
  } else if (j.is_array() || j.is_object()) {
    for (const auto& v : j) listed_keys(v, prefix, in_array || j.is_array(), out, depth + 1);
  }
}

void strings_in(const nlohmann::json& j, std::vector<std::string>& out, int depth = 0) {
  if (depth > 8) return;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_array() || j.is_object()) {
    for (const auto& v : j) strings_in(v, out, depth + 1);
  }
}

// How far back a write's listing is looked for. A cursor is saved from the writer's working view
// (its latest few reads), and a lookup that walks back no further than a bounded number of
// accesses keeps one write's cost independent of the trace's length.
constexpr std::size_t kWorkingViewReads = 32;  // the writer's own latest reads
constexpr std::size_t kListingLookBack = 512;  // accesses of every process, from the write back

// Whether a read's answer carries a non-empty array (a listing may): a cheap look before copying
// it.
bool lists_keys(const Trace& trace, const Access& listing) {
  if (!trace.has(listing.event)) return false;
  const auto& line = trace.at(listing.event).line;
  const auto payload = line.find("payload");
  if (payload == line.end() || !payload->is_object()) return false;
  return std::any_of(payload->begin(), payload->end(),
                     [](const nlohmann::json& v) { return v.is_array() && !v.empty(); });
}

// The keys a listing returned (strings under its prefix in its answer's arrays), sorted; empty
// for a read that is no listing (a SQL read, one key of its own).
std::vector<std::string> keys_listed(const Trace& trace, const Access& listing) {
  std::vector<std::string> keys;
  if (!listing.read || !listing.tables_read.empty() || listing.scope.empty() ||
      listing.scope == "*") {
    return keys;
  }
  listed_keys(read_value(trace, listing), listing.scope, false, keys);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The greatest of the listing's keys that `written` carries: the position a write saved. None if
// it carries none.
std::optional<std::string> position_in(const std::vector<std::string>& keys,
                                       const nlohmann::json& written) {
  std::vector<std::string> carried;
  strings_in(written, carried);
  std::optional<std::string> position;
  for (const auto& s : carried) {
    if (!std::binary_search(keys.begin(), keys.end(), s)) continue;
    if (!position || s > *position) position = s;
  }
  return position;
}

// Whether another process created a key behind `position` after `listing` was served and before
// `w` (the write that saved the position) took effect, unknown to the lister.
bool key_behind(const DetectContext& c, const Access& listing, const Access& w,
                const std::string& position, const std::vector<std::string>& keys) {
  const auto& all = c.index.accesses;
  // A write's reply comes after it took effect: those that took effect after the listing answer
  // after it too.
  auto it = std::upper_bound(all.begin(), all.end(), listing.served,
                             [](std::uint64_t s, const Access& a) { return s < a.event; });
  for (; it != all.end() && it->served <= c.horizon; ++it) {
    const auto& x = *it;
    if (x.served <= listing.served || x.served >= w.served || x.client == w.client) continue;
    if (c.graph.happens_before(x.served, listing.event)) continue;
    if (falls_behind(x, listing, position, keys)) return true;
  }
  return false;
}

// The writer's latest listing before it sent `w` (a read of a prefix whose answer lists keys
// under it), when `w` carries one of its keys as a position and a key created after it, before
// `w` took effect, falls behind that position. The lookup walks back from the write over the
// writer's working view, not over the whole trace.
std::optional<SavedPosition> listing_positioned(const DetectContext& c, const Access& w) {
  const auto& all = c.index.accesses;
  const auto sent = request_sent(c.trace, c.index, w);
  auto it = std::lower_bound(all.begin(), all.end(), sent,
                             [](const Access& a, std::uint64_t s) { return a.event < s; });
  std::optional<nlohmann::json> written;  // read only once a listing is found
  std::size_t reads = 0;
  for (std::size_t looked = 0;
       it != all.begin() && looked < kListingLookBack && reads < kWorkingViewReads; ++looked) {
    const auto& r = *--it;
    if (r.client != w.client || !r.read || r.write || !r.delivered || r.service != w.service) {
      continue;
    }
    ++reads;
    if (r.scope.empty() || r.scope == "*" || r.scope == w.scope || !r.tables_read.empty() ||
        !lists_keys(c.trace, r)) {
      continue;
    }
    if (crashed_between(c.index, w.client, r.event, sent)) return std::nullopt;
    if (!written) written = written_value(c.trace, w);
    auto keys = keys_listed(c.trace, r);
    if (keys.empty()) continue;
    auto found = position_in(keys, *written);
    if (!found) continue;
    if (!key_behind(c, r, w, *found, keys)) return std::nullopt;
    return SavedPosition{&r, std::move(*found), std::move(keys)};
  }
  return std::nullopt;
}

}  // namespace

DetectContext::DetectContext(const Trace& trace, const CausalGraph& graph, const TraceIndex& index,
                             std::uint64_t horizon, const std::vector<std::string>* violated)
    : trace(trace), graph(graph), index(index), horizon(horizon), violated(violated) {
  positions = saved_positions(*this);
}

SavedPositions saved_positions(const DetectContext& c) {
  SavedPositions out;
  for (const auto& w : c.index.accesses) {
    if (!w.write || w.served > c.horizon) continue;
    if (auto found = listing_positioned(c, w)) out.emplace(&w, std::move(*found));
  }
  return out;
}

bool falls_behind(const Access& x, const Access& listing, const std::string& position,
                  const std::vector<std::string>& keys) {
  if (!x.write || x.removes || x.service != listing.service) return false;
  if (x.scope.size() <= listing.scope.size() || !x.scope.starts_with(listing.scope)) return false;
  if (x.scope >= position) return false;
  // A key the listing returned was there already: only a new one was missed.
  return !std::binary_search(keys.begin(), keys.end(), x.scope);
}

}  // namespace seer::explain
