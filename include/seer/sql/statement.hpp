// A SQL statement with its parameters, and what running a transaction of them came to. Shared by
// the SQLite connection (the simulated SQL service, the embedded server) and the PostgreSQL one, so
// the concrete specification's statements are written once for both.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seer::sql {

struct Statement {
  std::string sql;  // parameters ?1, ?2, ... (the PostgreSQL connection renumbers them $1, $2, ...)
  nlohmann::json params = nlohmann::json::array();  // int, real, text or null
  // If set, the transaction rolls back unless the statement changed exactly this many rows: how a
  // single-round-trip transaction says "only if the revision still holds".
  std::optional<std::int64_t> expect_changes = std::nullopt;
};

struct Outcome {
  bool committed = false;
  bool guard_failed = false;  // rolled back because an expect_changes did not hold
  std::string error;          // why it rolled back (empty when committed)
  nlohmann::json results = nlohmann::json::array();  // per statement: rows, each an array
  std::int64_t rows_changed = 0;                     // by a committed transaction
  // Per statement run: the rows it changed (on a rollback, the statements that ran before it).
  std::vector<std::int64_t> changes = {};
  // On a rollback caused by a statement: its index (an error or a failed expect_changes).
  std::optional<std::size_t> failed_statement = std::nullopt;
  // With access tracking on (SQLite only; the simulated SQL service's oracle): per statement, the
  // tables it read and the rows it wrote (docs/services.md). Null otherwise.
  nlohmann::json accesses = nullptr;
};

}  // namespace seer::sql
