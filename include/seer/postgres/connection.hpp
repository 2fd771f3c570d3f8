// One PostgreSQL connection (libpq): the same statements and outcomes as the SQLite connection
// (seer/sql/statement.hpp), with `?N` parameters renumbered `$N`, prepared once per connection,
// and rows as JSON typed by their columns (integers as numbers, NULL as null, the rest as text).
// A transaction's statements go in libpq's pipeline mode: BEGIN, the statements and COMMIT in one
// round trip, whatever their number. A statement with expect_changes (an INSERT, UPDATE or DELETE
// without RETURNING) is sent wrapped so that it raises an error unless it changed that many rows,
// which aborts what follows it in the pipeline.
// A lost connection is re-established at the next transaction; the transaction it broke reports
// the error, so a writer treats its outcome as unknown and answers nothing.
// Several writers' transactions can also run as one (transact_together: group commit), each in
// its own savepoint, committed by one COMMIT and so one WAL flush.
#pragma once

#include "seer/sql/statement.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace seer::postgres {

// `?1` -> `$1` outside string literals and quoted identifiers.
std::string dollar_parameters(const std::string& sql);

enum class Access {
  kRead,   // REPEATABLE READ READ ONLY: every statement sees one snapshot
  kWrite,  // READ COMMITTED (explicitly): the guard's row lock orders writers of one origin
};

class Connection {
 public:
  // A libpq connection string or URI (postgres://...). `session_setup` (SQL, SET statements) runs
  // at the start of every session: this one and each after a reconnection. Throws
  // std::runtime_error with libpq's reason if the server cannot be reached or refuses.
  explicit Connection(const std::string& conninfo, std::string session_setup = "");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Makes REPEATABLE READ the session's default (now and after every reconnection), so that a
  // kRead transaction is sent without BEGIN and COMMIT: its statements, up to the pipeline's sync,
  // are one implicit transaction with one snapshot. Two statements fewer per read for the server.
  // SQL run by exec() then runs in REPEATABLE READ too. Throws.
  void read_implicitly();
  // Runs SQL without parameters (schema, settings; several statements allowed). Throws.
  void exec(const std::string& sql);
  // BEGIN, the statements, COMMIT; ROLLBACK on the first error or failed expect_changes. A COMMIT
  // that fails or whose answer is lost leaves `committed` false with the reason in `error`.
  sql::Outcome transact(const std::vector<sql::Statement>& statements, Access access);
  // Several transactions in one (kWrite, READ COMMITTED), for group commit. First as one plain
  // transaction: BEGIN, the statements of all, COMMIT, in one round trip. If a transaction's
  // statement fails (its guard, say), that is rolled back and the group runs again with a
  // SAVEPOINT and a RELEASE around each transaction; a failed one is rolled back to its savepoint
  // alone, in the next round trip with the ones after it. Each outcome is what it would have been
  // alone, after the ones before it in the group: a transaction sees their uncommitted writes
  // (so a guard on a row an earlier one changed fails, as it would after that one's commit).
  // Anything else that fails (BEGIN, a savepoint, COMMIT, the connection) fails every
  // transaction of the group, none of them committed or known to be.
  std::vector<sql::Outcome> transact_together(
      const std::vector<const std::vector<sql::Statement>*>& transactions);
  // One statement in its own transaction. Throws std::runtime_error.
  nlohmann::json query(const sql::Statement& statement);

 private:
  struct Ran {
    nlohmann::json rows = nlohmann::json::array();
    std::int64_t changed = 0;
  };
  // One step of a pipeline: a command without parameters (BEGIN, SAVEPOINT, COMMIT, ...) or a
  // statement.
  struct Step {
    const char* command = nullptr;
    const sql::Statement* statement = nullptr;
  };
  struct Failure {
    std::string error;  // the first error; empty if none
    // The step that failed, if the failure is one step's (not the connection's or the
    // pipeline's), and whether it was a statement whose expect_changes did not hold.
    std::optional<std::size_t> step;
    bool guard = false;
  };
  bool connected();
  std::string last_error() const;
  const std::string& prepared_name(const std::string& sql, bool& fresh);
  // The steps in one round trip; `ran` gets one entry per step (a statement's rows, for the
  // steps before the first failure). False with the first error: the steps after it were skipped.
  bool pipeline(const std::vector<Step>& steps, std::vector<Ran>& ran, Failure& failure);
  void roll_back_if_open();

  std::string session_setup_;
  bool reset_needed_ = false;  // the session is not known to be usable: start a new one
  bool implicit_reads_ = false;
  pg_conn* conn_ = nullptr;
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::uint64_t names_ = 0;
};

}  // namespace seer::postgres
