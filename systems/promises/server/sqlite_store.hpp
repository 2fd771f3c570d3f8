// The store on a SQLite file (the default). Durability: WAL with synchronous=FULL, so COMMIT
// returns only after the WAL is fsynced, and the server answers only after COMMIT returns. Writes
// use BEGIN IMMEDIATE (serial commits), reads a deferred transaction (one snapshot for the six
// SELECTs).
#pragma once

#include "sql_store.hpp"

#include "seer/sqlite/connection.hpp"

#include <memory>
#include <string>

namespace seer::promises::server {

// Opens (or creates, with the schema) the database at `path`. Throws std::runtime_error with the
// reason if it cannot be opened, is not a database, or cannot be put in WAL mode.
std::unique_ptr<sqlite::Connection> open_sqlite_database(const std::string& path);

std::unique_ptr<design::PartitionStore> make_sqlite_partition_store(sqlite::Connection& db,
                                                                    ErrorLog log);

}  // namespace seer::promises::server
