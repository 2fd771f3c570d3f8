// A position saved in an ordered listing (a cursor, a watermark): a write that carries one of the
// keys a listing returned is a bound over the listed range, not a copy of a value read. A key
// created under the listing's prefix after it was read, sorting below that bound, falls behind the
// position: a reader that resumes past the position never lists it again. Only the listing's keys
// and their order tell it, never a field name.
#include "causes.hpp"

#include <algorithm>
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

}  // namespace

bool lists_keys(const Trace& trace, const Access& listing) {
  if (!trace.has(listing.event)) return false;
  const auto& line = trace.at(listing.event).line;
  const auto payload = line.find("payload");
  if (payload == line.end() || !payload->is_object()) return false;
  return std::any_of(payload->begin(), payload->end(),
                     [](const nlohmann::json& v) { return v.is_array() && !v.empty(); });
}

std::optional<std::string> saved_position(const Trace& trace, const Access& listing,
                                          const nlohmann::json& written) {
  // A listing is a read of a prefix of keys (not a SQL read, not one key of its own).
  if (!listing.read || !listing.tables_read.empty() || listing.scope.empty() ||
      listing.scope == "*") {
    return std::nullopt;
  }
  std::vector<std::string> carried;
  strings_in(written, carried);
  if (carried.empty()) return std::nullopt;
  std::vector<std::string> keys;
  listed_keys(read_value(trace, listing), listing.scope, false, keys);
  if (keys.empty()) return std::nullopt;
  std::sort(keys.begin(), keys.end());
  std::optional<std::string> position;
  for (const auto& s : carried) {
    if (!std::binary_search(keys.begin(), keys.end(), s)) continue;
    if (!position || s > *position) position = s;
  }
  return position;
}

bool falls_behind(const Trace& trace, const Access& x, const Access& listing,
                  const std::string& position) {
  if (!x.write || x.removes || x.service != listing.service) return false;
  if (x.scope.size() <= listing.scope.size() || !x.scope.starts_with(listing.scope)) return false;
  if (x.scope >= position) return false;
  // A key the listing returned was there already: only a new one was missed.
  std::vector<std::string> keys;
  listed_keys(read_value(trace, listing), listing.scope, false, keys);
  return std::find(keys.begin(), keys.end(), x.scope) == keys.end();
}

const Access* behind_position(const DetectContext& c, const Access& listing, const Access& w,
                              const std::string& position) {
  const auto& all = c.index.accesses;
  // A write's reply comes after it took effect: those that took effect after the listing answer
  // after it too.
  auto it = std::upper_bound(all.begin(), all.end(), listing.served,
                             [](std::uint64_t s, const Access& a) { return s < a.event; });
  for (; it != all.end() && it->served <= c.horizon; ++it) {
    const auto& x = *it;
    if (x.served <= listing.served || x.served >= w.served || x.client == w.client) continue;
    if (c.graph.happens_before(x.served, listing.event)) continue;
    if (falls_behind(c.trace, x, listing, position)) return &x;
  }
  return nullptr;
}

}  // namespace seer::explain
