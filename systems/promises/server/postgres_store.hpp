// The store on PostgreSQL 15 (`--db postgres://...`). Durability: the session sets
// synchronous_commit = on, and a server with fsync off is refused, so COMMIT returns only after
// the WAL record is flushed, and the server answers only after COMMIT returns. Reads run in
// REPEATABLE READ READ ONLY (one snapshot for a read's SELECTs) on the loop's own connection;
// writes commit in groups (group_commit.hpp) on one connection shared by the loops, in READ
// COMMITTED: the guard's UPDATE takes the origin row's lock, and a concurrent writer's guard,
// re-evaluated on the committed row, finds the revision moved and changes nothing
// (../concrete/README.md).
#pragma once

#include "group_commit.hpp"
#include "sql_store.hpp"

#include "seer/postgres/connection.hpp"

#include <memory>
#include <string>

namespace seer::promises::server {

// Connects and creates the schema if the database has none (under an advisory lock, so servers
// starting together create it once). Throws std::runtime_error with the reason.
std::unique_ptr<postgres::Connection> open_postgres_database(const std::string& url);

// Reads on `reader` (the loop's own connection); writes through `writes`, shared by every loop.
std::unique_ptr<design::PartitionStore> make_postgres_partition_store(postgres::Connection& reader,
                                                                      GroupCommit& writes,
                                                                      ErrorLog log);

}  // namespace seer::promises::server
