// One PostgreSQL connection (libpq): the same statements and outcomes as the SQLite connection
// (seer/sql/statement.hpp), with `?N` parameters renumbered `$N`, prepared once per connection,
// and rows as JSON typed by their columns (integers as numbers, NULL as null, the rest as text).
// A transaction's statements go in libpq's pipeline mode: BEGIN, the statements and COMMIT in one
// round trip, whatever their number. A statement with expect_changes (an INSERT, UPDATE or DELETE
// without RETURNING) is sent wrapped so that it raises an error unless it changed that many rows,
// which aborts what follows it in the pipeline.
// A lost connection is re-established at the next transaction; the transaction it broke reports
// the error, so a writer treats its outcome as unknown and answers nothing.
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
  kWrite,  // READ COMMITTED: the guard's row lock orders writers of one origin
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

  // Runs SQL without parameters (schema, settings; several statements allowed). Throws.
  void exec(const std::string& sql);
  // BEGIN, the statements, COMMIT; ROLLBACK on the first error or failed expect_changes. A COMMIT
  // that fails or whose answer is lost leaves `committed` false with the reason in `error`.
  sql::Outcome transact(const std::vector<sql::Statement>& statements, Access access);
  // One statement in its own transaction. Throws std::runtime_error.
  nlohmann::json query(const sql::Statement& statement);

 private:
  struct Ran {
    nlohmann::json rows = nlohmann::json::array();
    std::int64_t changed = 0;
  };
  struct Failure {
    std::string error;                 // the first error
    std::optional<std::size_t> guard;  // the statement whose expect_changes did not hold
  };
  bool connected();
  std::string last_error() const;
  std::string prepared_name(const std::string& sql, bool& fresh);
  // `begin`, the statements and `end` (each optional) in one round trip: their rows, or false
  // with the first error.
  bool pipeline(const char* begin, const std::vector<sql::Statement>& statements, const char* end,
                std::vector<Ran>& ran, Failure& failure);

  std::string session_setup_;
  bool reset_needed_ = false;  // the session is not known to be usable: start a new one
  pg_conn* conn_ = nullptr;
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::uint64_t names_ = 0;
};

}  // namespace seer::postgres
