// The KV store and the SQL database as real processes: the same request/reply protocol as the
// simulated services (kv_client.hpp, sql_client.hpp), so the unchanged KvClient and SqlClient
// work against them over a TcpNode. Each is a process written against Env, like the designs that
// call them.
#pragma once

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

namespace seer::sqlite {
class Connection;
}

namespace seer::runtime {

// A linearizable KV store on one node: requests are taken one at a time, and a write is made
// durable (env.sync(), a FileStorage's fsync) before its reply is sent, so an acknowledged write
// survives a crash of the server. Keys and revisions live in env.storage(); a restart continues
// from them (revisions keep counting up, as etcd's do).
sim::Task<void> serve_kv(sim::Env& env);

// A SQL database on one SQLite connection: each request is one transaction (BEGIN IMMEDIATE ...
// COMMIT), answered once committed; durability is the connection's (WAL, synchronous=FULL).
sim::Task<void> serve_sql(sim::Env& env, sqlite::Connection& db);

}  // namespace seer::runtime
