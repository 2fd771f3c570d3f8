// A holder deposed without a deadline: a process claimed a place for itself (wrote a record that
// names it, such as `primary` = {node: node1, epoch: 1}), another process then claimed the same
// place, and the first went on acting as the holder without looking at the place again (a paused
// primary serving its mailbox after the backup took over: split brain). The takeover half of
// expired_lease, for claims that carry no expiry (those are causes_clock.cpp's).
#include "causes.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace seer::explain {

namespace {

// Whether `value` names `process` (a string equal to its name, anywhere in it).
bool names_process(const nlohmann::json& value, const std::string& process, int depth = 0) {
  if (depth > 16) return false;
  if (value.is_string()) return value.get_ref<const std::string&>() == process;
  if (value.is_array() || value.is_object()) {
    for (const auto& v : value) {
      if (names_process(v, process, depth + 1)) return true;
    }
  }
  return false;
}

struct Claim {
  const Access* access;
  std::string place;
};

// The one record a write claims: a key, or the rows a SQL write changed. A listing or a whole
// database is no claim, and two rows of one table are two places (each worker's own row).
std::string record_of(const Access& a) {
  if (!a.rows_written.empty()) {
    std::string rows;
    for (const auto& r : a.rows_written) {
      if (r.size() >= 2 && r.compare(r.size() - 2, 2, "/?") == 0) return "";  // a log's unknown row
      rows += r + ",";
    }
    return a.service + ":" + rows;
  }
  if (!a.sql.empty() || a.scope.empty() || a.scope == "*" || a.scope.back() == '/') return "";
  return a.service + ":" + a.scope;
}

// Whether the holder looked at its claim again: read or wrote the key, or read the row's table.
bool looks_at(const Access& a, const Claim& claim) {
  if (a.client != claim.access->client || a.application || a.service != claim.access->service) {
    return false;
  }
  if (claim.access->rows_written.empty()) return scopes_overlap(a.scope, claim.access->scope);
  const auto& row = claim.access->rows_written.front();
  const auto table = row.substr(0, row.find('/'));
  return std::find(a.tables_read.begin(), a.tables_read.end(), table) != a.tables_read.end() ||
         record_of(a) == claim.place;
}

std::vector<Claim> claims_of(const DetectContext& c) {
  std::vector<Claim> out;
  for (const auto& a : c.index.accesses) {
    if (!a.write || a.application || a.removes || a.served > c.horizon) continue;
    auto place = record_of(a);
    if (!place.empty() && names_process(written_value(c.trace, a), c.trace.lane_name(a.client))) {
      out.push_back({&a, std::move(place)});
    }
  }
  return out;
}

// The holder's acts after the takeover, until it looks at the place again: its writes elsewhere
// and the answers it gave to requests served as the holder. The first and the last are kept.
std::vector<const Access*> acts_after_takeover(const DetectContext& c, const Claim& claim,
                                               std::uint64_t takeover) {
  const int holder = claim.access->client;
  std::vector<const Access*> acts;
  for (const auto& a : c.index.accesses) {
    if (a.served <= takeover || a.served > c.horizon) continue;
    if (looks_at(a, claim)) break;
    const bool writes = a.client == holder && a.write && !a.application;
    const bool answers = a.application && a.server == holder;
    if (writes || answers) acts.push_back(&a);
  }
  if (acts.size() > 2) acts.erase(acts.begin() + 1, acts.end() - 1);
  return acts;
}

// The holder's last look at the place before `act`, and a pause of it between the two.
std::uint64_t pause_before(const Trace& t, const Claim& claim, const TraceIndex& index,
                           std::uint64_t act) {
  std::uint64_t looked = claim.access->served;
  for (const auto& a : index.accesses) {
    if (a.served >= act) break;
    if (looks_at(a, claim)) looked = std::max(looked, a.served);
  }
  return last_pause(t, claim.access->client, looked, act);
}

Cause deposed(const DetectContext& c, const Claim& claim, const Access& takeover,
              const Access& act) {
  const auto& t = c.trace;
  const auto& l = *claim.access;
  Cause cause;
  cause.kind = "expired_lease";
  cause.process = t.lane_name(l.client);
  cause.events = {act.served, l.served, takeover.served};
  cause.facts = {{"lease_event", l.served},           {"lease_place", claim.place},
                 {"takeover_event", takeover.served}, {"act_event", act.served},
                 {"decision_event", act.served},      {"how", "taken_over"}};
  std::string why = "it acted without looking at its claim again";
  if (const auto pause = pause_before(t, claim, c.index, act.served)) {
    cause.events.push_back(pause);
    Cause behind;
    behind.kind = "process_paused";
    behind.process = cause.process;
    behind.events = {pause};
    behind.summary = fmt::format("{} was paused at #{}", cause.process, pause);
    cause.behind.push_back(std::move(behind));
    why = fmt::format("it was paused (#{}) between its last look at its claim and the act", pause);
  }
  cause.summary = fmt::format(
      "{} acted ({} at #{}, {}) as the holder of {} it had claimed at #{} ({}), but {} had taken "
      "it over at #{} ({}), before the act: {}",
      cause.process, access_named(t, act), act.served, format_time(t.at(act.served).time), l.scope,
      l.served, access_named(t, l), t.lane_name(takeover.client), takeover.served,
      format_time(t.at(takeover.served).time), why);
  return cause;
}

}  // namespace

std::vector<Cause> detect_deposed_holders(const DetectContext& c) {
  std::vector<Cause> out;
  const auto claims = claims_of(c);
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const auto& claim = claims[i];
    // The next claim of the same place: the holder's own renewal ends this one's story, another
    // process's is the takeover.
    const Access* takeover = nullptr;
    for (std::size_t j = i + 1; j < claims.size(); ++j) {
      if (claims[j].place != claim.place) continue;
      if (claims[j].access->client != claim.access->client) takeover = claims[j].access;
      break;
    }
    if (takeover == nullptr) continue;
    for (const auto* act : acts_after_takeover(c, claim, takeover->served)) {
      out.push_back(deposed(c, claim, *takeover, *act));
    }
  }
  return out;
}

}  // namespace seer::explain
