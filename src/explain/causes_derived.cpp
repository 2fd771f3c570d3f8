// Decisions that carried a read into another place: a copy (a cache fill, a derived row, a
// summary) written from a read that another write had already overtaken (stale_derived_write), and
// a delete decided on a read that missed a concurrent write referencing the deleted object
// (racing_delete). Both follow data across scopes and services, which same-scope detectors cannot.
#include "causes.hpp"
#include "decision_message.hpp"
#include "derived_rows.hpp"
#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// The requester's reads delivered before `sent`, the most recent first (at most `limit`), in the
// life that sent it: a read before a crash of the requester died with that life's memory.
std::vector<const Access*> reads_before(const TraceIndex& index, int client, std::uint64_t sent,
                                        std::size_t limit) {
  std::vector<const Access*> out;
  const auto& all = index.accesses;
  for (auto it = all.rbegin(); it != all.rend() && out.size() < limit; ++it) {
    if (it->client != client || !it->read || !it->delivered || it->event >= sent) continue;
    if (crashed_between(index, client, it->event, sent)) break;
    out.push_back(&*it);
  }
  return out;
}

// The write by another process that changed what `r` read after it was served and before
// `until`, unknown to the reader when it read. Of those, the one that made the copy wrong: the
// first to take away a name that the derived write `carried` from the read (a segment retired
// from a manifest), else the first to take away any part of it, else the first.
const Access* overtaking_write(const DetectContext& c, const Access& r, std::uint64_t until,
                               const nlohmann::json& value_read, const nlohmann::json& carried) {
  const Access* first = nullptr;
  const Access* dropped_part = nullptr;
  for (const auto& x : c.index.accesses) {
    if (x.served <= r.served || x.served >= until) continue;
    if (x.client == r.client || !changed_what_was_read(x, r)) continue;
    if (c.graph.happens_before(x.served, r.event)) continue;
    // A SQL read's new row leaves the rows it returned as they were: only a change to a row the
    // copy carries (or to a whole answer it copied) makes the copy wrong.
    if (!changes_carried_rows(c.trace, x, r, carried)) continue;
    if (!first) first = &x;
    const auto now = written_value(c.trace, x);
    if (drops_carried_part(value_read, carried, now, true)) return &x;
    if (!dropped_part && drops_carried_part(value_read, carried, now, false)) dropped_part = &x;
  }
  return dropped_part ? dropped_part : first;
}

// The values a delete removed: its key, or the deleted rows' values.
std::vector<std::string> removed_names(const Access& d) {
  std::vector<std::string> out;
  if (d.scope != "*" && !d.scope.empty() && d.rows_written.empty()) {
    out.push_back(d.scope);
    // "objs/obj-3" is what a reference elsewhere calls "obj-3".
    const auto slash = d.scope.find_last_of('/');
    if (slash != std::string::npos && d.scope.size() - slash > 2) {
      out.push_back(d.scope.substr(slash + 1));
    }
  }
  if (!d.facts) return out;
  for (const auto& st : d.facts->value("statements", nlohmann::json::array())) {
    for (const auto& w : st.value("writes", nlohmann::json::array())) {
      if (w.value("op", std::string()) != "delete") continue;
      for (const auto& v : w.value("row", nlohmann::json::array())) {
        if (v.is_string() && v.get_ref<const std::string&>().size() >= 2) {
          out.push_back(v.get<std::string>());
        }
      }
    }
  }
  return out;
}

// A copy's cause whose decision was a message (decision_message.hpp): the read it names was
// outdated before that message took effect, which outdated_read tells.
void told_by_message(const Trace& t, const DecisionMessage& m, Cause& cause) {
  const auto& send = t.at(m.send);
  cause.kind = "outdated_read";
  // It names a decision, its basis and the write that made the basis wrong, as the copy did
  // (explain.cpp's base scores): it keeps the copy's rank.
  cause.score += 2;
  cause.facts["how"] = "decided_by_message";
  cause.facts["recorded_event"] = cause.facts["decision_event"];
  cause.facts["decision_event"] = m.send;
  cause.facts["decision_delivered_event"] = m.delivered;
  cause.events.insert(cause.events.end() - 1, {m.send, m.delivered});
  cause.summary += fmt::format(
      "; but the decision was {}'s {} to {} at #{} ({}), which took effect at #{} ({}) after the "
      "read was overtaken: the write only recorded it",
      cause.process, send.type, t.lane_name(send.peer), m.send, format_time(send.time), m.delivered,
      format_time(t.at(m.delivered).time));
}

}  // namespace

bool reads_place_written(const Access& r, const Access& w) {
  if (r.service != w.service) return false;
  if (!r.tables_read.empty() && !w.rows_written.empty()) return touches_what_was_read(w, r);
  return scopes_overlap(r.scope, w.scope);
}

bool checks_own_write(const DetectContext& c, const Access& r) {
  const auto value_read = read_value(c.trace, r);
  return std::any_of(c.index.accesses.begin(), c.index.accesses.end(), [&](const Access& u) {
    if (u.client != r.client || !u.write || u.served >= r.served || !reads_place_written(r, u)) {
      return false;
    }
    const auto own = written_value(c.trace, u);
    return flows_into(value_read, own) || copies_answer_value(c.trace, r, own);
  });
}

std::vector<Cause> detect_stale_derived_writes(const DetectContext& c) {
  std::vector<Cause> out;
  // What a decision message must name, and the services it must not go to (decision_message).
  const auto named = violated_names(c);
  const auto services = service_lanes(c.index);
  const auto& t = c.trace;
  const auto& all = c.index.accesses;
  for (const auto& w : all) {
    // A delete carries no copy: a delete decided on a read is racing_delete's to tell.
    if (!w.write || w.removes || w.served > c.horizon) continue;
    const auto sent = request_sent(t, c.index, w);
    const auto written = written_value(t, w);
    for (const auto* r : reads_before(c.index, w.client, sent, 4)) {
      // A read of the very place written is a lost update: outdated_read tells that story. For
      // SQL the place is the tables (a read's scope is the whole database): a count of one table
      // written into another is a copy that outdated_read, which follows a table, never sees.
      if (reads_place_written(*r, w)) continue;
      if (r->stale) continue;  // stale_read tells that one
      // A work item taken from a queue is not a view of state that a later write overtakes.
      if (r->op == "receive") continue;
      const auto value = read_value(t, *r);
      if (!flows_into(value, written) && !copies_answer_value(t, *r, written)) continue;
      if (checks_own_write(c, *r)) continue;
      const auto* x = overtaking_write(c, *r, w.served, value, written);
      if (!x) continue;
      // A listed key saved as a position is a bound over the listing, not a copy of a value: a
      // key created behind it was missed by the listing itself (outdated_read, `how: position`).
      if (const auto it = c.positions.find(&w);
          it != c.positions.end() && it->second.listing == r) {
        continue;
      }
      // Someone else wrote (or invalidated) the copy's own place meanwhile: the first such write
      // after the overtaking one, and the last, which the derived write landed right after and
      // overwrote. Accesses are in reply order, not served order: one pass keeps the first and
      // last by served event, and the changes to what was read, to find the latest before the last.
      const Access* invalidation = nullptr;
      const Access* last_invalidation = nullptr;
      std::vector<const Access*> changes;
      for (const auto& i : all) {
        if (i.served <= x->served || i.served >= w.served) continue;
        if (i.client != r->client && changed_what_was_read(i, *r)) changes.push_back(&i);
        if (i.client == w.client) continue;
        // A write or delete of the copy's place, applied or not (an invalidation of a key that
        // was not there yet still says the copy was stale).
        const bool writes = i.write || i.op == "delete" || i.op == "put" || i.op == "remove";
        if (i.service != w.service || !writes || !scopes_overlap(i.scope, w.scope)) continue;
        if (!invalidation || i.served < invalidation->served) invalidation = &i;
        if (!last_invalidation || i.served > last_invalidation->served) last_invalidation = &i;
      }
      Cause cause;
      cause.kind = "stale_derived_write";
      cause.process = t.lane_name(w.client);
      cause.facts = {{"read_event", r->event},
                     {"value_read", value},
                     {"overtaking_write_event", x->served},
                     {"decision_event", w.served}};
      cause.events = {r->event, r->served, x->served};
      if (invalidation) {
        cause.events.push_back(invalidation->served);
        cause.facts["invalidation_event"] = invalidation->served;
      }
      // Several writes overtook the read, each invalidating the copy's place: the copy landed
      // after the last of them too, and that one's write (the latest change to what was read
      // before it) is part of the chain.
      if (last_invalidation && last_invalidation != invalidation) {
        const Access* latest = nullptr;
        for (const auto* o : changes) {
          if (o->served < last_invalidation->served && (!latest || o->served > latest->served)) {
            latest = o;
          }
        }
        if (latest) cause.events.push_back(latest->served);
        cause.events.push_back(last_invalidation->served);
        cause.facts["last_invalidation_event"] = last_invalidation->served;
      }
      cause.events.push_back(w.served);
      if (x->facts && x->facts->contains("overtook")) {
        for (const auto& o : (*x->facts)["overtook"]) {
          if (o.value("serial", std::uint64_t{0}) == r->serial) cause.facts["read_became"] = o;
        }
      }
      cause.summary = fmt::format(
          "{} read {} at #{} ({}: {}), but {}'s {} changed it at #{} ({}){}; {} then wrote {} at "
          "#{} ({}) carrying the value it had read: a copy derived from a read that was already "
          "overtaken",
          cause.process, access_named(t, *r), r->served, format_time(t.at(r->served).time),
          abbreviated(value, 80), t.lane_name(x->client), access_named(t, *x), x->served,
          format_time(t.at(x->served).time),
          invalidation
              ? fmt::format(", and {}'s {} at #{} ({}) had already written its place",
                            t.lane_name(invalidation->client), access_named(t, *invalidation),
                            invalidation->served, format_time(t.at(invalidation->served).time))
              : "",
          cause.process, access_named(t, w), w.served, format_time(t.at(w.served).time));
      // The writer told one of the design's own processes to act on the violated entity between
      // the read and the write, and the message took effect after the read was overtaken: that
      // message was the decision, and the write only recorded it.
      if (const auto m =
              decision_message(c, w.client, r->event, sent, x->served, services, named)) {
        told_by_message(t, *m, cause);
      }
      out.push_back(std::move(cause));
      break;
    }
  }
  return out;
}

namespace {

// A write that raced a delete, the object it names, and the deleter's read that missed it.
struct Race {
  const Access* write = nullptr;
  const Access* basis = nullptr;
  std::string object;
};

enum class RacePass { kConcurrentReference, kRewrite, kReferenceInProgress };

// Whether `x` (another process's write) can have raced the delete `d` in this pass: sent before
// the delete took effect (or taking effect before it), or, for a reference in progress, sent
// after the delete by a process that had written the deleted place itself and never learned of
// the delete.
bool could_race(const DetectContext& c, const Access& d, const Access& x, RacePass pass) {
  const auto& all = c.index.accesses;
  const auto x_sent = request_sent(c.trace, c.index, x);
  if (pass == RacePass::kReferenceInProgress) {
    if (x.served < d.served || c.graph.happens_before(d.served, x_sent)) return false;
    return std::any_of(all.begin(), all.end(), [&](const Access& u) {
      return u.client == x.client && u.write && u.served < d.served && u.service == d.service &&
             scopes_overlap(u.scope, d.scope);
    });
  }
  return !(x_sent >= d.served && x.served > d.served);
}

// One pass of racing_write: a write of the kind `pass` looks for that one of `reads` missed.
std::optional<Race> racing_write_in(const DetectContext& c, const Access& d,
                                    const std::vector<std::string>& names,
                                    const std::vector<const Access*>& reads, RacePass pass) {
  const bool elsewhere = pass != RacePass::kRewrite;
  for (const auto& x : c.index.accesses) {
    if (x.client == d.client || !x.write || x.removes || x.served > c.horizon) continue;
    if (!could_race(c, d, x, pass)) continue;
    const bool same_place = x.service == d.service && scopes_overlap(x.scope, d.scope);
    if (same_place == elsewhere) continue;
    const auto carried = written_value(c.trace, x);
    const auto named = std::find_if(names.begin(), names.end(), [&](const std::string& n) {
      return data_names(carried, n) || string_names(x.scope, n);
    });
    if (named == names.end()) continue;
    // The deleter's latest read that missed it (any read, for a reference still to come).
    for (const auto* r : reads) {
      if (r->served < x.served && !c.graph.happens_before(x.served, r->event)) {
        return Race{&x, r, *named};
      }
    }
  }
  return std::nullopt;
}

// A write by another process naming a removed object that the deleter's reads could not have
// seen: it took effect after the read was served, while the delete was being decided or just
// after it (its request was sent before the delete took effect). First a write of the object
// itself (a re-upload) that the deleter's own read of the deleted key missed: the delete was
// checked on the key it removed, and what it removed is what that check did not see. Then a
// reference from elsewhere, then a re-upload missed by any read. Last, a reference sent after the
// delete by a process in the middle of using the object.
std::optional<Race> racing_write(const DetectContext& c, const Access& d,
                                 const std::vector<std::string>& names,
                                 const std::vector<const Access*>& reads) {
  std::vector<const Access*> key_reads;  // the deleter's reads of the deleted key itself
  for (const auto* r : reads) {
    if (r->service == d.service && r->tables_read.empty() && r->scope == d.scope) {
      key_reads.push_back(r);
    }
  }
  if (!key_reads.empty()) {
    if (auto race = racing_write_in(c, d, names, key_reads, RacePass::kRewrite)) return race;
  }
  for (const auto pass :
       {RacePass::kConcurrentReference, RacePass::kRewrite, RacePass::kReferenceInProgress}) {
    if (auto race = racing_write_in(c, d, names, reads, pass)) return race;
  }
  return std::nullopt;
}

// The deleter's latest write of the deleted key itself before `x` (another process's write of
// that key) took effect, in the life that deleted: what it held until `x` replaced it. Null if
// `x` wrote elsewhere or the deleter wrote the key again after `x`.
const Access* own_write_replaced(const DetectContext& c, const Access& d, const Access& x) {
  if (x.service != d.service || x.scope != d.scope || !x.rows_written.empty()) return nullptr;
  const auto place = c.index.writes_at.find({d.service, d.scope});
  if (place == c.index.writes_at.end()) return nullptr;
  const Access* own = nullptr;
  for (const auto i : place->second) {
    const auto& u = c.index.accesses[i];
    if (u.client != d.client || u.removes || u.served >= d.served) continue;
    if (u.served > x.served) return nullptr;
    if (!own || u.served > own->served) own = &u;
  }
  if (own && crashed_between(c.index, d.client, own->event, d.served)) return nullptr;
  return own;
}

// The last write of the deleted key before the delete took effect: what the delete removed.
const Access* last_write_before(const DetectContext& c, const Access& d) {
  const auto place = c.index.writes_at.find({d.service, d.scope});
  if (place == c.index.writes_at.end()) return nullptr;
  const Access* last = nullptr;
  for (const auto i : place->second) {
    const auto& u = c.index.accesses[i];
    if (u.removes || u.served >= d.served || (last && u.served < last->served)) continue;
    last = &u;
  }
  return last && last->client != d.client ? last : nullptr;
}

Cause racing_delete(const DetectContext& c, const Access& d, const Race& race,
                    const std::vector<const Access*>& reads) {
  const auto& t = c.trace;
  const auto& x = *race.write;
  const auto& basis = *race.basis;
  Cause cause;
  cause.kind = "racing_delete";
  cause.process = t.lane_name(d.client);
  cause.events = {basis.event, d.served, x.served};
  for (const auto* r : reads) {
    if (r != race.basis) cause.events.push_back(r->event);
  }
  cause.facts = {{"object", race.object},
                 {"read_event", basis.event},
                 {"delete_event", d.served},
                 {"concurrent_write_event", x.served},
                 {"decision_event", d.served}};
  // The deleter's own earlier write of the deleted key, which the concurrent write replaced (an
  // acquisition: a lock it took, a claim it made): the delete was decided on holding it.
  if (const auto* own = own_write_replaced(c, d, x)) {
    cause.events.insert(cause.events.begin() + 1, own->served);
    cause.facts["own_write_event"] = own->served;
    // The key changed hands again after the concurrent write: the delete removed the last write.
    if (const auto* removed = last_write_before(c, d); removed && removed != &x) {
      cause.events.push_back(removed->served);
      cause.facts["removed_write_event"] = removed->served;
    }
  }
  const bool after = x.served > d.served;
  const bool in_progress = request_sent(t, c.index, x) >= d.served;
  cause.facts["in_progress"] = in_progress;
  cause.summary = fmt::format(
      "{} deleted {} ({} at #{}, {}) on what it had read at #{} ({}), but {}'s {} referencing {} "
      "took effect at #{} ({}){}: the delete was decided on a view that a concurrent write made "
      "stale",
      cause.process, race.object, access_named(t, d), d.served, format_time(t.at(d.served).time),
      basis.event, access_named(t, basis), t.lane_name(x.client), access_named(t, x), race.object,
      x.served, format_time(t.at(x.served).time),
      in_progress ? fmt::format(": {} had written {} before the delete and was still using it, "
                                "never told it was gone",
                                t.lane_name(x.client), race.object)
      : after     ? ", just after the delete: it was in flight while the delete was decided"
                  : ", after that read and before the delete");
  return cause;
}

}  // namespace

std::vector<Cause> detect_racing_deletes(const DetectContext& c) {
  std::vector<Cause> out;
  for (const auto& d : c.index.accesses) {
    if (!d.write || !d.removes || d.served > c.horizon) continue;
    const auto names = removed_names(d);
    if (names.empty()) continue;
    const auto reads = reads_before(c.index, d.client, request_sent(c.trace, c.index, d), 4);
    if (reads.empty()) continue;
    if (const auto race = racing_write(c, d, names, reads)) {
      out.push_back(racing_delete(c, d, *race, reads));
    }
  }
  return out;
}

}  // namespace seer::explain
