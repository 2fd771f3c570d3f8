// One PostgreSQL connection (libpq): the same statements and outcomes as the SQLite connection
// (seer/sql/statement.hpp), with `?N` parameters renumbered `$N`, prepared once per connection,
// and rows as JSON typed by their columns (integers as numbers, NULL as null, the rest as text).
// A transaction's statements go in libpq's pipeline mode: one round trip for a read, two for a
// guarded write (up to the guard, then the rest with COMMIT), whatever the number of statements.
// A lost connection is re-established at the next transaction; the transaction it broke reports
// the error, so a writer treats its outcome as unknown and answers nothing.
#pragma once

#include "seer/sql/statement.hpp"

#include <map>
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
  // A libpq connection string or URI (postgres://...). Throws std::runtime_error with libpq's
  // reason if the server cannot be reached or refuses.
  explicit Connection(const std::string& conninfo);
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
  bool connected();
  std::string last_error() const;
  std::string prepared_name(const std::string& sql, bool& fresh);
  // `begin`, statements [first, last) and `end` (each optional) in one round trip: their rows,
  // or false with the first error.
  bool pipeline(const char* begin, const std::vector<sql::Statement>& statements, std::size_t first,
                std::size_t last, const char* end, std::vector<Ran>& ran, std::string& error);

  std::string conninfo_;
  pg_conn* conn_ = nullptr;
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::uint64_t names_ = 0;
};

}  // namespace seer::postgres
