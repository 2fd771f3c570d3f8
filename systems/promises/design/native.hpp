// The native target's design (concrete/postgres-native/README.md) in simulation: no server. The
// protocol runs inside the database, each request one transaction (resonate_rpc) holding its
// origin's row lock; a step's execute and unblock messages are outbox rows written in the step's
// transaction, and a NOTIFY at commit wakes the nodes that LISTEN. Nodes (the SDK's
// PostgresNetwork) drain on every wake-up and on a 250 ms tick: process_timeouts() (the sweep),
// then dequeue the outbox rows (deleted by the dequeue's own transaction) and deliver them to the
// processes at their address. Clients and workers call the database directly.
//
// The simulated database is one SQLite per run (services::SqlDatabase, the concrete schema plus
// the outbox) in a process of its own that runs one transaction at a time, at its commit instant
// after the commit latency: a crash before then drops it, a lost response leaves it committed and
// unanswered. Running one at a time is what the origin's row lock gives the transactions of one
// origin (and more: the transactions of different origins are serialised too).
#pragma once

#include "design.hpp"

#include "seer/services/sql.hpp"
#include "seer/sim/simulator.hpp"

#include <memory>

namespace seer::promises::design {

// How often a node drains without a wake-up (PostgresNetwork's tick), and how many nodes run.
inline constexpr sim::Duration kNativeTick = sim::milliseconds(250);
inline constexpr int kNativeNodes = 2;

// The database the oracle reads as its ground truth: the concrete SQLite schema and the outbox.
std::shared_ptr<services::SqlDatabase> make_native_database();

// Adds the database process ("postgres") and the nodes ("node1".."nodeN") to `sim`;
// `deployment->servers` becomes the database (clients and workers call it, over fenced
// connections: a restart of the database ends its sessions). Call before the workers and clients
// are added; the nodes read `deployment->addresses` when they run.
void add_native(sim::Simulator& sim, const Variant& variant, std::shared_ptr<Deployment> deployment,
                std::shared_ptr<services::SqlDatabase> database, sim::HistoryRecorder* history,
                std::shared_ptr<HistoryIds> ids);

}  // namespace seer::promises::design
