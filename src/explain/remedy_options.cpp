// The standard fixes per cause kind (docs/explain.md, "What would have prevented it"). They are
// the textbook remedies for each anomaly, phrased for the event explain names, never for a design.
#include "remedy_options.hpp"

#include "causes.hpp"

namespace seer::explain {

namespace {

using Options = std::vector<std::string>;

const Options kConditionalWrite = {
    "make the decision's write conditional on what it read: a compare-and-set on the version "
    "read, or an UPDATE whose WHERE repeats the condition checked and that expects one changed "
    "row, so a view made outdated fails instead of acting",
    "or read and write in one serializable transaction (or under a lock whose fencing token the "
    "store checks on the write)"};

Options read_options(const Cause& c) {
  const std::string how = cause_how(c);
  if (how == "position") {
    return {
        "advance the saved position only past keys known to be complete (a low watermark "
        "below every write still in progress), or number entries when they commit rather "
        "than when they start",
        "or re-read a margin behind the saved position and skip what was already handled"};
  }
  if (how == "counted_position") {
    return {
        "resume after the last key read (keyset pagination: WHERE key > the last one read, in "
        "the same order), not after a count of rows read, which a delete behind it moves",
        "or read the whole range in one snapshot (one transaction, or a snapshot the pages "
        "share)"};
  }
  if (how == "own_storage" || how == "peer_copy") {
    return {
        "decide at the copy that owns the data (or have it confirm), not at a copy another "
        "process may have changed since",
        "or carry the version of the copy with the decision and have the owner reject it "
        "when the version moved"};
  }
  if (how == "unreached_copy") {
    return {
        "read from enough copies that every read meets every acknowledged write (a read quorum "
        "R with R + W > N), and act on the newest answer: refuse if any copy has the write",
        "or acknowledge a write only once every copy a read may ask has stored it (W = N), or "
        "read from the copy that orders the writes (a leader)"};
  }
  if (how == "earlier_read") {
    return {
        "compute the written value from the same read that gave the version the write "
        "expects: on a conflict, re-read and recompute the value, not only the version",
        kConditionalWrite[1]};
  }
  if (how == "decided_by_message") {
    return {
        "send the version read with the message and have its receiver re-check it before "
        "acting (a compare-and-set there)",
        kConditionalWrite[1]};
  }
  if (c.kind == "stale_read") {
    return {
        "read from the authoritative copy (the leader, a quorum, a linearizable read) for "
        "reads that decide a write",
        kConditionalWrite[0]};
  }
  return kConditionalWrite;
}

Options lease_options(const Cause& c) {
  const std::string how = cause_how(c);
  Options options;
  if (how == "handed_over") {
    options.emplace_back(
        "have the old holder stop serving the role before the new one starts (an epoch the "
        "requests carry and the resource checks), not only tell it by message");
  }
  options.emplace_back(
      "check the lease immediately before acting, in the same write that acts (WHERE holder = me "
      "AND expires > now), with a margin for clock error");
  options.emplace_back(
      "give the resource a fencing token (the lease's epoch) and have it reject a holder whose "
      "token is older than the latest it has seen");
  return options;
}

Options lost_response_options(const Cause& c) {
  if (cause_how(c) == "answer_taken_for_next") {
    return {
        "match each answer to its request: carry the request's id in the answer and drop an "
        "answer to a request already given up on (or close the connection after a timeout, "
        "so a late answer is never read as the next request's)"};
  }
  if (cause_how(c) == "written_without_answer") {
    return {
        "after a timeout ask the silent server again (or fail the whole operation): write only "
        "from every part's answer, never count the silence as an empty answer",
        "or mark what is written as partial (which parts it lacks) so its readers do not take it "
        "for the whole"};
  }
  if (cause_how(c) == "redone_elsewhere") {
    return {
        "deduplicate by one request id across every path that can perform the effect (the "
        "retry and the other path must carry the same id to the same check)",
        "or, after a timeout, ask for the outcome of the first request before redoing it"};
  }
  return {
      "give the request an id and have the server record it with the effect in one atomic "
      "write, answering a repeat from the record (idempotent retries)",
      "after a timeout, read the outcome (or retry the same request with the same id) "
      "instead of assuming it failed; drop answers to requests already given up on"};
}

Options crash_options(const Cause& c) {
  const std::string how = cause_how(c);
  if (how == "repeated_after_crash") {
    return {
        "record the side effect's completion durably in the same step as the effect (an "
        "outbox), and have its receiver deduplicate by an id"};
  }
  if (how == "crashed_mid_request") {
    return {
        "record the request's intent durably before its first step (a saga log), and on "
        "restart finish or compensate every intent not marked done",
        "or make the steps one atomic write (a transaction over every place they change)"};
  }
  if (how == "durable_ahead") {
    return {
        "make a record that vouches for other writes (a \"done\" marker, a commit record) "
        "durable only after them: write them first, sync, then the record (or one atomic "
        "write of all)",
        "on restart, check that what the record vouches for is there before answering from it"};
  }
  if (how == "erase_taken_back") {
    return {
        "make the durable summary (a snapshot, a compaction) say which of the erased data it "
        "holds (the last entry it folded in), and on recovery add only what came after it",
        "or make the summary and the erases one atomic step (sync the erases before relying on "
        "the summary)"};
  }
  if (how == "marked_done_before_crash") {
    return {
        "record progress (a watermark, a checkpoint) only after the work it covers is written: "
        "the work first, then the mark (a crash then makes the work run again, so make it "
        "idempotent)",
        "or write the work and the mark in one atomic step"};
  }
  if (how == "id_reused_after_crash") {
    return {
        "persist the counter (or a reserved range of it) before handing out ids, or derive "
        "ids from something a restart cannot reuse (an epoch or incarnation number)"};
  }
  return {
      "acknowledge only after the write is durable (synced, committed) and, when the data "
      "must survive the node, after a backup or quorum has it",
      "on restart, recover what was acknowledged from the durable log before serving"};
}

}  // namespace

std::optional<std::vector<std::string>> remedy_options(const Cause& c) {
  const std::string& k = c.kind;
  if (k == "stale_read" || k == "outdated_read") return read_options(c);
  if (k == "stale_derived_write") {
    return Options{
        "carry the source's version with the derived write (the copy, the cache fill, the "
        "relayed value) and have the destination keep only a newer version",
        "or derive inside the transaction that changes the source, or invalidate after the "
        "fill so a late fill cannot outlive the change"};
  }
  if (k == "racing_delete" && cause_how(c) == "wider_than_read") {
    return Options{
        "bound the delete to what was read: delete the rows by the ids (or up to the highest "
        "id) the read returned, not the whole table, and expect that many changed rows",
        "or read and delete in one serializable transaction"};
  }
  if (k == "racing_delete") {
    return Options{
        "make the delete conditional on what it checked, in one transaction (delete only if "
        "nothing references it now, or only the version checked), or mark it deleted first and "
        "have new references check the mark"};
  }
  if (k == "expired_lease") return lease_options(c);
  if (k == "clock_behind" || k == "clock_ahead") {
    return Options{
        "do not order or window events by stamps from different processes' clocks: take them "
        "from one clock (the database's NOW(), a sequencer) or use versions / logical clocks",
        "where a local clock must decide, allow for the largest skew between the clocks"};
  }
  if (k == "lost_response") return lost_response_options(c);
  if (k == "duplicate_delivery") {
    return Options{
        "make the handler idempotent: record the message or item id with its effect in one "
        "atomic write and skip ids already recorded, or make the effect a set, not an increment"};
  }
  if (k == "crash_lost_data") return crash_options(c);
  if (k == "kept_alive") {
    return Options{
        "bound the whole operation, not each renewal: a holder that gets no answer within a "
        "deadline releases or fails the entity instead of renewing it"};
  }
  if (k == "forgotten_sweep") {
    return Options{
        "keep the sweep's position durably and restart the sweep after a crash, a pause or a "
        "partition heals, so no entity is left unvisited"};
  }
  if (k == "unanswered") {
    return Options{
        "stop asking a peer that cannot answer: back off, fail over to another peer, or give "
        "up and release what is held"};
  }
  return std::nullopt;  // a fault behind another cause
}

}  // namespace seer::explain
