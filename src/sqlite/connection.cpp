#include "seer/sqlite/connection.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace seer::sqlite {

namespace {

nlohmann::json column(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(st, i);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                         static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
    case SQLITE_BLOB: {
      const auto* bytes = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, i));
      return nlohmann::json::binary_t(
          std::vector<std::uint8_t>(bytes, bytes + sqlite3_column_bytes(st, i)));
    }
    default:
      return nullptr;
  }
}

void bind(sqlite3_stmt* st, const nlohmann::json& params) {
  int index = 1;
  for (const auto& p : params) {
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
}

}  // namespace

Connection::Connection(const std::string& path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("sqlite: cannot open " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  for (auto& [sql, st] : cache_) sqlite3_finalize(st);
  sqlite3_close(db_);
}

void Connection::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw std::runtime_error("sqlite: " + message + " in: " + sql);
  }
}

sqlite3_stmt* Connection::prepared(const std::string& sql, std::string& error) {
  if (const auto it = cache_.find(sql); it != cache_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
      SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    return nullptr;
  }
  cache_.emplace(sql, st);
  return st;
}

std::optional<std::string> Connection::run(const Statement& s, nlohmann::json& rows) {
  std::string error;
  sqlite3_stmt* st = prepared(s.sql, error);
  if (!st) return error;
  bind(st, s.params);
  rows = nlohmann::json::array();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    nlohmann::json row = nlohmann::json::array();
    for (int i = 0; i < sqlite3_column_count(st); ++i) row.push_back(column(st, i));
    rows.push_back(std::move(row));
  }
  std::optional<std::string> failure;
  if (rc != SQLITE_DONE) failure = sqlite3_errmsg(db_);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return failure;
}

std::optional<std::string> Connection::run_all(const std::vector<Statement>& statements,
                                               Outcome& out) {
  for (const auto& s : statements) {
    nlohmann::json rows;
    if (auto error = run(s, rows)) return error;
    if (s.expect_changes && sqlite3_changes64(db_) != *s.expect_changes) {
      out.guard_failed = true;
      return "expected " + std::to_string(*s.expect_changes) + " changed rows, got " +
             std::to_string(sqlite3_changes64(db_)) + " in: " + s.sql;
    }
    out.results.push_back(std::move(rows));
  }
  return std::nullopt;
}

Outcome Connection::transact(const std::vector<Statement>& statements, Begin begin) {
  Outcome out;
  if (sqlite3_exec(db_, begin == Begin::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    out.error = sqlite3_errmsg(db_);
    return out;
  }
  const auto changes_before = sqlite3_total_changes64(db_);
  auto roll_back = [&](std::string why) {
    // A failed COMMIT may already have rolled back (SQLITE_FULL); ROLLBACK then just fails.
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    out.error = std::move(why);
    out.results = nlohmann::json::array();
    return out;
  };
  if (auto error = run_all(statements, out)) return roll_back(*error);
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return roll_back(std::string("COMMIT failed: ") + sqlite3_errmsg(db_));
  }
  out.committed = true;
  out.rows_changed = sqlite3_total_changes64(db_) - changes_before;
  return out;
}

std::vector<Outcome> Connection::transact_together(
    const std::vector<const std::vector<Statement>*>& transactions) {
  std::vector<Outcome> outs(transactions.size());
  auto ok = [this](const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  };
  // Anything unexpected undoes the whole group and fails every transaction in it: a group is
  // never trusted in part.
  auto abandon = [&](const std::string& why) {
    if (!sqlite3_get_autocommit(db_)) ok("ROLLBACK");
    for (auto& out : outs) {
      out = Outcome{};
      out.error = why;
    }
    return outs;
  };
  if (!ok("BEGIN IMMEDIATE")) return abandon(sqlite3_errmsg(db_));
  std::vector<bool> kept(transactions.size(), false);
  try {
    for (std::size_t i = 0; i < transactions.size(); ++i) {
      const auto changes_before = sqlite3_total_changes64(db_);
      if (!ok("SAVEPOINT seer_one")) return abandon(sqlite3_errmsg(db_));
      const auto error = run_all(*transactions[i], outs[i]);
      if (!error) {
        outs[i].rows_changed = sqlite3_total_changes64(db_) - changes_before;
        if (!ok("RELEASE seer_one")) return abandon(sqlite3_errmsg(db_));
        kept[i] = true;
        continue;
      }
      if (sqlite3_get_autocommit(db_)) {
        // SQLite rolled the whole transaction back (a full disk, an I/O error): the ones before
        // are gone with it, and the ones after are not run.
        return abandon("the group's transaction was rolled back: " + *error);
      }
      if (!ok("ROLLBACK TO seer_one") || !ok("RELEASE seer_one")) {
        return abandon(std::string("undoing one transaction of a group failed: ") +
                       sqlite3_errmsg(db_));
      }
      const bool guard_failed = outs[i].guard_failed;
      outs[i] = Outcome{};
      outs[i].error = *error;
      outs[i].guard_failed = guard_failed;
    }
  } catch (...) {  // out of memory, say: leave no transaction open behind us
    abandon("failed");
    throw;
  }
  if (!ok("COMMIT")) return abandon(std::string("COMMIT failed: ") + sqlite3_errmsg(db_));
  for (std::size_t i = 0; i < outs.size(); ++i) outs[i].committed = kept[i];
  return outs;
}

nlohmann::json Connection::query(const Statement& statement) {
  nlohmann::json rows;
  if (auto error = run(statement, rows)) throw std::runtime_error("sqlite: " + *error);
  return rows;
}

}  // namespace seer::sqlite
