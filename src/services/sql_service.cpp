// The simulated SQL server process and its oracle.
#include "reply_facts.hpp"
#include "seen_messages.hpp"
#include "seer/services/sql.hpp"

#include <map>

namespace seer::services {

namespace {

struct SqlOracle {
  ReplyFacts facts;
  // The transaction waiting for its commit instant, if any: a crash then drops it.
  std::optional<nlohmann::json> pending;
  // Requests already taken, kept across restarts (see kv_service.cpp on duplicates).
  SeenMessages seen;
};

sim::Task<void> serve(sim::Env& env, sim::Simulator& sim, std::string name, SqlConfig config,
                      std::shared_ptr<SqlDatabase> db, std::shared_ptr<SqlOracle> oracle,
                      std::shared_ptr<std::uint64_t> serial) {
  if (oracle->pending) {  // restarted after a crash: the pending transaction never committed
    sim.note("crash_dropped_transaction", std::move(*oracle->pending));
    oracle->pending.reset();
  }
  for (;;) {
    const auto m = co_await env.receive(sim::CodeSite::none());
    const auto* rq = m.as<SqlRequest>();
    if (!rq || !oracle->seen.take(m.id)) continue;
    // Its facts only for a recorded trace (Simulator::note keeps none otherwise).
    oracle->pending = sim.tracing()
                          ? nlohmann::json{{"name", name}, {"label", rq->label}, {"req", rq->req}}
                          : nlohmann::json();
    // A crash here drops the transaction.
    co_await env.sleep(config.commit_latency, sim::CodeSite::none());
    oracle->pending.reset();
    const auto reply_serial = ++*serial;
    db->track(sim.tracing());
    auto outcome = db->execute(rq->statements, rq->label, reply_serial,
                               sim.tracing() ? env.name_of(m.from) : std::string());
    // The facts are read only from a recorded trace: an unrecorded run does not build them (as
    // the KV store's).
    const bool tracing = sim.tracing();
    nlohmann::json facts;
    if (tracing) {
      facts = {{"name", name},
               {"label", rq->label},
               {"serial", reply_serial},
               {"committed", outcome.committed},
               {"commit_index", db->committed().size()},
               {"rows_changed", outcome.rows_changed}};
      if (outcome.accesses.is_array()) facts["statements"] = outcome.accesses;
      if (!db->overtaken().empty()) facts["overtook"] = db->overtaken();
    }
    if (sim.service_fault("lost_response",
                          env.random() % 1'000'000 < sim.faults().lost_response_ppm)) {
      if (tracing) facts["req"] = rq->req;
      sim.note("lost_response", std::move(facts));
      continue;
    }
    if (tracing) oracle->facts.emplace(reply_serial, std::move(facts));
    env.send(m.from, std::make_shared<SqlReply>(rq->req, std::move(outcome), reply_serial),
             sim::CodeSite::none());
  }
}

}  // namespace

SqlService add_sql_service(sim::Simulator& sim, const std::string& name, const SqlConfig& config) {
  auto db = std::make_shared<SqlDatabase>(config.schema);
  auto oracle = std::make_shared<SqlOracle>();
  auto serial = std::make_shared<std::uint64_t>(0);  // survives restarts, like the reply log
  const auto id = sim.add_process(name, [&sim, name, config, db, oracle, serial](sim::Env& env) {
    return serve(env, sim, name, config, db, oracle, serial);
  });
  annotate_replies<SqlReply>(sim, id, std::shared_ptr<const ReplyFacts>(oracle, &oracle->facts));
  return {id, db};
}

}  // namespace seer::services
