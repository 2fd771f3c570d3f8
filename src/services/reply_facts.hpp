// The oracle's facts about a simulated service's replies, attached to the reply's trace events.
#pragma once

#include "seer/sim/simulator.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>

namespace seer::services {

// A service's facts by reply serial, kept while tracing.
using ReplyFacts = std::map<std::uint64_t, nlohmann::json>;

// Puts `facts[serial]` under "service" in the oracle of every send, delivery and drop of a `Reply`
// that `service` sent: on the send too, so a reply still in flight when the run ends keeps its
// facts. Replies are told apart by their sender as well as their serial: two services of one kind
// in a run (two databases) number their replies each from 1.
template <typename Reply>
void annotate_replies(sim::Simulator& sim, sim::ProcessId service,
                      std::shared_ptr<const ReplyFacts> facts) {
  sim.add_annotator([service, facts = std::move(facts)](sim::TraceEvent& e) {
    if (e.kind != sim::EventKind::kSend && e.kind != sim::EventKind::kDeliver &&
        e.kind != sim::EventKind::kDrop) {
      return;
    }
    if (!e.payload || e.payload->from != service) return;
    const auto* reply = e.payload->as<Reply>();
    if (!reply) return;
    const auto it = facts->find(reply->serial);
    if (it == facts->end()) return;
    // Under "service", so the network's own facts (in_flight_ns, duplicate, ...) stay distinct.
    e.oracle["service"] = it->second;
  });
}

}  // namespace seer::services
