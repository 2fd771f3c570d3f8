// The store on a SQLite file (the default). Durability: WAL with synchronous=FULL, so COMMIT
// returns only after the WAL is fsynced, and the server answers only after COMMIT returns. Writes
// commit in groups (group_commit.hpp: one BEGIN IMMEDIATE and one fsync for the writes waiting
// together), reads are a deferred transaction (one snapshot for a read's SELECTs).
#pragma once

#include "group_commit.hpp"
#include "sql_store.hpp"
#include "storage_guard.hpp"

#include "seer/sqlite/connection.hpp"

#include <memory>
#include <string>

namespace seer::promises::server {

// Opens (or creates, with the schema) the database at `path`. Throws std::runtime_error with the
// reason if it cannot be opened, is not a database, or cannot be put in WAL mode.
std::unique_ptr<sqlite::Connection> open_sqlite_database(const std::string& path);

// Reads on `reader` (the loop's own connection); writes through `writes`, shared by every loop on
// the file, so they queue there (and commit in groups) rather than in SQLite's busy handler, which
// sleeps a millisecond and more between tries. Another process on the file is still waited for
// by busy_timeout.
// After every transaction the file must still be `identity`; if it is not, the transaction counts
// as failed (nothing is answered from it) and `fatal` is told why (the server stops).
std::unique_ptr<design::PartitionStore> make_sqlite_partition_store(
    sqlite::Connection& reader, GroupCommit& writes, ErrorLog log,
    const FileIdentity* identity = nullptr, std::function<void(const std::string&)> fatal = {});

}  // namespace seer::promises::server
