// Stale copies relayed between the design's own processes (stale_derived_write, from messages
// alone). A process S received a value from Q and sent it on to P (a read repair, a forwarded
// update, a copy pushed to a peer); P stored it. Meanwhile P had stored another process's write of
// the same key that S had not seen when it sent (not in the copy's causal past), so the copy
// arrived carrying an older view and P wrote it over the newer one. A copy that is really newer has
// what it supersedes in its causal past: the versions it carries came through the processes that
// had them. No oracle fact is needed:
// the messages' payloads, the processes' storage writes and the causal graph tell it, which is
// also all a real deployment's logs would hold.
#include "causes.hpp"
#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

constexpr std::size_t kLookBack = 64;  // a sender's recent events searched for the copy's source

// The non-trivial pieces of a payload (strings of two characters or more, numbers other than -1,
// 0, 1), leaving out request numbers: bookkeeping, not data.
void relayed_pieces(const nlohmann::json& j, std::vector<nlohmann::json>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_object()) {
    for (const auto& [field, v] : j.items()) {
      if (field == "req") continue;
      if (key_is_data(field)) out.emplace_back(field);  // a map keyed by id: {"i-2-3": {...}}
      relayed_pieces(v, out, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) relayed_pieces(v, out, depth + 1);
  } else if (j.is_string() && j.get_ref<const std::string&>().size() >= 2) {
    out.push_back(j);
  } else if (j.is_number_integer() && (j.get<std::int64_t>() > 1 || j.get<std::int64_t>() < -1)) {
    out.push_back(j);
  }
}

std::vector<nlohmann::json> pieces_of(const TraceEvent& e) {
  std::vector<nlohmann::json> out;
  relayed_pieces(e.line.value("payload", nlohmann::json()), out);
  return out;
}

bool names_key(const nlohmann::json& piece, const std::string& key) {
  return piece.is_string() && (piece.get_ref<const std::string&>() == key ||
                               string_names(key, piece.get_ref<const std::string&>()));
}

// Each lane's events in order, and which lanes are simulated services (their replies are
// accesses already, with the service's own facts).
struct Lanes {
  std::map<int, std::vector<std::uint64_t>> events;
  std::set<int> services;
};

Lanes lanes_of(const DetectContext& c) {
  Lanes out;
  for (const auto& e : c.trace.events) {
    if (e.lane != kSimLane) out.events[e.lane].push_back(e.seq);
  }
  out.services = service_lanes(c.index);
  return out;
}

// The storage writes a process made while handling delivery `d` (before its next delivery) to
// keys the delivered message names: where the message's content took effect (a message with the
// sender's whole state takes effect on several keys). A message that names none of the keys
// written while handling it (a whole state under one fixed key: `{"items": [...]}` stored as
// `list`) took effect on all of them.
std::vector<std::pair<std::uint64_t, std::string>> stored_from(const Trace& t, const Lanes& lanes,
                                                               const TraceEvent& d) {
  std::vector<std::pair<std::uint64_t, std::string>> named;
  std::vector<std::pair<std::uint64_t, std::string>> all;
  const auto& own = lanes.events.at(d.lane);
  const auto pieces = pieces_of(d);
  for (auto it = std::upper_bound(own.begin(), own.end(), d.seq); it != own.end(); ++it) {
    const auto& e = t.at(*it);
    if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash) break;
    if (e.kind != EventKind::kStorageWrite) continue;
    auto stored = e.line.value("key", std::string());
    if (std::any_of(pieces.begin(), pieces.end(),
                    [&](const nlohmann::json& p) { return names_key(p, stored); })) {
      named.emplace_back(e.seq, stored);
    }
    all.emplace_back(e.seq, std::move(stored));
  }
  return named.empty() ? all : named;
}

// The storage write of `key` made while handling delivery `d`, if the message names it; else 0.
std::uint64_t stored_key_from(const Trace& t, const Lanes& lanes, const TraceEvent& d,
                              const std::string& key) {
  for (const auto& [seq, stored] : stored_from(t, lanes, d)) {
    if (stored == key) return seq;
  }
  return 0;
}

// What the relayed message `m` carries of the delivery `src` beyond the key's name: the data it
// copied (a version, a value).
std::vector<nlohmann::json> copied(const TraceEvent& src, const TraceEvent& m,
                                   const std::string& key) {
  const auto from = pieces_of(src);
  const auto into = pieces_of(m);
  std::vector<nlohmann::json> out;
  for (const auto& p : from) {
    if (names_key(p, key)) continue;
    if (std::find(into.begin(), into.end(), p) != into.end() &&
        std::find(out.begin(), out.end(), p) == out.end()) {
      out.push_back(p);
    }
  }
  return out;
}

bool payload_names_key(const TraceEvent& e, const std::string& key) {
  const auto pieces = pieces_of(e);
  return std::any_of(pieces.begin(), pieces.end(),
                     [&](const nlohmann::json& p) { return names_key(p, key); });
}

// The relay: the copy's source (the sender's latest delivery, from a third process, whose data the
// copy carries) and the sender's latest delivery from the copy's destination naming the key (what
// it knew of the destination's own copy). Only the life that sent the copy counts.
struct Relay {
  std::uint64_t source = 0;
  std::uint64_t own_view = 0;
  std::vector<nlohmann::json> carried;
};

Relay relay_of(const Trace& t, const Lanes& lanes, const TraceEvent& send, int destination,
               const std::string& key) {
  Relay out;
  const auto& own = lanes.events.at(send.lane);
  auto it = std::lower_bound(own.begin(), own.end(), send.seq);
  for (std::size_t n = 0; it != own.begin() && n < kLookBack; ++n) {
    const auto& e = t.at(*--it);
    if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart ||
        e.kind == EventKind::kStart) {
      break;
    }
    if (e.kind != EventKind::kDeliver || e.peer == kSimLane || e.peer == send.lane) continue;
    if (e.peer == destination) {
      if (out.own_view == 0 && payload_names_key(e, key)) out.own_view = e.seq;
    } else if (out.source == 0) {
      auto carried = copied(e, send, key);
      if (!carried.empty() && payload_names_key(e, key)) {
        out.source = e.seq;
        out.carried = std::move(carried);
      }
    }
    if (out.source != 0 && out.own_view != 0) break;
  }
  return out;
}

// The destination's latest delivery before `d` from a process other than the relay's sender,
// stored to the same key, whose send is not in the relayed message's causal past: a write the
// sender could not have seen. Concurrent with the copy's send, or after it: a chain of unrelated
// messages can order the copy's send before the write without telling the writer anything.
std::uint64_t unseen_store(const DetectContext& c, const Lanes& lanes, const TraceEvent& d,
                           std::uint64_t relayed_send, const std::string& key,
                           std::uint64_t* stored) {
  const auto& t = c.trace;
  const auto& own = lanes.events.at(d.lane);
  auto it = std::lower_bound(own.begin(), own.end(), d.seq);
  while (it != own.begin()) {
    const auto& w = t.at(*--it);
    if (w.kind != EventKind::kDeliver || w.peer == kSimLane || w.peer == d.peer ||
        w.parents.size() < 2) {
      continue;
    }
    const auto w_send = w.parents.back();
    const auto s = stored_key_from(t, lanes, w, key);
    // Older writes reached the sender through what it read; nothing earlier can be concurrent.
    if (c.graph.happens_before(w_send, relayed_send)) {
      if (s != 0) return 0;
      continue;
    }
    if (s != 0) {
      *stored = s;
      return w.seq;
    }
  }
  return 0;
}

// How far back a destination's deliveries are looked at for the write a whole state landed on.
constexpr std::size_t kWholeStateLookBack = 256;

// For a whole state (a message naming no key it is stored under) that lacks a violated entity:
// the destination's latest delivery from another process that stored `key` and whose message
// names the entity, whatever the copy's sender knew of it. A sender that had been shown the write
// (it is in the copy's causal past) and still sent a state without it drops it as surely as one
// that never saw it. None when a copy from the same sender stored after that write already
// lacked the entity (the loss was earlier), or within the bound.
std::uint64_t entity_store_under(const DetectContext& c, const Lanes& lanes, const TraceEvent& d,
                                 const std::string& key, const std::set<std::string>& violated,
                                 std::uint64_t* stored) {
  const auto& t = c.trace;
  const auto& own = lanes.events.at(d.lane);
  auto it = std::lower_bound(own.begin(), own.end(), d.seq);
  for (std::size_t n = 0; it != own.begin() && n < kWholeStateLookBack; ++n) {
    const auto& w = t.at(*--it);
    if (w.kind == EventKind::kCrash || w.kind == EventKind::kRestart) return 0;
    if (w.kind != EventKind::kDeliver || w.peer == kSimLane || w.parents.size() < 2) continue;
    const auto s = stored_key_from(t, lanes, w, key);
    if (s == 0) continue;
    const bool names = data_names_any(w.line.value("payload", nlohmann::json()), violated);
    if (w.peer == d.peer) {
      if (!names) return 0;  // an earlier copy from the same sender already lacked it
      continue;
    }
    if (names) {
      *stored = s;
      return w.seq;
    }
  }
  return 0;
}

// The destination's answer to the write's sender while handling it (an acknowledgement): where
// the writer learned it took effect.
std::uint64_t answer_to(const Trace& t, const Lanes& lanes, const TraceEvent& w) {
  const auto& own = lanes.events.at(w.lane);
  for (auto it = std::upper_bound(own.begin(), own.end(), w.seq); it != own.end(); ++it) {
    const auto& e = t.at(*it);
    if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash) break;
    if (e.kind == EventKind::kSend && e.peer == w.peer) return e.seq;
  }
  return 0;
}

// Whether `lane` stored `key` itself before event `before`, in the same life.
bool stored_before(const Trace& t, const Lanes& lanes, int lane, const std::string& key,
                   std::uint64_t before) {
  const auto& own = lanes.events.at(lane);
  for (auto it = std::lower_bound(own.begin(), own.end(), before); it != own.begin();) {
    const auto& e = t.at(*--it);
    if (e.kind == EventKind::kCrash) return false;
    if (e.kind == EventKind::kStorageWrite && e.line.value("key", std::string()) == key) {
      return true;
    }
  }
  return false;
}

// The destination's own last storage write of `key` after `from` and before `before` (it changed
// or erased what the overwritten write had stored: a tombstone collected). 0 if none.
std::uint64_t own_change_between(const Trace& t, const Lanes& lanes, int lane,
                                 const std::string& key, std::uint64_t from, std::uint64_t before) {
  std::uint64_t found = 0;
  for (const auto s : lanes.events.at(lane)) {
    if (s <= from) continue;
    if (s >= before) break;
    const auto& e = t.at(s);
    if (e.kind == EventKind::kStorageWrite && e.line.value("key", std::string()) == key) found = s;
  }
  return found;
}

// A peer's own copy of `key` (no third process's value in it), stored by the destination over a
// write the sender had not seen.
Cause own_copy_cause(const DetectContext& c, const Lanes& lanes, const TraceEvent& d,
                     const TraceEvent& send, const std::string& key, std::uint64_t w,
                     std::uint64_t overwritten, std::uint64_t stored, bool seen = false) {
  const auto& t = c.trace;
  const auto& write = t.at(w);
  const auto ack = answer_to(t, lanes, write);
  const auto changed = own_change_between(t, lanes, d.lane, key, overwritten, d.seq);
  Cause cause;
  cause.kind = "stale_derived_write";
  cause.process = t.lane_name(send.lane);
  cause.events = {send.seq, ack ? ack : w};
  if (changed) cause.events.push_back(changed);
  cause.events.push_back(d.seq);
  cause.events.push_back(stored);
  cause.facts = {{"how", "relayed"},
                 {"own_copy", true},
                 {"read_event", send.seq},
                 {"overtaking_write_event", w},
                 {"overtaken_store_event", overwritten},
                 {"decision_event", d.seq},
                 {"key", key}};
  if (changed) cause.facts["own_change_event"] = changed;
  if (seen) cause.facts["sender_had_seen"] = true;
  cause.summary = fmt::format(
      "{} sent its own copy of {} to {} ({} #{}, {}), but {} had meanwhile stored {}'s {} of {} "
      "(delivered #{}, {}{}), which {}{}; {} then stored the {} over it at #{} ({}): a copy from "
      "a view that was already overtaken",
      cause.process, key, t.lane_name(d.lane), send.type, send.seq, format_time(send.time),
      t.lane_name(d.lane), t.lane_name(write.peer), write.type, key, w, format_time(write.time),
      ack ? fmt::format(", acknowledged #{}", ack) : "", cause.process,
      seen ? " had been shown before it sent (in its causal past) and its whole state still "
             "lacked"
           : " had not seen when it sent (not in its causal past)",
      changed ? fmt::format(", and had since written {} itself at #{} ({})", key, changed,
                            format_time(t.at(changed).time))
              : "",
      t.lane_name(d.lane), send.type, stored, format_time(t.at(stored).time));
  return cause;
}

// A sender's whole state (its own copy, under a key its message does not name) that lacks a
// violated entity, stored over the destination's write of it that the sender had been shown: the
// sender kept its own state over what it was sent (refused it as older) and pushed that state on.
std::optional<Cause> whole_state_over_seen_write(const DetectContext& c, const Lanes& lanes,
                                                 const TraceEvent& d, const TraceEvent& send,
                                                 const std::string& key, const Relay& relay,
                                                 std::uint64_t stored) {
  const auto& t = c.trace;
  if (relay.source != 0 || payload_names_key(send, key)) return std::nullopt;
  if (!stored_before(t, lanes, send.lane, key, send.seq)) return std::nullopt;
  const auto violated = violated_names(c);
  if (violated.empty()) return std::nullopt;
  if (data_names_any(send.line.value("payload", nlohmann::json()), violated)) return std::nullopt;
  std::uint64_t overwritten = 0;
  const auto w = entity_store_under(c, lanes, d, key, violated, &overwritten);
  if (w == 0) return std::nullopt;
  return own_copy_cause(c, lanes, d, send, key, w, overwritten, stored, true);
}

std::optional<Cause> relayed_copy_cause(const DetectContext& c, const Lanes& lanes,
                                        const TraceEvent& d, const TraceEvent& send,
                                        const std::string& key, std::uint64_t stored) {
  const auto& t = c.trace;
  const auto relay = relay_of(t, lanes, send, d.lane, key);
  std::uint64_t overwritten = 0;
  const auto w = unseen_store(c, lanes, d, send.seq, key, &overwritten);
  if (w == 0) return whole_state_over_seen_write(c, lanes, d, send, key, relay, stored);
  // No third process's value in the copy: the sender sent its own (gossip, anti-entropy, a
  // replica pushing its state), which is just as old when it lacks the write it lands on. Only
  // a sender that keeps a copy of the key itself (it stored it before) sends a copy: a client's
  // request is a new write.
  if (relay.source == 0) {
    if (!stored_before(t, lanes, send.lane, key, send.seq)) return std::nullopt;
    // A whole state that does not name the key it is stored under says nothing of which writes
    // it holds: a merge stores it too. It is a stale copy only when the write it landed on
    // carried what the violation is about and the copy does not carry it.
    if (!payload_names_key(send, key)) {
      const auto violated = violated_names(c);
      const auto payload = [&](const TraceEvent& e) {
        return e.line.value("payload", nlohmann::json());
      };
      if (!data_names_any(payload(t.at(w)), violated) || data_names_any(payload(send), violated)) {
        return std::nullopt;
      }
    }
    return own_copy_cause(c, lanes, d, send, key, w, overwritten, stored);
  }
  const auto& src = t.at(relay.source);
  const auto& write = t.at(w);
  const auto ack = answer_to(t, lanes, write);
  Cause cause;
  cause.kind = "stale_derived_write";
  cause.process = t.lane_name(send.lane);
  cause.events = {relay.source};
  if (src.parents.size() > 1) cause.events.push_back(src.parents.back());
  if (relay.own_view) cause.events.push_back(relay.own_view);
  cause.events.push_back(ack ? ack : w);
  cause.events.push_back(d.seq);
  cause.events.push_back(stored);
  nlohmann::json carried = nlohmann::json::array();
  for (const auto& p : relay.carried) carried.push_back(p);
  cause.facts = {{"how", "relayed"},
                 {"read_event", relay.source},
                 {"value_read", carried},
                 {"overtaking_write_event", w},
                 {"overtaken_store_event", overwritten},
                 {"decision_event", d.seq},
                 {"key", key}};
  if (relay.own_view) cause.facts["own_view_event"] = relay.own_view;
  cause.summary = fmt::format(
      "{} received {} of {} from {} at #{} ({}) and sent it on to {} ({} sent #{}){}; but {} "
      "had meanwhile stored {}'s {} of {} (delivered #{}, {}{}), which {} had not seen when it "
      "sent (not in its causal past), and then stored the {} over it at #{} ({}): a copy "
      "derived from a view that was already overtaken",
      cause.process, abbreviated(carried, 60), key, t.lane_name(src.peer), src.seq,
      format_time(src.time), t.lane_name(d.lane), send.type, send.seq,
      relay.own_view
          ? fmt::format(", after reading {}'s own copy at #{}", t.lane_name(d.lane), relay.own_view)
          : "",
      t.lane_name(d.lane), t.lane_name(write.peer), write.type, key, w, format_time(write.time),
      ack ? fmt::format(", acknowledged #{}", ack) : "", cause.process, send.type, stored,
      format_time(t.at(stored).time));
  return cause;
}

}  // namespace

std::vector<Cause> detect_stale_relayed_copies(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto lanes = lanes_of(c);
  for (const auto& d : t.events) {
    if (d.seq > c.horizon) break;
    if (d.kind != EventKind::kDeliver || d.lane == kSimLane || d.peer == kSimLane ||
        d.peer == d.lane || d.parents.size() < 2 || lanes.services.count(d.lane)) {
      continue;
    }
    const auto& send = t.at(d.parents.back());
    if (send.kind != EventKind::kSend || send.lane != d.peer) continue;
    for (const auto& [stored, key] : stored_from(t, lanes, d)) {
      if (auto cause = relayed_copy_cause(c, lanes, d, send, key, stored)) {
        out.push_back(std::move(*cause));
        break;  // one copy, one cause
      }
    }
  }
  return out;
}

}  // namespace seer::explain
