// Ranks the detected causes against the violation and keeps the short chain of events behind them.
#include "seer/explain/explain.hpp"

#include "accesses.hpp"
#include "causes.hpp"
#include "entities.hpp"
#include "failing_op.hpp"
#include "fallback.hpp"
#include "stuck.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

namespace seer::explain {

namespace {

constexpr std::size_t kStoryEvents = 40;      // per entity, the latest before the violation
constexpr std::size_t kSliceStoryEvents = 4;  // per entity, of those on the causal path
constexpr std::size_t kSliceStoryTotal = 6;   // of all entities
constexpr std::size_t kSliceMax = 24;         // no story events beyond this slice size

// Whether the cause's evidence touches one of the violated entities.
bool touches_entities(const Cause& c, const std::set<std::uint64_t>& touching,
                      const std::vector<std::string>& entities) {
  if (std::any_of(c.events.begin(), c.events.end(),
                  [&](std::uint64_t s) { return touching.count(s) > 0; })) {
    return true;
  }
  return std::any_of(entities.begin(), entities.end(),
                     [&](const std::string& n) { return data_names(c.facts, n); });
}

// The entities a failing operation is about: the strings in its input (a key, an id).
void add_operation_entities(const nlohmann::json& op, std::vector<std::string>& out) {
  const auto input = op.find("input");
  if (input == op.end()) return;
  std::vector<nlohmann::json> stack{*input};
  while (!stack.empty() && out.size() < 6) {
    const auto j = std::move(stack.back());
    stack.pop_back();
    if (j.is_string() && j.get_ref<const std::string&>().size() >= 2) {
      if (std::find(out.begin(), out.end(), j.get<std::string>()) == out.end()) {
        out.push_back(j.get<std::string>());
      }
    } else if (j.is_array() || j.is_object()) {
      for (const auto& v : j) stack.push_back(v);
    }
  }
}

int base_score(const Cause& c) {
  if (c.kind == "stale_read" || c.kind == "outdated_read") return 60;
  if (c.kind == "lost_response" || c.kind == "crash_lost_data" || c.kind == "kept_alive" ||
      c.kind == "forgotten_sweep" || c.kind == "unanswered") {
    return 55;
  }
  if (c.kind == "expired_lease" || c.kind == "racing_delete" || c.kind == "stale_derived_write") {
    return 62;  // each names a decision, its basis and the write that made the basis wrong
  }
  if (c.kind == "clock_behind" || c.kind == "clock_ahead") return 50;
  if (c.kind == "duplicate_delivery") return 35;
  return 20;
}

// The decision that broke the invariant and what it was taken on: the request whose effect the
// anchor is (or follows), the requester's events since its previous request to that server, and
// the sends of what it received meanwhile (a redelivered job, a retried request).
struct DecisionChain {
  std::set<std::uint64_t> events;
  int requester = kSimLane;
  std::uint64_t asked = 0;  // the request whose effect broke the invariant (or the anchor)
};

DecisionChain decision_chain(const Trace& trace, const TraceIndex& index, std::uint64_t anchor) {
  DecisionChain out;
  auto& chain = out.events;
  if (!trace.has(anchor)) return out;
  const int lane = trace.at(anchor).lane;
  if (lane == kSimLane) return out;
  int requester = lane;
  std::uint64_t asked = anchor;
  int server = kSimLane;
  // The access the anchor's process served at or right after the anchor (a commit is followed by
  // its reply).
  const Access* served = nullptr;
  for (const auto& a : index.accesses) {
    if (a.server == lane && a.served >= anchor && (!served || a.served < served->served)) {
      served = &a;
    }
  }
  if (served && served->client != kSimLane) {
    if (const auto request = request_of(trace, served->served)) {
      const auto& r = trace.at(request);
      if (r.parents.size() > 1) {
        requester = served->client;
        asked = r.parents.back();  // the requester's send
        server = lane;
      }
    }
  }
  // The acknowledgements of the requester's own writes carry nothing it could act on; its
  // previous write to the same server ends the decision (reads in between are part of it).
  std::set<std::uint64_t> acks;
  std::set<std::uint64_t> earlier_writes;
  for (const auto& a : index.accesses) {
    if (a.client != requester || !a.write) continue;
    if (!a.read) acks.insert(a.event);
    if (a.server == server) earlier_writes.insert(request_sent(trace, index, a));
  }
  for (auto s = asked; s >= 1; --s) {
    const auto& e = trace.at(s);
    if (e.lane != requester) continue;
    if (s != asked && e.kind == EventKind::kSend && e.peer == server &&
        (earlier_writes.count(s) || server == kSimLane)) {
      break;
    }
    if (e.kind == EventKind::kStart || e.kind == EventKind::kRestart) break;
    if (acks.count(s)) continue;
    chain.insert(s);
    if (e.kind == EventKind::kDeliver && e.parents.size() > 1) chain.insert(e.parents.back());
    if (chain.size() > 64) break;
  }
  out.requester = requester;
  out.asked = asked;
  return out;
}

// Every detector's causes, found before `detect_until`.
std::vector<Cause> detect_all(const DetectContext& context) {
  std::vector<Cause> all;
  for (auto* detect :
       {detect_stale_reads,       detect_outdated_reads,       detect_lost_responses,
        detect_duplicates,        detect_crash_losses,         detect_clock_skew,
        detect_expired_leases,    detect_deposed_holders,      detect_stale_derived_writes,
        detect_racing_deletes,    detect_stale_relayed_copies, detect_own_storage_reads,
        detect_unreached_copies,  detect_granted_leases,       detect_outdated_peer_copies,
        detect_handed_over_roles, detect_counted_positions,    detect_unbounded_deletes,
        detect_handed_out_twice,  detect_delivered_twice}) {
    auto found = detect(context);
    all.insert(all.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
  }
  // A claim that carries a deadline is a lease: when the lease's own cause names it, that one says
  // more (the expiry, whose clock), and the bare takeover is left out.
  const auto lease_event = [](const Cause& c) {
    return c.facts.is_object() ? c.facts.value("lease_event", std::uint64_t{0}) : 0;
  };
  const auto taken_over = [](const Cause& c) {
    return c.kind == "expired_lease" && cause_how(c) == "taken_over";
  };
  std::set<std::uint64_t> leases;
  for (const auto& c : all) {
    if (c.kind == "expired_lease" && !taken_over(c)) leases.insert(lease_event(c));
  }
  std::erase_if(all, [&](const Cause& c) { return taken_over(c) && leases.count(lease_event(c)); });
  return all;
}

// The entities the violation names, each with its story (the events touching it before the
// horizon). An entity that much of the run touches ("1" in "only 1 of 3 replicas") tells nothing:
// only those within a few times the most specific one's count are kept.
struct Entities {
  std::vector<std::string> names;
  std::vector<EntityStory> stories;
  std::set<std::uint64_t> touching;  // every event of every kept story
};

std::vector<EntityStory> stories_of(const Trace& trace, const std::vector<std::string>& names,
                                    std::uint64_t horizon) {
  std::vector<EntityStory> out;
  for (const auto& entity : names) {
    EntityStory story;
    story.entity = entity;
    for (const auto s : events_touching(trace, entity)) {
      if (s > horizon) break;
      story.events.push_back(s);
    }
    story.touched = story.events.size();
    if (!story.events.empty()) out.push_back(std::move(story));
  }
  return out;
}

std::vector<std::string> string_list(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string() && !v.get_ref<const std::string&>().empty()) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

Entities violated_entities(const Trace& trace, const Explanation& x, std::uint64_t horizon) {
  // The entities the check named itself (Finding::entities) are trusted as they are; the words of
  // its message are the fallback when it named none, or none of them appears in the run.
  auto named = string_list(x.violation.value("entities", nlohmann::json()));
  if (named.size() > 6) named.resize(6);
  auto candidates = stories_of(trace, named, horizon);
  const bool trusted = !candidates.empty();
  if (!trusted) {
    auto names = entities_named(x.violation.value("message", std::string()), trace);
    if (x.failing_op.is_object()) add_operation_entities(x.failing_op, names);
    if (names.size() > 6) names.resize(6);
    candidates = stories_of(trace, names, horizon);
  }
  std::size_t fewest = ~std::size_t{0};
  for (const auto& story : candidates) fewest = std::min(fewest, story.touched);
  const std::size_t common = std::max<std::size_t>(30, 3 * fewest);
  Entities out;
  for (auto& story : candidates) {
    if (!trusted && story.touched > common) continue;
    out.names.push_back(story.entity);
    out.touching.insert(story.events.begin(), story.events.end());
    if (story.events.size() > kStoryEvents) {
      story.events.erase(story.events.begin(), story.events.end() - kStoryEvents);
    }
    out.stories.push_back(std::move(story));
  }
  return out;
}

// For each violated entity that is a key of its own, the last write to it before the horizon.
std::set<std::uint64_t> last_entity_writes(const TraceIndex& index,
                                           const std::vector<std::string>& entities,
                                           std::uint64_t horizon) {
  std::set<std::uint64_t> out;
  for (const auto& entity : entities) {
    std::uint64_t last = 0;
    for (const auto& a : index.accesses) {
      if (!a.write || a.application || a.served > horizon) continue;
      const auto slash = a.scope.find_last_of('/');
      const bool own =
          a.scope == entity || (slash != std::string::npos &&
                                a.scope.compare(slash + 1, std::string::npos, entity) == 0);
      if (own) last = std::max(last, a.served);
    }
    if (last) out.insert(last);
  }
  return out;
}

// What ranking a cause reads besides the cause itself.
struct RankingContext {
  const Trace& trace;
  const CausalGraph& graph;
  const std::optional<FailingOp>& failing;
  const std::set<std::uint64_t>& in_past;  // the anchors' causal past
  const Entities& entities;
  const std::set<std::uint64_t>& last_writes;  // last_entity_writes
  const std::set<std::uint64_t>& chain;        // the decision chain
  std::uint64_t anchor;
  std::uint64_t horizon;
  // A liveness violation's holder (the stuck analysis': it crashed holding the awaited entity, or
  // kept it alive): its causes are the entity's story. Empty otherwise.
  std::string holder;
};

// Evidence inside the failing operation's own causal interval: after its invoke and before its
// completion, on its process or on one that served it (its own read, or the read of the server
// that answered it).
bool inside_failing_op(const Cause& c, const RankingContext& r) {
  const auto& op = *r.failing;
  const auto end = op.complete_event ? op.complete_event : r.horizon;
  const int lane = r.trace.at(op.invoke_event).lane;
  return std::any_of(c.events.begin(), c.events.end(), [&](std::uint64_t s) {
    if (s < op.invoke_event || s > end) return false;
    if (r.trace.at(s).lane == lane) return true;
    return r.graph.happens_before(op.invoke_event, s) &&
           (!op.complete_event || r.graph.happens_before(s, op.complete_event));
  });
}

void score_cause(Cause& c, const RankingContext& r) {
  const auto holds = [&](const std::set<std::uint64_t>& events) {
    return std::any_of(c.events.begin(), c.events.end(),
                       [&](std::uint64_t s) { return events.count(s) > 0; });
  };
  c.causally_before = holds(r.in_past);
  c.score += base_score(c);
  if (c.causally_before) c.score += 30;
  if (r.failing) {
    if (inside_failing_op(c, r)) c.score += 25;
  } else if (touches_entities(c, r.entities.touching, r.entities.names)) {
    c.score += 25;
  } else if (!r.entities.touching.empty() && !c.causally_before) {
    c.score -= 10;  // about other data and not behind the violation: likely noise
  }
  if (c.facts.contains("decision_event") || c.facts.contains("retry_event")) c.score += 10;
  // A reply dropped because its requester was down: the requester did not go on without an
  // answer, it crashed; the crash, not the reply, is the story.
  if (c.kind == "lost_response" && cause_how(c) == "receiver_down") {
    c.score -= 30;
  }
  // A peer's own copy stored over a write it had not seen is inferred from causality alone: no
  // source to follow, no value to compare (a merge and an overwrite look alike in a storage
  // write). A cause with a fact behind it outranks it.
  if (c.facts.is_object() && c.facts.value("own_copy", false)) c.score -= 10;
  // A write decided on the writer's latest read only because it was the latest: nothing in the
  // write names what was read.
  if (cause_how(c) == "latest_read") c.score -= 15;
  // A position counted in rows read, without the record of which row crossed the boundary (a
  // redacted trace: no re-run of the read): any page boundary a delete passed looks the same.
  if (cause_how(c) == "counted_position" && !c.facts.contains("skipped")) c.score -= 15;
  // Work marked done and lost in a crash follows the violated entity itself from the read that
  // brought it to the crash that took it, and shows the restarted process never coming back to it:
  // a final check's anchor (the last event of some other process) need not have it in its past.
  if (cause_how(c) == "marked_done_before_crash") c.score += 20;
  // Its evidence holds the last write to a violated entity's own key (a delete of the object
  // found missing, the put that left the value found wrong): it made the state the invariant saw.
  if (holds(r.last_writes)) c.score += 15;
  // Its evidence is what the process whose request broke the invariant acted on just before.
  if (!r.failing && holds(r.chain)) c.score += 15;
  // The event the invariant broke right after is part of this cause's evidence (the write that
  // broke it).
  if (!r.failing && r.trace.has(r.anchor) &&
      std::find(c.events.begin(), c.events.end(), r.anchor) != c.events.end()) {
    c.score += 20;
  }
  // A liveness violation is about what the entity's holder did not do: a cause of the holder's
  // (its crash, its unanswered call, its lost reply) outranks another process's bad view or
  // skewed clock, which at most changed what others saw of it.
  if (!r.holder.empty() && c.process == r.holder) c.score += 30;
  // Closer to the violation is likelier to be the story (at most 10 points).
  c.score += static_cast<int>(10 * c.events.front() / std::max<std::uint64_t>(r.horizon, 1));
}

// A lost update whose overtaking write or decision was a write made on a lease already expired or
// given away: the lease says why two writers overlapped, the outdated read only how the update
// was lost. The lease is ranked just above the outdated read that holds its act.
void lease_over_lost_update(std::vector<Cause>& all) {
  for (auto& lease : all) {
    if (lease.kind != "expired_lease" || !lease.facts.is_object()) continue;
    const auto act = lease.facts.value("act_event", std::uint64_t{0});
    if (act == 0) continue;
    for (const auto& read : all) {
      if (read.kind != "outdated_read" || read.score < lease.score) continue;
      if (std::find(read.events.begin(), read.events.end(), act) != read.events.end()) {
        lease.score = read.score + 1;
      }
    }
  }
}

// A lease acted on after another process took it over, above the taker's own late act on the
// lease it took (when nobody took that one over): the taker held it alone, while the first holder's
// act made two holders of one lease.
void taken_lease_over_its_taker(std::vector<Cause>& all) {
  for (auto& taken : all) {
    if (taken.kind != "expired_lease" || !taken.facts.is_object()) continue;
    const auto takeover = taken.facts.value("takeover_event", std::uint64_t{0});
    if (takeover == 0) continue;
    for (const auto& taker : all) {
      if (taker.kind != "expired_lease" || !taker.facts.is_object() ||
          taker.facts.contains("takeover_event") || taker.score < taken.score) {
        continue;
      }
      if (taker.facts.value("lease_event", std::uint64_t{0}) == takeover) {
        taken.score = taker.score + 1;
      }
    }
  }
}

// A lost update whose decision is a delete of the key a concurrent write re-filled after the
// deleter's read: `racing_delete` tells the same decision and the same write with the more
// specific kind (the harm is the delete, of the very thing the write put back), so it ranks just
// above the outdated read that names them.
void delete_over_lost_update(std::vector<Cause>& all) {
  for (auto& race : all) {
    if (race.kind != "racing_delete" || !race.facts.is_object()) continue;
    const auto deleted = race.facts.value("delete_event", std::uint64_t{0});
    const auto write = race.facts.value("concurrent_write_event", std::uint64_t{0});
    if (deleted == 0 || write == 0) continue;
    for (const auto& read : all) {
      if (read.kind != "outdated_read" || read.score < race.score || !read.facts.is_object()) {
        continue;
      }
      if (read.facts.value("decision_event", std::uint64_t{0}) == deleted &&
          std::find(read.events.begin(), read.events.end(), write) != read.events.end()) {
        race.score = read.score + 1;
      }
    }
  }
}

// A position counted in rows read whose skipped row is one the violation names: the reader's
// other outdated reads are the same deletes seen from the rows its pages returned (each page's
// own write-back, still right for its rows), while the violated row is the one no page returned.
// It ranks just above the reader's outdated reads.
void skipped_row_over_its_pages(std::vector<Cause>& all, const std::vector<std::string>& names) {
  for (auto& skip : all) {
    if (cause_how(skip) != "counted_position" || !skip.facts.contains("skipped")) continue;
    const bool named = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return data_names(skip.facts["skipped"], n);
    });
    if (!named) continue;
    for (const auto& read : all) {
      if (&read == &skip || read.kind != "outdated_read" || read.process != skip.process) continue;
      if (cause_how(read) == "counted_position" && read.facts.contains("skipped") &&
          std::any_of(names.begin(), names.end(),
                      [&](const std::string& n) { return data_names(read.facts["skipped"], n); })) {
        continue;  // another boundary that skipped it too: the scores decide
      }
      if (read.score >= skip.score) skip.score = read.score + 1;
    }
  }
}

// A message handed out twice, the second time to a consumer that then acted on it: a lost update
// of that receive (the first consumer's ack of the same message overtook it) tells the same
// handing-out as a view overtaken, while the harm is the second handling. The duplicate ranks just
// above the outdated read of its own delivery.
void duplicate_over_its_receive(std::vector<Cause>& all) {
  for (auto& dup : all) {
    if (cause_how(dup) != "handed_out_twice") continue;
    const auto delivery = dup.facts.value("delivery_event", std::uint64_t{0});
    for (const auto& read : all) {
      if (read.kind != "outdated_read" || read.score < dup.score || !read.facts.is_object()) {
        continue;
      }
      if (read.facts.value("read_event", std::uint64_t{0}) == delivery) dup.score = read.score + 1;
    }
  }
}

// A stamp its reader judged with a clock behind the stamp's writer's: an outdated read of the same
// read tells that a later write overtook what was read, while the reader misjudged what it read
// itself (a moment already past, taken for one in its future). The clock ranks just above it.
void clock_over_its_read(std::vector<Cause>& all) {
  for (auto& clock : all) {
    if (cause_how(clock) != "stamp_judged_behind") continue;
    const auto read_event = clock.facts.value("read_event", std::uint64_t{0});
    for (const auto& read : all) {
      if (read.kind != "outdated_read" || read.score < clock.score || !read.facts.is_object()) {
        continue;
      }
      if (read.facts.value("read_event", std::uint64_t{0}) == read_event) {
        clock.score = read.score + 1;
      }
    }
  }
}

// A write made without an answer its writer gave up on (a part of a gather lost or late): a
// copy into the same write of a part that did arrive, overtaken before the write, tells only what
// was stale in what it had, while the write lacked a part altogether (from a log, an UPDATE of
// the table a sum read counts as changing the sum, even when it moved money within it). The
// missing part ranks just above the copy.
void missing_part_over_its_copy(std::vector<Cause>& all) {
  for (auto& lost : all) {
    if (cause_how(lost) != "written_without_answer") continue;
    const auto effect = lost.facts.value("act_effect_event", std::uint64_t{0});
    for (const auto& copy : all) {
      if (copy.kind != "stale_derived_write" || copy.score < lost.score) continue;
      if (std::find(copy.events.begin(), copy.events.end(), effect) != copy.events.end()) {
        lost.score = copy.score + 1;
      }
    }
  }
}

bool shares_evidence(const Cause& a, const Cause& b) {
  return std::any_of(a.events.begin(), a.events.end(), [&](std::uint64_t e) {
    return std::find(b.events.begin(), b.events.end(), e) != b.events.end();
  });
}

// The top causes' evidence (and what is behind the first), the sends behind their deliveries, the
// client operations they serve, and the violation.
std::set<std::uint64_t> slice_of_causes(const Trace& trace, const Explanation& x) {
  std::set<std::uint64_t> slice(x.anchors.begin(), x.anchors.end());
  if (!x.causes.empty()) {
    const auto& top = x.causes.front();
    slice.insert(top.events.begin(), top.events.end());
    for (const auto& b : top.behind) slice.insert(b.events.begin(), b.events.end());
  }
  // The runner-up if it scores close, and any of the next few that shares evidence with the first:
  // two detectors telling one story from two sides (the write on an outdated read is also the act
  // on an expired lease), whose events together are the chain.
  for (std::size_t i = 1; i < x.causes.size() && i < 4; ++i) {
    const auto& c = x.causes[i];
    const bool close = i == 1 && c.score + 20 >= x.causes.front().score;
    if (close || shares_evidence(c, x.causes.front()))
      slice.insert(c.events.begin(), c.events.end());
  }
  for (const auto s : std::set<std::uint64_t>(slice)) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kDeliver && e.parents.size() > 1) slice.insert(e.parents.back());
    // A reply's send: the request it answers (the server's delivery, its previous event) and the
    // requester's send of it.
    if ((e.kind == EventKind::kSend || e.kind == EventKind::kAnnotation) && e.lane >= 0) {
      if (const auto request = request_of(trace, s)) {
        slice.insert(request);
        const auto& r = trace.at(request);
        if (r.parents.size() > 1) slice.insert(r.parents.back());
      }
    }
    // The client operation in progress at that event: its invoke.
    if (e.lane < 0 || e.kind == EventKind::kComplete) continue;
    for (auto p = s; p >= 1; --p) {
      const auto& prior = trace.at(p);
      if (prior.lane != e.lane) continue;
      if (prior.kind == EventKind::kInvoke) {
        slice.insert(p);
        break;
      }
      if (prior.kind == EventKind::kComplete || prior.kind == EventKind::kCrash) break;
    }
  }
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kViolation) slice.insert(e.seq);
  }
  return slice;
}

// The violated entities' events on the causal path to the violation: the latest few of each, the
// most specific entity first, a few in all (the causes' evidence is already in).
void add_story_events(const Trace& trace, const std::vector<EntityStory>& stories,
                      const std::set<std::uint64_t>& in_past, std::set<std::uint64_t>& slice) {
  std::vector<const EntityStory*> by_specificity;
  for (const auto& story : stories) by_specificity.push_back(&story);
  std::stable_sort(by_specificity.begin(), by_specificity.end(),
                   [](const auto* a, const auto* b) { return a->touched < b->touched; });
  std::size_t added = 0;
  for (const auto* story : by_specificity) {
    std::size_t kept = 0;
    for (auto it = story->events.rbegin(); it != story->events.rend() && kept < kSliceStoryEvents &&
                                           added < kSliceStoryTotal && slice.size() < kSliceMax;
         ++it) {
      if (in_past.count(*it) == 0) continue;
      // A message's send says no more than its delivery; keep the side that acted.
      if (trace.at(*it).kind == EventKind::kSend && kept > 0) continue;
      if (slice.insert(*it).second) ++added;
      ++kept;
    }
  }
}

// What the process whose request broke the invariant acted on about the violated entities (a
// retried request, a redelivered job): the start of the decision, and the latest message about
// them it received before it asked (a server handling several clients received it earlier than
// its previous request).
void add_decision_events(const Trace& trace, const DecisionChain& decision,
                         const std::set<std::uint64_t>& touching, std::set<std::uint64_t>& slice) {
  for (const auto s : decision.events) {
    if (touching.count(s)) slice.insert(s);
  }
  for (auto s = decision.asked; s >= 1 && decision.asked - s < 400; --s) {
    const auto& e = trace.at(s);
    if (e.lane != decision.requester || e.kind != EventKind::kDeliver || !touching.count(s)) {
      continue;
    }
    slice.insert(s);
    if (e.parents.size() > 1) slice.insert(e.parents.back());
    break;
  }
}

}  // namespace

Explanation explain_trace(const Trace& trace, const CausalGraph& graph) {
  Explanation x;
  x.system = trace.header.value("system", std::string());
  x.variant = trace.header.value("variant", std::string());
  x.seed = trace.header.value("seed", std::uint64_t{0});
  x.events = trace.events.size();
  x.violation = trace.violation();
  if (!x.violation.is_object()) return x;
  const auto anchor = x.violation.value("event", std::uint64_t{0});
  const std::uint64_t horizon = trace.has(anchor) ? anchor : trace.events.size();
  std::optional<FailingOp> failing;
  if (x.violation.value("invariant", std::string()) == "linearizable") {
    failing = find_failing_op(trace);
  }
  if (failing) x.failing_op = failing_op_json(*failing);
  const auto index = index_trace(trace);
  // The entities the violation names anchor the story and the ranking.
  auto entities = violated_entities(trace, x, horizon);
  x.stories = entities.stories;
  // A liveness violation is about what never happened: it starts from the awaited entity's last
  // event (the last progress toward it), and says why nothing followed.
  std::uint64_t anchor_event = anchor;
  std::optional<Cause> holder_crash;  // a liveness violation's holder that crashed holding it
  std::optional<Cause> kept_alive;    // or that kept it alive after a call got no answer
  std::optional<Cause> forgotten;     // or that stopped visiting it while it visited others
  std::optional<Cause> unanswered;    // or a peer that never answered the processes at it
  std::string holder;
  if (is_liveness_violation(x.violation)) {
    auto stuck = entities.names.empty()
                     ? explain_unnamed_stuck(trace, horizon)
                     : explain_stuck(trace, index, entities.names.front(),
                                     events_touching(trace, entities.names.front()), horizon);
    x.stuck = std::move(stuck.json);
    if (stuck.last_progress && !entities.names.empty()) anchor_event = stuck.last_progress;
    if (!entities.names.empty()) {
      holder_crash = holder_crash_cause(trace, stuck, entities.names.front());
      kept_alive = kept_alive_cause(trace, stuck, entities.names.front());
      forgotten = forgotten_cause(trace, stuck, entities.names.front());
      unanswered = unanswered_stuck_cause(trace, stuck, entities.names.front());
      if (stuck.holder_lane() != kSimLane) holder = trace.lane_name(stuck.holder_lane());
    }
  }
  if (failing) {
    // Start from the operation that could not be placed, not from the end of the run.
    x.anchors.push_back(failing->complete_event ? failing->complete_event : failing->invoke_event);
  } else if (trace.has(anchor_event)) {
    x.anchors.push_back(anchor_event);
  }
  const auto past = graph.past(x.anchors);
  x.causal_past = past.size();
  const std::set<std::uint64_t> in_past(past.begin(), past.end());

  // What happened after the operation that could not be placed cannot explain its result.
  const std::uint64_t detect_until =
      failing && failing->complete_event ? failing->complete_event : horizon;
  const DetectContext context(trace, graph, index, detect_until, &entities.names);
  auto all = detect_all(context);
  // Nothing kind-specific found: the decisions on the violated entity and their inputs.
  if (all.empty() && !holder_crash && !kept_alive && !forgotten && !unanswered) {
    all = detect_overtaken_decision_inputs(context);
    if (all.empty()) all = detect_work_lost_in_crash(context);
  }
  if (holder_crash) {
    // What the stuck analysis found is the liveness violation's story: the entity's holder died
    // with it. Its crash comes after the last progress, outside that event's causal past, so it
    // starts with the points the causal past would have given it.
    holder_crash->score = 30;
    all.push_back(std::move(*holder_crash));
  }
  // The kept-alive holder's unanswered call ends at the analysis' anchor: it gets the causal
  // past's points as any cause there does.
  if (kept_alive) all.push_back(std::move(*kept_alive));
  if (forgotten) all.push_back(std::move(*forgotten));
  // The silent peer's deliveries come after the last progress, outside its causal past: the
  // points a holder's crash gets.
  if (unanswered) {
    unanswered->score = 30;
    all.push_back(std::move(*unanswered));
  }
  const auto decision =
      decision_chain(trace, index, anchor_event == anchor ? horizon : anchor_event);
  const auto last_writes = last_entity_writes(index, entities.names, horizon);
  const RankingContext ranking{trace,       graph,           failing,      in_past, entities,
                               last_writes, decision.events, anchor_event, horizon, holder};
  for (auto& c : all) score_cause(c, ranking);
  lease_over_lost_update(all);
  taken_lease_over_its_taker(all);
  delete_over_lost_update(all);
  duplicate_over_its_receive(all);
  clock_over_its_read(all);
  missing_part_over_its_copy(all);
  skipped_row_over_its_pages(all, entities.names);
  // At equal scores the later evidence first: the read an answer was computed from is the last
  // one its server made before answering.
  std::stable_sort(all.begin(), all.end(), [](const Cause& a, const Cause& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.events.front() > b.events.front();
  });
  if (all.size() > 8) all.resize(8);
  x.causes = std::move(all);

  // The minimal event sequence.
  auto slice = slice_of_causes(trace, x);
  add_story_events(trace, x.stories, in_past, slice);
  add_decision_events(trace, decision, entities.touching, slice);
  x.slice.assign(slice.begin(), slice.end());
  return x;
}

}  // namespace seer::explain
