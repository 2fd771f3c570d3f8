// The real SQL database (servers.hpp).
#include "seer/runtime/servers.hpp"
#include "seer/services/sql_client.hpp"
#include "seer/sqlite/connection.hpp"

namespace seer::runtime {

sim::Task<void> serve_sql(sim::Env& env, sqlite::Connection& db) {
  std::uint64_t serial = 0;
  for (;;) {
    const auto m = co_await env.receive();
    const auto* rq = m.as<services::SqlRequest>();
    if (!rq) continue;
    const auto outcome = db.transact(rq->statements, sqlite::Begin::kImmediate);
    env.send(m.from, std::make_shared<services::SqlReply>(rq->req, outcome, ++serial));
  }
}

}  // namespace seer::runtime
