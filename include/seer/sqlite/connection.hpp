// One SQLite connection: statements with parameters, transactions that commit or roll back whole,
// and rows as JSON. The simulated SQL service (in memory) and the production servers (a file in
// WAL mode) both run their SQL through it, so the two execute statements the same way.
#pragma once

#include "seer/sql/statement.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace seer::sqlite {

using Statement = sql::Statement;
using Outcome = sql::Outcome;

// How a transaction starts. kImmediate takes the write lock at BEGIN, so writers queue there
// instead of failing at their first write with SQLITE_BUSY.
enum class Begin { kDeferred, kImmediate };

// Used by one thread at a time (any thread; hand it over with the usual synchronisation).
class Connection {
 public:
  // ":memory:" or a file path (created if missing). Throws std::runtime_error.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL without parameters or results (schema, PRAGMAs). Throws std::runtime_error.
  void exec(const std::string& sql);
  // BEGIN, the statements, COMMIT; ROLLBACK on the first error, failed expect_changes or failed
  // COMMIT (a full disk, an I/O error): then nothing of it is in the database.
  Outcome transact(const std::vector<Statement>& statements, Begin begin = Begin::kDeferred);
  // Several transactions committed together (group commit: one BEGIN IMMEDIATE, one COMMIT, so
  // one fsync). Each runs in its own savepoint: a failed expect_changes or an error rolls back that
  // one alone, and its outcome is what transact() would have said. They run in order, each seeing
  // the ones before it. If SQLite rolls the whole transaction back (a full disk) or the COMMIT
  // fails, none is committed.
  std::vector<Outcome> transact_together(
      const std::vector<const std::vector<Statement>*>& transactions);
  // One statement outside a transaction. Throws std::runtime_error.
  nlohmann::json query(const Statement& statement);
  // Records what each statement of transact() touches, in Outcome::accesses: the tables it read
  // (SQLite's authorizer, at prepare) and each row it inserted, updated or deleted (the pre-update
  // hook: table, rowid and the row's values). For oracles; it costs a copy of every changed row.
  void track_accesses(bool on);
  // Whether a statement only reads (sqlite3_stmt_readonly). Throws std::runtime_error.
  bool read_only(const std::string& sql);
  // Empties every table and the AUTOINCREMENT counters, keeping the schema and the prepared
  // statements: afterwards the connection answers as a new one on which the same schema was run
  // (for reusing a simulated database's connection across runs). False, with the connection in
  // an unknown state, if it cannot: a transaction is open, the schema changed since `version`
  // (schema_version()), a trigger could fire, or a DELETE failed.
  bool clear(std::int64_t version);
  std::int64_t schema_version();  // PRAGMA schema_version: changed by every CREATE, DROP, ALTER
  std::int64_t total_changes();   // rows inserted, updated or deleted since the connection opened

 private:
  std::optional<std::string> run(const Statement& s, nlohmann::json& rows);
  // The statements in the open transaction, their rows into out.results; the reason if one failed
  // (out.guard_failed if it was an expect_changes).
  std::optional<std::string> run_all(const std::vector<Statement>& statements, Outcome& out);
  struct Prepared;
  Prepared* prepared(const std::string& sql, std::string& error);
  // BEGIN, COMMIT and the like, from the statement cache (sqlite3_exec prepares them anew each
  // time: 5 % of a seer-resonate request's instructions). False on failure (sqlite3_errmsg).
  bool control(const std::string& sql);

  struct Prepared {
    sqlite3_stmt* statement = nullptr;
    std::vector<std::string> tables_read;  // gathered by the authorizer while preparing
  };
  friend struct AccessHooks;

  sqlite3* db_ = nullptr;
  std::map<std::string, Prepared> cache_;  // prepared once, reset after each use
  bool tracking_ = false;
  nlohmann::json* row_writes_ = nullptr;           // where the pre-update hook appends, if tracking
  std::vector<std::string>* preparing_ = nullptr;  // where the authorizer appends table names
};

}  // namespace seer::sqlite
