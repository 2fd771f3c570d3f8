// Cause detectors: each scans the trace's facts for one kind of bad view or lost knowledge and
// returns candidate causes with their evidence. Ranking against the violation is explain.cpp's job.
#pragma once

#include "accesses.hpp"
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seer::explain {

// A write that saved a position in a listing its writer read (positions.cpp): the listing, the
// position (the greatest listed key the write carries) and the keys it listed, sorted.
struct SavedPosition {
  const Access* listing = nullptr;
  std::string position;
  std::vector<std::string> keys;
};
using SavedPositions = std::map<const Access*, SavedPosition>;  // by the write

struct DetectContext {
  // Finds the saved positions once, for every detector that reads them.
  DetectContext(const Trace& trace, const CausalGraph& graph, const TraceIndex& index,
                std::uint64_t horizon, const std::vector<std::string>* violated = nullptr);
  const Trace& trace;
  const CausalGraph& graph;
  const TraceIndex& index;
  std::uint64_t horizon;  // only events up to the violation count
  // The entities the violation is about, as explain ranks causes against them (explain.cpp's
  // violated entities: the check's own, else its message's, the too common left out); null when
  // not given, and violated_names() finds them again.
  const std::vector<std::string>* violated = nullptr;
  // The writes that saved a position in a listing with a key created behind it (saved_positions).
  SavedPositions positions;
};

// A cause's `facts.how` (which form of its kind it is); empty when it has none.
inline std::string cause_how(const Cause& c) {
  if (!c.facts.is_object()) return "";
  const auto it = c.facts.find("how");
  return it != c.facts.end() && it->is_string() ? it->get<std::string>() : "";
}

// The entities the violation is about: the context's, else checked_entities (entities.hpp).
std::set<std::string> violated_names(const DetectContext& c);
// The sends up to the horizon by the design's processes (not the network's) whose payload names
// one of `named`, in trace order: where the rules that follow the violated entity through the
// design's messages start (an acknowledgement, a request a crash lost, a decision).
std::vector<std::uint64_t> sends_naming(const DetectContext& c, const std::set<std::string>& named);

std::vector<Cause> detect_stale_reads(const DetectContext& c);
std::vector<Cause> detect_outdated_reads(const DetectContext& c);
std::vector<Cause> detect_lost_responses(const DetectContext& c);
std::vector<Cause> detect_duplicates(const DetectContext& c);
std::vector<Cause> detect_crash_losses(const DetectContext& c);
std::vector<Cause> detect_clock_skew(const DetectContext& c);
std::vector<Cause> detect_expired_leases(const DetectContext& c);
std::vector<Cause> detect_stale_derived_writes(const DetectContext& c);
std::vector<Cause> detect_racing_deletes(const DetectContext& c);
// A copy one of the design's own processes relayed to another, stored over a concurrent newer
// write (causes_relayed.cpp).
std::vector<Cause> detect_stale_relayed_copies(const DetectContext& c);
std::vector<Cause> detect_deposed_holders(const DetectContext& c);
// A check one of the design's own processes answered from its storage without a write of the
// same key another of its processes had acknowledged, acted on by a write over that one
// (causes_own_storage.cpp).
std::vector<Cause> detect_own_storage_reads(const DetectContext& c);
// A check answered from one copy's storage before a write of the key reached it, which other
// copies had stored and acknowledged before the check was asked, acted on by the asker (an
// answer, an act): a read quorum that missed an acknowledged write (causes_own_storage.cpp).
std::vector<Cause> detect_unreached_copies(const DetectContext& c);
// A SQL delete that names no row and removed more rows than its deleter's read of the table
// returned, with another process's insert into the table between the read and the delete
// (unbounded_delete.cpp).
std::vector<Cause> detect_unbounded_deletes(const DetectContext& c);
// The same queue message received twice and acted on by both consumers, without the oracle's
// redelivery mark (handed_out_twice.cpp).
std::vector<Cause> detect_handed_out_twice(const DetectContext& c);
// One send delivered twice to the same process, which acted on it more often than one delivery of
// such a message leads it to, without the oracle's mark of the copy (delivered_twice.cpp).
std::vector<Cause> detect_delivered_twice(const DetectContext& c);
// A position counted in rows already read (an OFFSET) carried in the reader's next request, which
// another process's delete of a row already passed moved (counted_positions.cpp).
std::vector<Cause> detect_counted_positions(const DetectContext& c);

// The read write `w`'s value came from when it is an earlier one than `latest`, the writer's latest
// read of the place before it sent `w` (at `sent`): `w` drops a name `latest` returned and carries
// whole what the earlier read returned, which lacked it (a compare-and-set retried with a
// refreshed version and the old value). Null otherwise (earlier_read.cpp).
const Access* read_the_value_came_from(const DetectContext& c, const Access& w,
                                       const Access& latest, std::uint64_t sent);
// Whether read `r` read the place `w` writes: a table it writes a row of (SQL, where a read's
// scope is the whole database), or an overlapping key.
bool reads_place_written(const Access& r, const Access& w);
// Whether read `r` returned what its reader had itself written there before (a token it
// registered, a lock it claimed): such a read checks the reader's own claim, and a write after it
// carries the reader's own value, not a copy of someone else's (causes_derived.cpp).
bool checks_own_write(const DetectContext& c, const Access& r);

// The deadline `data` carries (a message's payload, a write's value): its largest number that reads
// as a clock reading more than a millisecond ahead of `local`, the sender's clock then, in a field
// not named for a duration (causes_clock.cpp). None if none.
std::optional<std::int64_t> deadline_in(const nlohmann::json& data, std::int64_t local);
// A lease granted by message and acted on after the granter gave it to another process
// (causes_granted_leases.cpp).
std::vector<Cause> detect_granted_leases(const DetectContext& c);
// An answer decided on a peer's state copied by message, after the peer had answered the same kind
// of request about the same object itself (causes_peer_copy.cpp).
std::vector<Cause> detect_outdated_peer_copies(const DetectContext& c);
// A role handed over by message (no lease, no record of the holder) that the old holder still
// acted on, answering as the new holder did (causes_handover.cpp).
std::vector<Cause> detect_handed_over_roles(const DetectContext& c);

// The writes up to the horizon that saved a position in a listing their writer had read (a
// cursor: one of the listed keys), where another process created a key behind that position
// after the listing and before the write took effect (positions.cpp). Only the writer's latest
// listing among its latest reads is looked at. Reads only the context's trace, graph, index and
// horizon: the context's constructor calls it.
SavedPositions saved_positions(const DetectContext& c);
// Whether `x` created a key under `listing`'s prefix that the listing did not return (`keys`,
// sorted) and that sorts below `position`: behind the position, a reader resuming past it never
// lists it again.
bool falls_behind(const Access& x, const Access& listing, const std::string& position,
                  const std::vector<std::string>& keys);

// "t=7.183ms"
std::string format_time(std::int64_t ns);
// "get(counter)", or "c1-t0 (db)" for an access without one key (a SQL transaction).
std::string access_named(const Trace& t, const Access& a);
// A value as text, cut short: a summary names it, the facts in --json hold it whole.
std::string abbreviated(const nlohmann::json& value, std::size_t max = 160);
// What kept `lane` from looking again between events `after` and `before` (exclusive): its latest
// pause there, or, if it was already paused at `after`, the resume that ended it; 0 if neither.
std::uint64_t last_pause(const Trace& t, int lane, std::uint64_t after, std::uint64_t before);

}  // namespace seer::explain
