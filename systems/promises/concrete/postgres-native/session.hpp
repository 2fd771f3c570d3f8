// One libpq session for the native target's installer and tests: plain text in and out, errors
// as exceptions. Nothing is wrapped in a transaction unless the SQL says so, so a caller can run
// BEGIN, several statements and COMMIT or ROLLBACK as it decides.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct pg_conn;

namespace seer::promises::native {

using Row = std::vector<std::optional<std::string>>;  // NULL as nullopt

class Session {
 public:
  // A libpq connection string or URI. Throws std::runtime_error with libpq's reason.
  explicit Session(const std::string& conninfo);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs SQL without parameters (several statements allowed). Throws.
  void exec(const std::string& sql);
  // One statement with text parameters $1, $2, ...: its rows. Throws.
  std::vector<Row> rows(const std::string& sql, const std::vector<std::string>& params = {});
  // The first column of the first row (nullopt if NULL or no row). Throws.
  std::optional<std::string> value(const std::string& sql,
                                   const std::vector<std::string>& params = {});
  // The NOTIFY channels received so far (after waiting up to `wait_ms` for the first one).
  std::vector<std::string> notifications(int wait_ms);
  pg_conn* raw() { return conn_; }

 private:
  pg_conn* conn_ = nullptr;
};

}  // namespace seer::promises::native
