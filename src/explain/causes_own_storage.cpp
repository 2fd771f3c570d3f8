// Checks answered from one of the design's own processes' storage, acted on after another of its
// processes had accepted a write of the same key the answer had not seen (stale_read or
// outdated_read, from messages, storage events and happens-before alone). A read replica the
// design keeps itself answers "name/frank is free" from its disk while the primary has already
// stored and acknowledged someone's claim of it (its shipment still to come); the asker then
// claims it at the primary, which stores the second claim over the first. A view that had seen
// the first write has it in its causal past (the shipment that carried it), so "not in the read's
// causal past" is what a real deployment's logs would tell, too.
#include "causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// A storage event made while a process handled a delivery, and its answer to that delivery's
// sender (the first send back to it before the process's next delivery).
struct Handled {
  std::uint64_t seq = 0;
  int lane = kSimLane;
  std::uint64_t request = 0;  // the delivery being handled
  int requester = kSimLane;
  std::uint64_t answer = 0;  // the send back to the requester, 0 if none
};

struct StorageLog {
  std::map<std::string, std::vector<Handled>> reads;   // by key, in trace order
  std::map<std::string, std::vector<Handled>> writes;  // by key, in trace order
};

// Each storage read and write of the design's own processes made while handling a message from
// another process, with the answer it gave. One pass over the trace.
StorageLog storage_log(const DetectContext& c) {
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  StorageLog out;
  std::map<int, std::uint64_t> handling;  // lane -> the delivery it is handling
  // lane -> its storage events since that delivery, not yet answered (map nodes do not move)
  std::map<int, std::vector<std::pair<std::vector<Handled>*, std::size_t>>> unanswered;
  for (const auto& e : t.events) {
    if (e.seq > c.horizon) break;
    if (e.lane == kSimLane || services.count(e.lane)) continue;
    switch (e.kind) {
      case EventKind::kDeliver:
        unanswered[e.lane].clear();
        handling[e.lane] = e.peer != kSimLane && e.peer != e.lane ? e.seq : 0;
        break;
      case EventKind::kTimer:  // woken by a timer: what it does next handles no message
      case EventKind::kCrash:
      case EventKind::kRestart:
      case EventKind::kStart:
        unanswered[e.lane].clear();
        handling[e.lane] = 0;
        break;
      case EventKind::kSend:
        if (handling[e.lane] && e.peer == t.at(handling[e.lane]).peer) {
          for (const auto& [list, i] : unanswered[e.lane]) (*list)[i].answer = e.seq;
          unanswered[e.lane].clear();
        }
        break;
      case EventKind::kStorageRead:
      case EventKind::kStorageWrite: {
        const auto request = handling[e.lane];
        if (!request) break;
        auto& by_key = e.kind == EventKind::kStorageRead ? out.reads : out.writes;
        auto& list = by_key[e.line.value("key", std::string())];
        list.push_back({e.seq, e.lane, request, t.at(request).peer, 0});
        unanswered[e.lane].emplace_back(&list, list.size() - 1);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

// The requester's delivery of `answer`, 0 if it never arrived.
std::uint64_t delivery_of(const DetectContext& c, std::uint64_t answer) {
  const auto found = c.index.deliver_of.find(c.trace.at(answer).message);
  return found == c.index.deliver_of.end() ? 0 : found->second;
}

// The first write of `key` made for `asker` by a process other than `reader`, on a request the
// asker sent after taking in the answer (`taken_in`): what it decided on that answer.
const Handled* decided_write(const DetectContext& c, const std::vector<Handled>& writes,
                             const Handled& read, std::uint64_t taken_in) {
  auto it = std::upper_bound(writes.begin(), writes.end(), taken_in,
                             [](std::uint64_t s, const Handled& w) { return s < w.seq; });
  for (; it != writes.end(); ++it) {
    const auto& w = *it;
    if (w.lane == read.lane || w.requester != read.requester) continue;
    const auto& request = c.trace.at(w.request);
    if (request.parents.size() < 2) continue;
    const auto sent = request.parents.back();
    if (sent > taken_in && c.trace.at(sent).lane == read.requester) return &w;
  }
  return nullptr;
}

// The writes the check missed: the write `decision` stored over (the writer's latest earlier
// write of the key in the same life, for another requester, acknowledged, not in the read's
// causal past), and the earliest of the writes before it that the read missed too (the check is
// stale if that one took effect before it). None if the writer read the key itself after the
// overwritten write (it checked, and saw it).
struct Missed {
  const Handled* overwritten = nullptr;
  const Handled* earliest = nullptr;
};

Missed missed_writes(const DetectContext& c, const std::vector<Handled>& writes,
                     const std::vector<Handled>& reads, const Handled& read,
                     const Handled& decision) {
  const auto by_seq = [](const Handled& h, std::uint64_t s) { return h.seq < s; };
  Missed out;
  for (auto it = std::lower_bound(writes.begin(), writes.end(), decision.seq, by_seq);
       it != writes.begin();) {
    const auto& w = *--it;
    if (w.lane != decision.lane) continue;
    if (w.requester == decision.requester || !w.answer) break;
    if (crashed_between(c.index, decision.lane, w.seq, decision.seq)) break;
    if (c.graph.happens_before(w.seq, read.seq)) break;
    if (!out.overwritten) out.overwritten = &w;
    out.earliest = &w;
  }
  if (!out.overwritten) return {};
  for (auto it = std::lower_bound(reads.begin(), reads.end(), out.overwritten->seq, by_seq);
       it != reads.end() && it->seq < decision.seq; ++it) {
    if (it->lane == decision.lane) return {};
  }
  return out;
}

Cause own_storage_cause(const DetectContext& c, const std::string& key, const Handled& read,
                        std::uint64_t taken_in, const Missed& missed, const Handled& decision) {
  const auto& t = c.trace;
  const auto& first = *missed.earliest;
  const bool stale = first.seq < read.seq;
  Cause cause;
  cause.kind = stale ? "stale_read" : "outdated_read";
  cause.process = t.lane_name(read.requester);
  cause.events = {taken_in, read.answer, read.seq, first.answer, first.seq};
  if (missed.overwritten != missed.earliest) {
    cause.events.push_back(missed.overwritten->answer);
    cause.events.push_back(missed.overwritten->seq);
  }
  cause.events.push_back(decision.seq);
  if (decision.answer) cause.events.push_back(decision.answer);
  cause.facts = {{"how", "own_storage"},
                 {"key", key},
                 {"read_event", read.seq},
                 {"answer_event", read.answer},
                 {"missed_write_event", first.seq},
                 {"missed_write_ack", first.answer},
                 {"decision_event", decision.seq}};
  cause.summary = fmt::format(
      "{} answered {} from its storage ({} read at #{}, {}; taken in at #{}) without {}'s write "
      "of {} for {} (#{}, {}, acknowledged #{}), which was not in that read's causal past{}; {} "
      "then asked {}, which wrote {} over it at #{} ({}): a decision on a view that {}",
      t.lane_name(read.lane), cause.process, key, read.seq, format_time(t.at(read.seq).time),
      taken_in, t.lane_name(first.lane), key, t.lane_name(first.requester), first.seq,
      format_time(t.at(first.seq).time), first.answer,
      stale ? " although it had taken effect before" : "", cause.process,
      t.lane_name(decision.lane), key, decision.seq, format_time(t.at(decision.seq).time),
      stale ? "had missed it" : "was outdated before it was acted on");
  return cause;
}

// Whether the requester of `w` had also sent the same kind of request to `lane` before `before`,
// and it had not reached `lane` by then (in flight, or dropped): a write fanned out to several
// copies, one of which had not received it. Only the sender's events near the request's send are
// looked at (a fan-out is sent at once).
bool sent_there_unreached(const DetectContext& c, const Handled& w, int lane,
                          std::uint64_t before) {
  const auto& t = c.trace;
  const auto& request = t.at(w.request);
  if (request.parents.size() < 2) return false;
  const auto sent = request.parents.back();
  constexpr std::uint64_t kNear = 64;
  const auto from = sent > kNear ? sent - kNear : 1;
  for (auto s = from; s < before && s <= sent + kNear; ++s) {
    if (!t.has(s)) continue;
    const auto& e = t.at(s);
    if (e.lane != w.requester || e.kind != EventKind::kSend || e.peer != lane) continue;
    if (e.type != request.type) continue;
    const auto d = delivery_of(c, s);
    if (!d || d > before) return true;
  }
  return false;
}

// What the asker did on the answer it took in at `taken_in`: its first send, before its next
// delivery, to a process that is not one of the copies (`copies`): an answer, or an act.
std::uint64_t acted_on(const DetectContext& c, std::uint64_t taken_in,
                       const std::set<int>& copies) {
  const auto& t = c.trace;
  const int asker = t.at(taken_in).lane;
  constexpr std::uint64_t kWalk = 256;
  for (auto s = taken_in + 1; s <= c.horizon && s <= taken_in + kWalk && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != asker) continue;
    if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash) return 0;
    if (e.kind == EventKind::kSend && e.peer != kSimLane && !copies.count(e.peer)) return s;
  }
  return 0;
}

// The copy's answer at `read`, taken for the state, when writes of the same key that other copies
// had stored and acknowledged (the acknowledgement delivered before the asker sent its request)
// had not reached it: the requester of those writes had sent it the same request, still in flight
// or dropped. The acknowledged writes, empty if none.
std::vector<const Handled*> acknowledged_elsewhere(const DetectContext& c,
                                                   const std::vector<Handled>& writes,
                                                   const Handled& read, std::uint64_t asked) {
  std::vector<const Handled*> out;
  for (const auto& w : writes) {
    if (w.seq >= read.seq) break;
    if (w.lane == read.lane) {
      out.clear();  // the copy stored the key itself: what it missed starts after
      continue;
    }
    // The write may well be in the read's causal past (its requester was told, then asked): what
    // matters is that it never reached this copy.
    if (!w.answer) continue;
    const auto acknowledged = delivery_of(c, w.answer);
    if (!acknowledged || acknowledged > asked) continue;
    if (!sent_there_unreached(c, w, read.lane, read.seq)) continue;
    out.push_back(&w);
  }
  return out;
}

// The writing copy's own push of `w` to `lane`: its first send to `lane` after storing it, before
// its next delivery, when that had not reached `lane` by `before` (in flight, dropped, or queued
// behind the request being handled). 0 otherwise.
std::uint64_t pushed_unreached(const DetectContext& c, const Handled& w, int lane,
                               std::uint64_t before) {
  const auto& t = c.trace;
  constexpr std::uint64_t kPushWalk = 64;
  for (auto s = w.seq + 1; s < before && s <= w.seq + kPushWalk && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != w.lane) continue;
    if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash) return 0;
    if (e.kind != EventKind::kSend || e.peer != lane) continue;
    const auto d = delivery_of(c, s);
    return !d || d > before ? s : 0;
  }
  return 0;
}

// The writes of the key that other copies had stored and acknowledged (the acknowledgement
// delivered before the asker sent its request, `asked`) and then pushed to the reading copy
// themselves, the push not there yet when it read: {write, push}, empty if none.
struct Pushed {
  const Handled* write = nullptr;
  std::uint64_t push = 0;
  std::uint64_t ack = 0;
};

// The writing copy's first send after `w`, before its next delivery, to a process that is neither
// a copy nor a service: its acknowledgement of the write. 0 if none.
std::uint64_t acknowledgement_after(const DetectContext& c, const Handled& w,
                                    const std::set<int>& copies, const std::set<int>& services) {
  const auto& t = c.trace;
  constexpr std::uint64_t kAckWalk = 64;
  for (auto s = w.seq + 1; s <= c.horizon && s <= w.seq + kAckWalk && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != w.lane) continue;
    if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash) return 0;
    if (e.kind == EventKind::kSend && e.peer != kSimLane && !copies.count(e.peer) &&
        !services.count(e.peer)) {
      return s;
    }
  }
  return 0;
}

std::vector<Pushed> pushed_elsewhere(const DetectContext& c, const std::vector<Handled>& writes,
                                     const Handled& read, std::uint64_t asked,
                                     const std::set<int>& copies, const std::set<int>& services) {
  std::vector<Pushed> out;
  for (const auto& w : writes) {
    if (w.seq >= read.seq) break;
    // A write of the key by the reading copy itself resets nothing here: the push had not
    // arrived, so whatever the copy stored, it had not stored that write.
    if (w.lane == read.lane) continue;
    // Its acknowledgement: the answer to the delivery it was made under, else (a copy that took
    // the request in earlier and stored it after another message woke it) its first send after
    // the write, before its next delivery, to a process that is neither a copy nor a service.
    const auto ack = w.answer ? w.answer : acknowledgement_after(c, w, copies, services);
    if (!ack) continue;
    const auto acknowledged = delivery_of(c, ack);
    if (!acknowledged || acknowledged > asked) continue;
    if (const auto push = pushed_unreached(c, w, read.lane, read.seq)) {
      out.push_back({&w, push, ack});
    }
  }
  return out;
}

// What the reading copy itself did on its read: its first send after it, before its next
// delivery, to a process that is neither a copy nor the requester (the write it made from it).
std::uint64_t reader_acted(const DetectContext& c, const Handled& read,
                           const std::set<int>& copies) {
  const auto& t = c.trace;
  constexpr std::uint64_t kWalk = 256;
  for (auto s = read.seq + 1; s <= c.horizon && s <= read.seq + kWalk && t.has(s); ++s) {
    const auto& e = t.at(s);
    if (e.lane != read.lane) continue;
    if (e.kind == EventKind::kDeliver || e.kind == EventKind::kCrash) return 0;
    if (e.kind == EventKind::kSend && e.peer != kSimLane && !copies.count(e.peer) &&
        e.peer != read.requester) {
      return s;
    }
  }
  return 0;
}

// The latest delivery to the reading copy before `read` from a process that is neither a copy
// nor a service (a client's request it had taken in), within a short walk back. 0 if none.
std::uint64_t client_request_before(const DetectContext& c, const Handled& read,
                                    const std::set<int>& copies, const std::set<int>& services) {
  const auto& t = c.trace;
  constexpr std::uint64_t kWalkBack = 256;
  for (auto s = read.seq; s-- > 1 && read.seq - s <= kWalkBack;) {
    const auto& e = t.at(s);
    if (e.lane != read.lane) continue;
    if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart) return 0;
    if (e.kind == EventKind::kDeliver && e.peer != kSimLane && !copies.count(e.peer) &&
        !services.count(e.peer)) {
      return s;
    }
  }
  return 0;
}

// A copy that read its own storage and acted on it itself (it recorded the order) while another
// copy's acknowledged write of the key was on its way to it, pushed by that copy.
Cause pushed_copy_cause(const DetectContext& c, const std::string& key, const Handled& read,
                        const std::vector<Pushed>& missed, std::uint64_t acted) {
  const auto& t = c.trace;
  const auto* first = missed.front().write;
  const auto push = missed.front().push;
  const auto ack = missed.front().ack;
  Cause cause;
  cause.kind = "stale_read";
  cause.process = t.lane_name(read.lane);
  cause.events = {read.seq, push, ack, first->seq, acted};
  std::uint64_t effect = 0;
  for (const auto& a : c.index.accesses) {
    if (a.client == read.lane && a.served > acted && a.served <= c.horizon &&
        request_sent(t, c.index, a) == acted) {
      effect = a.served;
      break;
    }
  }
  if (effect) cause.events.push_back(effect);
  cause.facts = {{"how", "unreached_copy"},
                 {"key", key},
                 {"read_event", read.seq},
                 {"missed_write_event", first->seq},
                 {"missed_write_ack", first->answer},
                 {"push_event", push},
                 {"decision_event", acted},
                 {"pushed_by_copy", true}};
  if (effect) cause.facts["effect_event"] = effect;
  cause.summary = fmt::format(
      "{} read {} from its storage at #{} ({}) while handling {}'s request and acted on it "
      "itself (#{}, to {}), but {} had stored a write of {} (#{}), acknowledged it to {} (#{}) "
      "before that request was sent, and pushed it to {} at #{}, which had not arrived: a "
      "decision on a copy the acknowledged write had not reached",
      cause.process, key, read.seq, format_time(t.at(read.seq).time), t.lane_name(read.requester),
      acted, t.lane_name(t.at(acted).peer), t.lane_name(first->lane), key, first->seq,
      t.lane_name(first->requester), first->answer, cause.process, push);
  return cause;
}

Cause unreached_copy_cause(const DetectContext& c, const std::string& key, const Handled& read,
                           std::uint64_t taken_in, const std::vector<const Handled*>& missed,
                           std::uint64_t acted) {
  const auto& t = c.trace;
  Cause cause;
  cause.kind = "stale_read";
  cause.process = t.lane_name(read.requester);
  cause.events = {taken_in, read.answer, read.seq};
  std::string acks;
  for (const auto* w : missed) {
    cause.events.push_back(w->answer);
    acks += fmt::format("{}{} (#{}, acknowledged #{})", acks.empty() ? "" : ", ",
                        t.lane_name(w->lane), w->seq, w->answer);
  }
  cause.events.push_back(acted);
  const auto& first = *missed.front();
  cause.facts = {{"how", "unreached_copy"},         {"key", key},
                 {"read_event", read.seq},          {"answer_event", read.answer},
                 {"missed_write_event", first.seq}, {"missed_write_ack", first.answer},
                 {"decision_event", acted}};
  cause.summary = fmt::format(
      "{} answered {} from its storage ({} read at #{}, {}; taken in at #{}) before the write of "
      "{} reached it, while other copies had stored and acknowledged it to {}: {}; {} acted on "
      "the answer at #{} ({}): a decision on a copy the acknowledged write had not reached",
      t.lane_name(read.lane), cause.process, key, read.seq, format_time(t.at(read.seq).time),
      taken_in, key, t.lane_name(first.requester), acks, cause.process, acted,
      format_time(t.at(acted).time));
  return cause;
}

}  // namespace

std::vector<Cause> detect_unreached_copies(const DetectContext& c) {
  std::vector<Cause> out;
  const auto log = storage_log(c);
  const auto services = service_lanes(c.index);
  for (const auto& [key, reads] : log.reads) {
    const auto writes = log.writes.find(key);
    if (writes == log.writes.end()) continue;
    std::set<int> copies;
    for (const auto& w : writes->second) copies.insert(w.lane);
    for (const auto& read : reads) {
      const auto& request = c.trace.at(read.request);
      if (request.parents.size() < 2) continue;
      auto asked_copies = copies;
      asked_copies.insert(read.lane);
      // The requester acted on the copy's answer.
      if (const auto taken_in = read.answer ? delivery_of(c, read.answer) : 0) {
        const auto missed = acknowledged_elsewhere(c, writes->second, read, request.parents.back());
        const auto acted = missed.empty() ? 0 : acted_on(c, taken_in, asked_copies);
        if (acted) {
          out.push_back(unreached_copy_cause(c, key, read, taken_in, missed, acted));
          continue;
        }
      }
      // Or the copy acted on its read itself, while the writing copy's push was on its way. A
      // read made on a service's reply (the copy woke from its own call) serves the request it
      // took in last from a process that is neither a copy nor a service.
      const auto client = services.count(request.peer)
                              ? client_request_before(c, read, asked_copies, services)
                              : read.request;
      if (!client) continue;
      auto served = read;
      served.request = client;
      served.requester = c.trace.at(client).peer;
      const auto acted = reader_acted(c, served, asked_copies);
      if (!acted) continue;
      const auto& asked = c.trace.at(client);
      if (asked.parents.size() < 2) continue;
      const auto pushed =
          pushed_elsewhere(c, writes->second, served, asked.parents.back(), copies, services);
      if (pushed.empty()) continue;
      out.push_back(pushed_copy_cause(c, key, served, pushed, acted));
    }
  }
  return out;
}

std::vector<Cause> detect_own_storage_reads(const DetectContext& c) {
  std::vector<Cause> out;
  const auto log = storage_log(c);
  for (const auto& [key, reads] : log.reads) {
    const auto writes = log.writes.find(key);
    if (writes == log.writes.end()) continue;
    for (const auto& read : reads) {
      if (!read.answer) continue;
      const auto taken_in = delivery_of(c, read.answer);
      if (!taken_in) continue;
      const auto* decision = decided_write(c, writes->second, read, taken_in);
      if (!decision) continue;
      const auto missed = missed_writes(c, writes->second, reads, read, *decision);
      if (!missed.overwritten) continue;
      out.push_back(own_storage_cause(c, key, read, taken_in, missed, *decision));
    }
  }
  return out;
}

}  // namespace seer::explain
