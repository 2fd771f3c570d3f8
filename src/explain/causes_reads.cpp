// Decisions taken on a bad view: reads that missed a write when served (stale_read), and reads
// that were fresh but overtaken before the write based on them took effect (outdated_read).
#include "causes.hpp"
#include "derived_rows.hpp"
#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace seer::explain {

namespace {

bool reads_the_same(const Access& a, const Access& b) {
  if (!a.tables_read.empty() && !b.tables_read.empty()) {
    return std::any_of(a.tables_read.begin(), a.tables_read.end(), [&](const std::string& t) {
      return std::find(b.tables_read.begin(), b.tables_read.end(), t) != b.tables_read.end();
    });
  }
  return scopes_overlap(a.scope, b.scope);
}

// The next write the reader itself made on the same scope after the read: the decision. A later
// read of the same scope in between means the write was decided on that one instead, and a write
// requested after the reader crashed was decided by a later life, which never had this read.
const Access* decision_after(const DetectContext& c, const Access& read) {
  for (const auto& w : c.index.accesses) {
    if (w.client != read.client || w.served <= read.served || &w == &read) continue;
    if (w.service != read.service) continue;
    if (w.write && touches_what_was_read(w, read)) {
      if (crashed_between(c.index, read.client, read.event, request_sent(c.trace, c.index, w))) {
        return nullptr;
      }
      return &w;
    }
    if (w.read && !w.write && reads_the_same(w, read)) return nullptr;
  }
  return nullptr;
}

// A reader that wrote nothing back to what it read decided by sending: its first message after
// the read (in the same life, before it asked the same server again) to a process the read named,
// or carrying something the read returned. A placement table routing a request to a node, a
// registry naming the worker a job goes to. 0 if none.
std::uint64_t routed_after(const DetectContext& c, const Access& read) {
  const auto& t = c.trace;
  if (!t.has(read.event)) return 0;
  const auto value = read_value(t, read);
  for (auto s = read.event + 1; t.has(s) && s <= c.horizon; ++s) {
    const auto& e = t.at(s);
    if (e.lane != read.client) continue;
    if (e.kind == EventKind::kCrash) return 0;
    if (e.kind != EventKind::kSend || e.peer == kSimLane) continue;
    if (e.peer == read.server) return 0;
    auto carried = e.line.value("payload", nlohmann::json());
    if (carried.is_object()) carried.erase("req");
    if (data_names(value, t.lane_name(e.peer)) || flows_into(value, carried)) return s;
  }
  return 0;
}

// Writes the read missed: newer than what it saw, applied before it was served.
std::vector<const Access*> missed_writes(const std::vector<Access>& all, const Access& read) {
  std::vector<const Access*> out;
  const auto missing = read.facts ? read.facts->find("missing") : nlohmann::json::const_iterator();
  const bool has_missing = read.facts && missing != read.facts->end() && missing->is_array();
  for (const auto& w : all) {
    if (!w.write || w.served >= read.served || w.service != read.service) continue;
    if (has_missing) {
      if (std::find(missing->begin(), missing->end(), w.scope) != missing->end()) {
        out.push_back(&w);
      }
    } else if (scopes_overlap(w.scope, read.scope) && read.seen >= 0 && w.written > read.seen) {
      out.push_back(&w);
    }
  }
  return out;
}

// A service answered from behind: its configured implementation (--service NAME=IMPL), by its
// name or as the only one, tells the user which contract allowed it.
Cause lagging_service(const Trace& t, const Access& read) {
  const auto services = t.header.value("services", nlohmann::json::object());
  std::string chosen;
  if (services.contains(read.service) && services[read.service].is_string()) {
    chosen = read.service + "=" + services[read.service].get<std::string>();
  } else if (services.size() == 1 && services.begin().value().is_string()) {
    chosen = services.begin().key() + "=" + services.begin().value().get<std::string>();
  }
  Cause lag;
  lag.kind = "lagging_replica";
  lag.process = read.service;
  lag.events = {read.served};
  lag.facts = {{"service", read.service}, {"implementation", chosen}};
  lag.summary = fmt::format(
      "{} answered from a replica or cache that had not applied the latest writes{}; its "
      "contract allows that, so the design must not act on this read alone",
      read.service, chosen.empty() ? "" : fmt::format(" (run with --service {})", chosen));
  return lag;
}

// A message sent to the server before it answered: dropped, or still in flight, or neither.
std::optional<Cause> message_not_applied(const DetectContext& c, const TraceEvent& e,
                                         const Access& read) {
  const auto& t = c.trace;
  const auto serve_seq = read.served;
  const auto deliver = c.index.deliver_of.find(e.message);
  const auto drop = c.index.drop_of.find(e.message);
  const bool delivered_before = deliver != c.index.deliver_of.end() && deliver->second <= serve_seq;
  Cause m;
  m.process = t.lane_name(e.lane);
  if (drop != c.index.drop_of.end() && drop->second < serve_seq && !delivered_before) {
    m.kind = "message_dropped";
    m.events = {drop->second, e.seq};
    m.summary = fmt::format("message {} ({}, {} -> {}) was dropped by the network at #{}",
                            e.message, e.type, m.process, t.lane_name(read.server), drop->second);
  } else if (!delivered_before) {
    m.kind = "message_delayed";
    m.events = {e.seq};
    m.summary = deliver == c.index.deliver_of.end()
                    ? fmt::format("message {} ({}, {} -> {}, sent #{}) was never delivered",
                                  e.message, e.type, m.process, t.lane_name(read.server), e.seq)
                    : fmt::format(
                          "message {} ({}, {} -> {}, sent #{} at {}) was still in flight; it "
                          "arrived at #{}",
                          e.message, e.type, m.process, t.lane_name(read.server), e.seq,
                          format_time(e.time), deliver->second);
    if (deliver != c.index.deliver_of.end()) m.events.push_back(deliver->second);
  } else {
    return std::nullopt;
  }
  m.facts = e.line.value("payload", nlohmann::json());
  return m;
}

// Why a replica served an old value: messages to it that were dropped or still in flight when it
// answered, and crashes that took back what it had.
std::vector<Cause> why_behind(const DetectContext& c, const Access& read) {
  const auto& t = c.trace;
  // A service: its contract, and no messages to inspect. Also a service's reply known from its
  // messages alone (no facts, not one of the design's own servers): what was in flight to it is
  // unknown there.
  if ((read.facts && read.facts->contains("name")) || (!read.facts && !read.application)) {
    return {lagging_service(t, read)};
  }
  std::vector<Cause> out;
  for (const auto& e : t.events) {
    if (e.seq >= read.served) break;
    if (e.kind == EventKind::kSend && e.peer == read.server) {
      if (auto m = message_not_applied(c, e, read)) out.push_back(std::move(*m));
    } else if (e.kind == EventKind::kCrash && e.lane == read.server) {
      Cause crash;
      crash.kind = "process_crashed";
      crash.process = t.lane_name(e.lane);
      crash.events = {e.seq};
      crash.facts = e.oracle();
      crash.summary = fmt::format("{} crashed at #{} ({}) and lost its volatile state",
                                  crash.process, e.seq, format_time(e.time));
      out.push_back(std::move(crash));
    }
  }
  // The freshest few matter; an old dropped message is rarely the story.
  if (out.size() > 4) out.erase(out.begin(), out.end() - 4);
  return out;
}

// Whether the design checked the stale answer before acting on it: the reader's next read of the
// same scope is a linearizable one (it validated what it read on the leader).
bool checked_before_acting(const std::vector<Access>& all, const Access& read) {
  for (const auto& next : all) {
    if (next.client != read.client || next.served <= read.served || &next == &read) continue;
    if (next.service != read.service || !scopes_overlap(next.scope, read.scope)) continue;
    if (next.write) return false;
    if (next.read) return next.facts && next.facts->value("linearizable", false);
  }
  return false;
}

// The writer's latest read of the same service answered before `sent`, among those `eligible`
// says may be its basis, in the life that sent the write (else none: a crash took what it read).
template <typename Eligible>
const Access* latest_read_before(const DetectContext& c, const Access& w, std::uint64_t sent,
                                 Eligible eligible) {
  const Access* latest = nullptr;
  for (const auto& r : c.index.accesses) {
    if (r.client != w.client || !r.read || r.write || !r.delivered || r.event >= sent) continue;
    if (r.service != w.service || !eligible(r)) continue;
    if (!latest || r.event > latest->event) latest = &r;
  }
  if (latest && crashed_between(c.index, w.client, latest->event, sent)) return nullptr;
  return latest;
}

// The writer's latest read of another place that checked a claim of its own
// (checks_own_write): what a write elsewhere was decided on.
const Access* own_claim_checked(const DetectContext& c, const Access& w, std::uint64_t sent) {
  const auto* check =
      latest_read_before(c, w, sent, [&](const Access& r) { return !reads_place_written(r, w); });
  return check && checks_own_write(c, *check) ? check : nullptr;
}

// The read by `x`'s writer of the place `w` writes, served after `x` and before `w` took effect:
// it missed `w`. The first such.
const Access* read_that_missed(const DetectContext& c, const Access& x, const Access& w) {
  for (const auto& r : c.index.accesses) {
    if (r.client != x.client || !r.read || r.write || r.served <= x.served ||
        r.served >= w.served) {
      continue;
    }
    if (reads_place_written(r, w)) return &r;
  }
  return nullptr;
}

// The id-like components of a key ("b-9" and "dev3" in "waiters/b-9/dev3"): a component with a
// digit names an object; "waiters" names a kind of record.
std::vector<std::string> ids_in_key(const std::string& key) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find_first_of("/:", start);
    if (end == std::string::npos) end = key.size();
    auto part = key.substr(start, end - start);
    if (key_is_data(part)) out.push_back(std::move(part));
    start = end + 1;
  }
  return out;
}

// Whether SQL statement `check` (a read) looked at the very row `act` (a write to another table)
// is about, as a log's SQL pins them: every column the check fixed, the write fixed to the same
// value (`acl WHERE doc = 'd-4' AND user = 'u1'`, then `INSERT INTO edits (doc, user, app)` with
// 'd-4', 'u1').
bool same_pinned_row(const SqlRows& check, const SqlRows& act) {
  if (check.write || !act.write || check.table == act.table || check.equal.empty()) return false;
  return std::all_of(check.equal.begin(), check.equal.end(), [&](const auto& kv) {
    const auto found = act.equal.find(kv.first);
    return found != act.equal.end() && found->second == kv.second;
  });
}

// For a SQL write from a log: the writer's latest read before it sent the write (same life) that
// checked the row the write is about (same_pinned_row), whatever it read since: an answer kept (a
// cache) is still the check the write was decided on.
const Access* sql_check_of_same_row(const DetectContext& c, const Access& w, std::uint64_t sent) {
  return latest_read_before(c, w, sent, [&](const Access& r) {
    for (const auto& rs : r.sql_rows) {
      for (const auto& ws : w.sql_rows) {
        if (same_pinned_row(rs, ws)) return true;
      }
    }
    return false;
  });
}

// The writer's latest read, answered before `sent` in the same life, of another key of the same
// service that names an object the written key names too: the check a write elsewhere about the
// same object was decided on. Key-value places (SQL reads have no key); a SQL write from a log
// by the row its statements pin (sql_check_of_same_row).
const Access* check_of_same_object(const DetectContext& c, const Access& w, std::uint64_t sent) {
  if (!w.sql_rows.empty()) return sql_check_of_same_row(c, w, sent);
  if (!w.tables_read.empty() || !w.rows_written.empty() || w.scope == "*") return nullptr;
  const auto written_ids = ids_in_key(w.scope);
  if (written_ids.empty()) return nullptr;
  const auto* check = latest_read_before(c, w, sent, [&](const Access& r) {
    return r.scope != "*" && !scopes_overlap(r.scope, w.scope);
  });
  if (!check) return nullptr;
  const auto read_ids = ids_in_key(check->scope);
  const bool same_object =
      std::any_of(read_ids.begin(), read_ids.end(), [&](const std::string& id) {
        return std::find(written_ids.begin(), written_ids.end(), id) != written_ids.end();
      });
  return same_object ? check : nullptr;
}

}  // namespace

std::vector<Cause> detect_stale_reads(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& all = c.index.accesses;
  for (const auto& a : all) {
    if (!a.read || !a.stale || !a.delivered || a.event > c.horizon) continue;
    if (checked_before_acting(all, a)) continue;
    const auto& t = c.trace;
    Cause cause;
    cause.kind = "stale_read";
    cause.process = t.lane_name(a.client);
    cause.events = {a.event, a.served};
    cause.facts = a.facts ? *a.facts : nlohmann::json();
    const auto missed = missed_writes(all, a);
    std::string missed_text;
    for (const auto* w : missed) {
      cause.events.push_back(w->served);
      if (missed_text.empty()) {
        missed_text =
            fmt::format("; it missed {}'s {} (#{}, {}", t.lane_name(w->client), access_named(t, *w),
                        w->served, format_time(t.at(w->served).time));
        if (w->written >= 0) missed_text += fmt::format(", version {}", w->written);
        missed_text += ")";
      }
    }
    if (missed.size() > 1) missed_text += fmt::format(" and {} more", missed.size() - 1);
    std::string saw;
    if (a.facts) {
      const auto& f = *a.facts;
      if (f.contains("latest_revision")) {
        saw = fmt::format(" it saw revision {}, but the latest was {} (value {})", a.seen,
                          f.value("latest_revision", std::int64_t{0}),
                          f.contains("latest_value") ? abbreviated(f["latest_value"]) : "?");
      } else if (f.contains("latest_acked_value")) {
        saw = fmt::format(
            " it saw {}, but {} (tag {}) was the latest acknowledged write, {} "
            "version(s) ahead",
            t.at(a.event).line.value("payload", nlohmann::json()).dump(),
            f["latest_acked_value"].dump(),
            f.contains("latest_acked_tag") ? f["latest_acked_tag"].dump() : "?",
            f.value("versions_behind", std::int64_t{0}));
      } else if (f.contains("missing")) {
        saw = fmt::format(" the listing omitted {}", f["missing"].dump());
      }
    } else if (a.seen >= 0) {
      // From the service's own log: it had acknowledged a newer write of the key before it
      // answered (logged_accesses.cpp).
      saw = fmt::format(" it answered revision {} after it had acknowledged a newer write", a.seen);
    }
    cause.summary = fmt::format("{} acted on a stale {} answered by {} at #{} ({}):{}{}",
                                cause.process, access_named(t, a), t.lane_name(a.server), a.served,
                                format_time(t.at(a.served).time), saw, missed_text);
    if (const auto* decision = decision_after(c, a)) {
      cause.events.push_back(decision->served);
      cause.summary +=
          fmt::format("; it then wrote {} (#{})", access_named(t, *decision), decision->served);
      cause.facts["decision_event"] = decision->served;
    } else if (const auto routed = routed_after(c, a)) {
      const auto& r = t.at(routed);
      cause.events.push_back(routed);
      cause.summary += fmt::format("; it then sent {} to {} (#{}), where what it read pointed",
                                   r.type, t.lane_name(r.peer), routed);
      cause.facts["routed_event"] = routed;
    }
    cause.behind = why_behind(c, a);
    out.push_back(std::move(cause));
  }
  return out;
}

std::vector<Cause> detect_outdated_reads(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& all = c.index.accesses;
  const auto& t = c.trace;
  for (const auto& w : all) {
    if (!w.write || w.served > c.horizon) continue;
    // The writer's latest read of the same scope before this write was requested, in the life
    // that requested it: a crash in between discarded what the read returned.
    const auto sent = request_sent(t, c.index, w);
    // A write that saves a position in a listing (a cursor: one of the listed keys) was decided
    // on that listing, whatever else the writer read since; a key created behind the position
    // after the listing was never read (positions.cpp).
    const SavedPosition* saved = nullptr;
    if (const auto it = c.positions.find(&w); it != c.positions.end()) saved = &it->second;
    const Access* read = saved ? saved->listing : nullptr;
    if (!read) {
      for (const auto& r : all) {
        if (r.event >= w.served) break;
        if (&r == &w || r.client != w.client || !r.read || !r.delivered) continue;
        if (!touches_what_was_read(w, r)) continue;
        if (r.served >= w.served) continue;
        if (crashed_between(c.index, w.client, r.event, sent)) continue;
        read = &r;
      }
    }
    // A value computed from an earlier read than the latest (a retry that re-read only for the
    // version it expects): that earlier read is what the write was decided on.
    const Access* earlier = read && !saved ? read_the_value_came_from(c, w, *read, sent) : nullptr;
    const Access* latest_read = read;
    if (earlier) read = earlier;
    // A write elsewhere decided on a check of the writer's own claim (its token still in the
    // fence, its lock still its own): the latest such check answered before the write was sent.
    if (!read) read = own_claim_checked(c, w, sent);
    // A check of one key and a write of another about the same object ("result/b-9", then
    // "waiters/b-9/dev3"): check-then-act across keys (a lost wakeup, write skew).
    if (!read) read = check_of_same_object(c, w, sent);
    // Failing all of these, the writer's latest read before it sent the write, if another
    // process changed its answer before then: a value it kept (a cached switch, a config) may
    // have chosen where or what it wrote, though nothing in the write names it. Weaker evidence,
    // ranked below the rest (explain.cpp).
    bool latest_only = false;
    if (!read) {
      read = latest_read_before(c, w, sent, [](const Access&) { return true; });
      latest_only = read != nullptr;
    }
    if (!read || read->stale) continue;  // stale reads are reported as such
    std::vector<const Access*> between;
    for (const auto& x : all) {
      if (!x.write || x.client == w.client || !changed_what_was_read(x, *read)) continue;
      if (x.served <= read->served || x.served >= w.served) continue;
      if (latest_only && x.served >= sent) continue;  // changed only while the write was on its way
      if (c.graph.happens_before(x.served, read->event)) continue;  // the reader knew of it
      if (saved && !falls_behind(x, *read, saved->position, saved->keys)) continue;  // listed after
      // A row added to a SQL answer outdates no row it returned (docs/explain.md).
      if (!changes_what_decided(t, x, *read, w)) continue;
      between.push_back(&x);
    }
    if (between.empty()) continue;
    Cause cause;
    cause.kind = "outdated_read";
    cause.process = t.lane_name(w.client);
    cause.events = {read->event, read->served};
    for (const auto* x : between) cause.events.push_back(x->served);
    cause.events.push_back(w.served);
    cause.facts = {{"read_event", read->event},
                   {"read_version", read->seen},
                   {"decision_event", w.served},
                   {"written_version", w.written}};
    if (latest_only) cause.facts["how"] = "latest_read";
    if (earlier) {
      cause.facts["how"] = "earlier_read";
      cause.facts["latest_read_event"] = latest_read->event;
    }
    if (saved) {
      cause.facts["how"] = "position";
      cause.facts["position"] = saved->position;
    }
    const auto* x = between.front();
    auto version = [](std::int64_t v) { return v >= 0 ? fmt::format(", version {}", v) : ""; };
    cause.summary = fmt::format(
        "{}'s {} was answered at #{} ({}{}, fresh then), but {}'s {} took effect at #{} ({}{}) "
        "before {}'s {} did at #{} ({}{}): {} decided on a view that was already outdated, "
        "without seeing that write",
        cause.process, access_named(t, *read), read->served, format_time(t.at(read->served).time),
        version(read->seen), t.lane_name(x->client), access_named(t, *x), x->served,
        format_time(t.at(x->served).time), version(x->written), cause.process, access_named(t, w),
        w.served, format_time(t.at(w.served).time), version(w.written), cause.process);
    if (between.size() > 1) {
      cause.summary += fmt::format(" ({} other writes landed in between)", between.size() - 1);
    }
    if (saved) {
      cause.summary += fmt::format(
          " ({} saved the position {} from that listing; the key created behind it was never "
          "listed again)",
          cause.process, saved->position);
    }
    if (earlier) {
      cause.summary += fmt::format(
          " ({}'s value came from this read: its latest read of the place, at #{}, showed what "
          "the write then dropped)",
          cause.process, latest_read->event);
    }
    if (latest_only) {
      cause.summary += fmt::format(
          " (the read is {}'s latest before the write, which does not name what it read: check "
          "whether the value it kept chose what or where it wrote)",
          cause.process);
    }
    // Check and act on different places: the other writer may have checked the decision's place
    // after its own write and missed the decision still on its way (a lost wakeup: each missed
    // the other's write).
    if (!reads_place_written(*read, w)) {
      if (const auto* missed = read_that_missed(c, *x, w)) {
        cause.events.insert(cause.events.end() - 1, missed->served);
        cause.facts["other_read_event"] = missed->served;
        cause.summary += fmt::format(
            "; and {}'s {} at #{} ({}), after its write, missed {}'s {} still on its way",
            t.lane_name(missed->client), access_named(t, *missed), missed->served,
            format_time(t.at(missed->served).time), cause.process, access_named(t, w));
      }
    }
    out.push_back(std::move(cause));
  }
  return out;
}

}  // namespace seer::explain
