// The concrete specification's SQL (README.md, "One request" and "The sweep") as statements with
// parameters, and the mapping between an origin's rows and the model's σ. Both the simulated
// adapter (design/sql_store.*) and the production server run exactly these statements, so the SQL
// that passes the seed sweep is the SQL in production. The statements are in the dialect SQLite and
// PostgreSQL share; the PostgreSQL connection renumbers the `?N` parameters `$N`.
#pragma once

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

// The schemas (schema.sqlite.sql, schema.postgres.sql), to run once on an empty database.
const std::string& sqlite_schema();
const std::string& postgres_schema();

// Step 1: the six SELECTs that read an origin, to run in one read transaction (a snapshot).
std::vector<SqlStep> read_origin(const std::string& origin);
// Their results (one array of rows per statement, each row an array of columns) as the origin.
// Throws std::invalid_argument if the rows are not such an origin.
StoredOrigin parse_origin(const nlohmann::json& results);

// Step 3: the guard (the revision must still be `before.revision`), then the rows that differ
// between `before.state` and `after`, with `clock` stored as the origin's clock. One transaction.
// Throws std::logic_error for a change the schema cannot hold (a promise removed or rewritten).
std::vector<SqlStep> write_origin(const std::string& origin, const StoredOrigin& before,
                                  const State& after, std::int64_t clock);

// The sweep's query: the origins with a targeted promise or a task timeout due at `now`.
SqlStep due_origins(std::int64_t now);
std::vector<std::string> parse_due_origins(const nlohmann::json& rows);

}  // namespace seer::promises::concrete
