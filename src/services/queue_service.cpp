// The simulated queue's server process and its oracle.
#include "fault_draw.hpp"
#include "reply_facts.hpp"
#include "seen_messages.hpp"
#include "seer/services/queue.hpp"

#include <vector>

namespace seer::services {

namespace {

struct QueueOracle {
  ReplyFacts facts;  // by reply serial, while tracing
};

sim::Task<void> serve(sim::Env& env, sim::Simulator& sim, std::string name, QueueConfig config,
                      std::shared_ptr<QueueTruth> q, std::shared_ptr<QueueOracle> oracle) {
  std::uint64_t serial = 0;
  SeenMessages seen;  // see kv_service.cpp
  for (;;) {
    const auto m = co_await env.receive(sim::CodeSite::none());
    const auto* rq = m.as<QueueRequest>();
    if (!rq || !seen.take(m.id)) continue;
    const sim::Time now = env.now();
    nlohmann::json facts = {{"name", name}, {"op", queue_op_name(rq->op)}};
    bool found = false;
    std::int64_t id = 0;
    nlohmann::json body;
    switch (rq->op) {
      case QueueOp::kEnqueue: {
        id = q->next_id++;
        const sim::Time ready = now + std::max<sim::Duration>(rq->delay, 0);
        q->messages.emplace(id, QueueTruth::Entry{rq->body, ready, ready, 0, false});
        facts["message_id"] = id;
        facts["body"] = rq->body;
        facts["applied"] = true;
        break;
      }
      case QueueOp::kReceive: {
        std::vector<std::int64_t> visible;
        std::vector<std::int64_t> in_flight;
        for (const auto& [mid, e] : q->messages) {
          if (e.acked) continue;
          (e.visible_at <= now ? visible : in_flight).push_back(mid);
        }
        const auto& profile = sim.faults();
        std::int64_t pick = 0;
        bool duplicate_now = false;
        if (!in_flight.empty() &&
            sim.service_fault("redelivery", fault_drawn(env, profile.duplicate_ppm))) {
          // At-least-once, inside the contract: hand out a message another consumer still holds.
          pick = in_flight[env.random() % in_flight.size()];
          duplicate_now = true;
        } else if (!visible.empty()) {
          pick = visible.front();
          if (visible.size() > 1 &&
              sim.service_fault("reorder", fault_drawn(env, profile.reorder_ppm))) {
            pick = visible[env.random() % visible.size()];
          }
        }
        if (pick == 0) {
          facts["found"] = false;
          facts["in_flight"] = in_flight.size();
          break;
        }
        auto& e = q->messages.at(pick);
        const sim::Time waited = duplicate_now ? 0 : now - e.visible_at;
        ++e.deliveries;
        e.visible_at = now + config.visibility_timeout;
        found = true;
        id = pick;
        body = e.body;
        facts["found"] = true;
        facts["message_id"] = pick;
        facts["delivery"] = e.deliveries;
        facts["duplicate"] = e.deliveries > 1;
        facts["while_in_flight_elsewhere"] = duplicate_now;
        facts["out_of_order"] = !visible.empty() && pick != visible.front();
        facts["visible_for_ns"] = waited;
        facts["overdue"] = waited > config.overdue_after;
        break;
      }
      case QueueOp::kAck: {
        const auto it = q->messages.find(rq->message_id);
        const bool applied = it != q->messages.end() && !it->second.acked;
        if (applied) it->second.acked = true;
        id = rq->message_id;
        found = it != q->messages.end();
        facts["message_id"] = rq->message_id;
        facts["applied"] = applied;
        if (found) facts["deliveries"] = it->second.deliveries;
        break;
      }
    }
    const auto reply_serial = ++serial;
    if (sim.service_fault("lost_response", fault_drawn(env, sim.faults().lost_response_ppm))) {
      facts["req"] = rq->req;
      sim.note("lost_response", std::move(facts));
      continue;
    }
    if (sim.tracing()) oracle->facts.emplace(reply_serial, std::move(facts));
    env.send(m.from,
             std::make_shared<QueueReply>(rq->req, found, id, std::move(body), reply_serial),
             sim::CodeSite::none());
  }
}

}  // namespace

QueueService add_queue_service(sim::Simulator& sim, const std::string& name,
                               const QueueConfig& config) {
  auto truth = std::make_shared<QueueTruth>();
  auto oracle = std::make_shared<QueueOracle>();
  const auto id = sim.add_process(name,
                                  [&sim, name, config, truth, oracle](sim::Env& env) {
                                    return serve(env, sim, name, config, truth, oracle);
                                  },
                                  {.crashable = false});
  annotate_replies<QueueReply>(sim, id, std::shared_ptr<const ReplyFacts>(oracle, &oracle->facts));
  return {id, truth};
}

}  // namespace seer::services
