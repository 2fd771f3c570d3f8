// The production server's store: the concrete SQL (../concrete/README.md) on a SQLite file. The
// design's server algorithm runs over it unchanged; here every store call completes before it
// returns, as a local database's does.
//
// Durability: WAL with synchronous=FULL, so COMMIT returns only after the WAL is fsynced, and the
// server answers only after COMMIT returns. Writes use BEGIN IMMEDIATE (serial commits), reads a
// deferred transaction (one snapshot for the six SELECTs).
#pragma once

#include "promises/design/partition_store.hpp"
#include "seer/sqlite/connection.hpp"

#include <functional>
#include <memory>
#include <string>

namespace seer::promises::server {

// Opens (or creates, with the schema) the database at `path`. Throws std::runtime_error with the
// reason if it cannot be opened, is not a database, or cannot be put in WAL mode.
std::unique_ptr<sqlite::Connection> open_sqlite_database(const std::string& path);

// Where the store reports what went wrong (a full disk, a corrupt row): one line each.
using ErrorLog = std::function<void(const std::string&)>;

std::unique_ptr<design::PartitionStore> make_sqlite_partition_store(sqlite::Connection& db,
                                                                    ErrorLog log);

}  // namespace seer::promises::server
