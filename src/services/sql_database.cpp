// SQLite behind the simulated SQL server. Only statements and their parameters enter it, so a run
// stays a function of its seed as long as designs avoid random() and the current time in SQL.
#include "seer/services/sql.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace seer::services {

namespace {

void exec_or_throw(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("sql: " + message + " in: " + sql);
  }
}

nlohmann::json column(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(st, i);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i)));
    case SQLITE_BLOB:
      return nlohmann::json::binary_t(
          std::vector<std::uint8_t>(static_cast<const std::uint8_t*>(sqlite3_column_blob(st, i)),
                                    static_cast<const std::uint8_t*>(sqlite3_column_blob(st, i)) +
                                        sqlite3_column_bytes(st, i)));
    default:
      return nullptr;
  }
}

// Runs one statement; returns its rows, or an error message.
std::optional<std::string> run(sqlite3* db, const SqlStatement& s, nlohmann::json& rows) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, s.sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return std::string(sqlite3_errmsg(db));
  }
  int index = 1;
  for (const auto& p : s.params) {
    if (p.is_number_integer()) {
      sqlite3_bind_int64(st, index, p.get<std::int64_t>());
    } else if (p.is_number()) {
      sqlite3_bind_double(st, index, p.get<double>());
    } else if (p.is_string()) {
      const auto& text = p.get_ref<const std::string&>();
      sqlite3_bind_text(st, index, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(st, index);
    }
    ++index;
  }
  rows = nlohmann::json::array();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    nlohmann::json row = nlohmann::json::array();
    for (int i = 0; i < sqlite3_column_count(st); ++i) row.push_back(column(st, i));
    rows.push_back(std::move(row));
  }
  std::optional<std::string> error;
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  if (!error && s.expect_changes && sqlite3_changes(db) != *s.expect_changes) {
    error = "expected " + std::to_string(*s.expect_changes) + " changed rows, got " +
            std::to_string(sqlite3_changes(db)) + " in: " + s.sql;
  }
  return error;
}

}  // namespace

SqlDatabase::SqlDatabase(const std::vector<std::string>& schema) {
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open failed");
  for (const auto& sql : schema) exec_or_throw(db_, sql);
}

SqlDatabase::~SqlDatabase() {
  sqlite3_close(db_);
}

SqlDatabase::Outcome SqlDatabase::execute(const std::vector<SqlStatement>& statements,
                                          const std::string& label) {
  Outcome out;
  exec_or_throw(db_, "BEGIN");
  const auto changes_before = sqlite3_total_changes64(db_);
  for (const auto& s : statements) {
    nlohmann::json rows;
    if (auto error = run(db_, s, rows)) {
      exec_or_throw(db_, "ROLLBACK");
      out.error = *error;
      out.results = nlohmann::json::array();
      return out;
    }
    out.results.push_back(std::move(rows));
  }
  exec_or_throw(db_, "COMMIT");
  out.committed = true;
  out.rows_changed = sqlite3_total_changes64(db_) - changes_before;
  committed_.push_back(label);
  return out;
}

nlohmann::json SqlDatabase::query(const std::string& sql) const {
  return query(SqlStatement{sql, nlohmann::json::array(), std::nullopt});
}

nlohmann::json SqlDatabase::query(const SqlStatement& statement) const {
  nlohmann::json rows;
  if (auto error = run(db_, statement, rows)) throw std::runtime_error("sql: " + *error);
  return rows;
}

}  // namespace seer::services
