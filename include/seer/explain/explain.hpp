// Explains a failing run from its trace alone: starts at the violation, finds the decisions taken
// on a stale or incomplete view and the faults behind them (using the oracle's forbidden facts),
// ranks them, and keeps the short chain of events that connects them to the violation.
#pragma once

#include "seer/explain/causal_graph.hpp"
#include "seer/explain/trace_file.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace seer::explain {

// Cause kinds (docs/explain.md):
//   stale_read          a process acted on a reply that did not reflect the latest write
//   outdated_read       a read was fresh when served, but another write landed before the decision
//                       based on it took effect (lost update / write skew)
//   lost_response       a request took effect but its requester never learned it (the service lost
//                       the reply, the network dropped it, or it arrived after the requester gave
//                       up)
//   duplicate_delivery  the same message or queue item was handled more than once
//   crash_lost_data     a crash took back writes that were not yet durable, or an open transaction
//                       (for a liveness violation also: the awaited entity's holder crashed with
//                       it)
//   kept_alive          (liveness) the awaited entity's holder got no answer to an operation on it
//                       and then only renewed it (a heartbeat) instead of finishing or releasing it
//   clock_behind / clock_ahead
//                       two processes' clock-derived stamps order their writes against real time
//   expired_lease       a process acted after the lease (deadline) it held had expired in real
//                       time, while another process had taken it over
//   stale_derived_write a write carried a value read from elsewhere after another write had
//                       changed it (a cache fill landing after the invalidation)
//   racing_delete       a delete decided on a read that a concurrent write referencing the deleted
//                       object made stale
//   message_dropped / message_delayed / message_reordered / process_crashed / process_paused /
//   lagging_replica / partition
//                       the faults behind a stale view (listed under a cause's `behind`)
struct Cause {
  std::string kind;
  std::string process;                // who acted on the view (or whose data was lost)
  std::vector<std::uint64_t> events;  // the evidence; the first is the cause's own event
  std::string summary;                // one sentence with times, processes and event ids
  nlohmann::json facts;               // the forbidden facts behind it
  std::vector<Cause> behind;          // why it happened (e.g. why the replica was behind)
  int score = 0;                      // ranking: higher first
  bool causally_before = false;       // in the causal past of the violation
};

// Every event that touched one entity the violation names (a key, a file, an invoice, a task), up
// to the violation, across processes in true time: the story explain tells first.
struct EntityStory {
  std::string entity;
  std::vector<std::uint64_t> events;  // in order; at most the latest kStoryEvents
  std::size_t touched = 0;            // how many events touched it in all
};

struct Explanation {
  std::string system;
  std::string variant;
  std::uint64_t seed = 0;
  nlohmann::json violation;            // invariant, message, event, time (null: the run held)
  std::vector<std::uint64_t> anchors;  // the events the violation is about
  // For a linearizability violation: the operation the checker could not place (process, f, input,
  // output, invoke_event, complete_event, checker_explanation); null otherwise.
  nlohmann::json failing_op;
  // For a liveness violation: what the property waited for and why nothing brought it about
  // (property, entity, heal, bound_ns, last_progress, processes, undelivered, touched_after_heal,
  // pattern, why); null otherwise. docs/explain.md, "Liveness".
  nlohmann::json stuck;
  std::vector<EntityStory> stories;  // the violated entities' events, before the causes
  std::vector<Cause> causes;         // ranked, most relevant first
  std::vector<std::uint64_t> slice;  // the minimal event sequence, in order
  std::size_t causal_past = 0;       // events causally before the violation
  std::size_t events = 0;
};

Explanation explain_trace(const Trace& trace, const CausalGraph& graph);

nlohmann::json explanation_json(const Explanation& x, const Trace& trace);
std::string explanation_text(const Explanation& x, const Trace& trace);
// One line describing an event (`#23 t=7.183ms client2 deliver kv_reply from kv ...`).
std::string describe_event(const Trace& trace, std::uint64_t seq);
// The same, with the process's own clock beside the true time when it was skewed (`client2's
// clock 9.120ms`) and what the oracle knew of it (`STALE: latest revision 7`).
std::string describe_story_event(const Trace& trace, std::uint64_t seq);

}  // namespace seer::explain
