// The concrete specification's SQL (README.md, "One request" and "The sweep") as statements with
// parameters, and the mapping between an origin's rows and the model's σ. Both the simulated
// adapter (design/sql_store.*) and the production server run exactly these statements, so the SQL
// that passes the seed sweep is the SQL in production. The statements are in the dialect SQLite and
// PostgreSQL share; the PostgreSQL connection renumbers the `?N` parameters `$N`.
#pragma once

#include "promises/model/footprint.hpp"
#include "promises/model/state.hpp"
#include "seer/sqlite/connection.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace seer::promises::concrete {

inline constexpr std::int64_t kNoClock = std::numeric_limits<std::int64_t>::min();

// A statement and its parameters; expect_changes is the guard (the transaction rolls back unless
// the statement changed exactly so many rows).
using SqlStep = sqlite::Statement;

// One origin as stored: its σ, the revision it was read at (0: no row yet) and its clock.
struct StoredOrigin {
  std::int64_t revision = 0;
  std::int64_t clock = kNoClock;
  State state;
  std::int64_t next_timeout_position = 0;  // one past the largest task_timeouts.position
};

// SQLite's storage settings for a server's file (README.md, "Durability"). Every write of the
// server changes rows at random keys in three or four B-trees, so a commit's WAL volume is pages,
// not rows: a new file's pages are 1 KiB (before its first table; an older file keeps its size),
// and a commit checkpoints once the WAL holds 16 MiB, so that a page written by many commits in
// between (a promise's create and settle, the trees' inner pages) is copied to the file once.
// Measured in BENCHMARKS.md ("seer-resonate's pages").
inline constexpr int kSqlitePageSize = 1024;
inline constexpr std::int64_t kSqliteCheckpointBytes = std::int64_t{16} << 20;
// Puts `db`, the file at `path`, at those settings and the server's durability: the page size (a
// new file), WAL mode, `synchronous=FULL`, the checkpoint size in the file's pages. For the server
// and for whatever measures its store. Throws std::runtime_error if the file cannot be put in WAL
// mode.
void use_server_settings(sqlite::Connection& db, const std::string& path);

// The schemas (schema.sqlite.sql, schema.postgres.sql), to run once on an empty database.
const std::string& sqlite_schema();
const std::string& postgres_schema();
// The indices added to the schemas after their first release (for the footprint-limited reads),
// as statements that are no-ops where they exist: run at every start, in both dialects, after
// the dialect's column upgrade below.
const std::string& schema_upgrades();
// The `branch` column (the preload's rows) added to a database created before it: run at every
// start before schema_upgrades. PostgreSQL's is a no-op where the column exists; SQLite's must
// run only where `promises` has no column `branch` (sqlite_has_branch_column).
const std::string& postgres_column_upgrades();
const std::string& sqlite_branch_column();
const std::string& sqlite_has_branch_column();  // a query: one row, 1 or 0

// Step 1: the six SELECTs that read an origin, to run in one read transaction (a snapshot).
std::vector<SqlStep> read_origin(const std::string& origin);
// Their results (one array of rows per statement, each row an array of columns) as the origin.
// Throws std::invalid_argument if the rows are not such an origin.
StoredOrigin parse_origin(const nlohmann::json& results);

// Step 1 for a request with a bounded footprint (model/footprint.hpp): the origin's row, its last
// seq and last task-timeout position, and the rows of the promises `ids` (of `origin`), of their
// callback neighbours and, for a preload, of the branch's promises: those promises, their
// callbacks and listeners, their tasks and task timeouts. Two statements (the origin's one row;
// the footprint's rows of all five tables, found by key); one read transaction.
std::vector<SqlStep> read_rows(const std::string& origin, const Footprint& footprint);
// The same for a sweep (debug.tick) at the later of `now` and the origin's clock: the rows of the
// promises and task timeouts due then (a targeted pending promise past its deadline, a task timeout
// past its time; the `*_due_by_origin` indices) and of their callback neighbours.
std::vector<SqlStep> read_due(const std::string& origin, std::int64_t now);
// Their results (read_rows or read_due) as a partial origin: the state holds the loaded promises,
// and `state.unloaded_promises` counts the others. Throws std::invalid_argument as parse_origin
// does.
StoredOrigin parse_rows(const nlohmann::json& results);

// Step 3: the guard (the revision must still be `before.revision`), then the rows that differ
// between `before.state` and `after` (whole or partial, `after` derived from it by the model), with
// `clock` stored as the origin's clock. One transaction. Throws std::logic_error for a change the
// schema cannot hold (a promise removed or rewritten).
std::vector<SqlStep> write_origin(const std::string& origin, const StoredOrigin& before,
                                  const State& after, std::int64_t clock);

// The sweep's query: the origins with a targeted promise or a task timeout due at `now`.
SqlStep due_origins(std::int64_t now);
std::vector<std::string> parse_due_origins(const nlohmann::json& rows);

}  // namespace seer::promises::concrete
