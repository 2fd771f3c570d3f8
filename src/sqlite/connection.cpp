#include "seer/sqlite/connection.hpp"

// The pre-update hook's declarations; Debian's libsqlite3 is built with it (ENABLE_PREUPDATE_HOOK).
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace seer::sqlite {

namespace {

nlohmann::json value_json(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return sqlite3_value_double(v);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                         static_cast<std::size_t>(sqlite3_value_bytes(v)));
    case SQLITE_BLOB:
      return "<blob " + std::to_string(sqlite3_value_bytes(v)) + " bytes>";
    default:
      return nullptr;
  }
}

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

// The C callbacks of access tracking; a friend, so they reach the connection's recording slots.
struct AccessHooks {
  static int authorize(void* self, int action, const char* table, const char*, const char*,
                       const char*) {
    auto* c = static_cast<Connection*>(self);
    if (action == SQLITE_READ && table && c->preparing_ &&
        std::string_view(table).substr(0, 7) != "sqlite_") {
      auto& tables = *c->preparing_;
      if (std::find(tables.begin(), tables.end(), table) == tables.end())
        tables.emplace_back(table);
    }
    return SQLITE_OK;
  }
  static void preupdate(void* self, sqlite3* db, int op, const char*, const char* table,
                        sqlite3_int64 old_rowid, sqlite3_int64 new_rowid) {
    auto* c = static_cast<Connection*>(self);
    if (!c->row_writes_) return;
    const char* what = op == SQLITE_INSERT ? "insert" : op == SQLITE_DELETE ? "delete" : "update";
    nlohmann::json row = nlohmann::json::array();
    for (int i = 0; i < sqlite3_preupdate_count(db); ++i) {
      sqlite3_value* v = nullptr;
      const int rc =
          op == SQLITE_DELETE ? sqlite3_preupdate_old(db, i, &v) : sqlite3_preupdate_new(db, i, &v);
      row.push_back(rc == SQLITE_OK && v ? value_json(v) : nlohmann::json());
    }
    c->row_writes_->push_back({{"table", table},
                               {"op", what},
                               {"rowid", op == SQLITE_DELETE ? old_rowid : new_rowid},
                               {"row", std::move(row)}});
  }
};

Connection::Connection(const std::string& path) {
  // SQLite's memory statistics take a global mutex on every allocation (4 % of a simulated
  // final-sql run); nothing here reads them. Only possible before SQLite initializes: if something
  // else started it first, this changes nothing.
  static std::once_flag no_memory_statistics;
  std::call_once(no_memory_statistics, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  // No mutex of SQLite's own around each call: a Connection is used by one thread at a time (its
  // prepared statements are not shared either), and the lock and unlock around every call were
  // 1.4 % of seer-resonate's CPU.
  constexpr int kFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, kFlags, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("sqlite: cannot open " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  // Records the tables a statement reads while it is prepared (access tracking); allows all.
  sqlite3_set_authorizer(db_, &AccessHooks::authorize, this);
}

Connection::~Connection() {
  for (auto& [sql, p] : cache_) sqlite3_finalize(p.statement);
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

Connection::Prepared* Connection::prepared(const std::string& sql, std::string& error) {
  if (const auto it = cache_.find(sql); it != cache_.end()) return &it->second;
  Prepared p;
  preparing_ = &p.tables_read;
  const int rc =
      sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &p.statement, nullptr);
  preparing_ = nullptr;
  if (rc != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    return nullptr;
  }
  return &cache_.emplace(sql, std::move(p)).first->second;
}

void Connection::track_accesses(bool on) {
  if (on == tracking_) return;
  tracking_ = on;
  sqlite3_preupdate_hook(db_, on ? &AccessHooks::preupdate : nullptr, on ? this : nullptr);
}

bool Connection::read_only(const std::string& sql) {
  std::string error;
  const auto* p = prepared(sql, error);
  if (!p) throw std::runtime_error("sqlite: " + error);
  return sqlite3_stmt_readonly(p->statement) != 0;
}

std::int64_t Connection::schema_version() {
  static const Statement kVersion{"PRAGMA schema_version"};
  return query(kVersion).at(0).at(0).get<std::int64_t>();
}

std::int64_t Connection::total_changes() {
  return sqlite3_total_changes64(db_);
}

bool Connection::clear(std::int64_t version) {
  if (!sqlite3_get_autocommit(db_)) return false;
  track_accesses(false);
  try {
    if (schema_version() != version) return false;
    static const Statement kTables{
        "SELECT type, name, sql LIKE 'CREATE VIRTUAL%' FROM sqlite_schema WHERE type IN ('table', "
        "'trigger') ORDER BY name"};
    static const Statement kTemp{"SELECT count(*) FROM sqlite_temp_schema"};
    if (query(kTemp).at(0).at(0).get<std::int64_t>() != 0) return false;
    std::vector<std::string> deletes;
    for (const auto& row : query(kTables)) {
      if (row.at(0) == "trigger" || row.at(2) == 1) return false;  // a trigger, a virtual table
      auto name = row.at(1).get<std::string>();
      if (name.rfind("sqlite_", 0) == 0 && name != "sqlite_sequence") continue;
      std::string quoted = "\"";  // an identifier: "" for each "
      for (const char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      deletes.push_back("DELETE FROM " + quoted + "\"");
    }
    for (const auto& sql : deletes) query(Statement{sql});
  } catch (const std::exception&) {
    return false;
  }
  sqlite3_set_last_insert_rowid(db_, 0);
  return true;
}

bool Connection::control(const std::string& sql) {
  std::string error;
  auto* p = prepared(sql, error);
  if (!p) return false;
  const int rc = sqlite3_step(p->statement);
  sqlite3_reset(p->statement);
  return rc == SQLITE_DONE;
}

std::optional<std::string> Connection::run(const Statement& s, nlohmann::json& rows) {
  std::string error;
  const auto* p = prepared(s.sql, error);
  if (!p) return error;
  sqlite3_stmt* st = p->statement;
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
  if (tracking_) out.accesses = nlohmann::json::array();
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const auto& s = statements[i];
    nlohmann::json rows;
    nlohmann::json writes = nlohmann::json::array();
    row_writes_ = tracking_ ? &writes : nullptr;
    auto error = run(s, rows);
    row_writes_ = nullptr;
    if (tracking_) {
      std::string ignored;
      const auto* p = prepared(s.sql, ignored);
      out.accesses.push_back({{"reads", p ? p->tables_read : std::vector<std::string>{}},
                              {"writes", std::move(writes)}});
    }
    if (error) {
      out.failed_statement = i;
      return error;
    }
    const auto changed =
        sqlite3_stmt_readonly(cache_.at(s.sql).statement) ? 0 : sqlite3_changes64(db_);
    out.changes.push_back(changed);
    if (s.expect_changes && changed != *s.expect_changes) {
      out.guard_failed = true;
      out.failed_statement = i;
      return "expected " + std::to_string(*s.expect_changes) + " changed rows, got " +
             std::to_string(changed) + " in: " + s.sql;
    }
    out.results.push_back(std::move(rows));
  }
  return std::nullopt;
}

Outcome Connection::transact(const std::vector<Statement>& statements, Begin begin) {
  Outcome out;
  static const std::string kImmediate = "BEGIN IMMEDIATE", kDeferred = "BEGIN";
  if (!control(begin == Begin::kImmediate ? kImmediate : kDeferred)) {
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
  static const std::string kCommit = "COMMIT";
  if (!control(kCommit)) {
    return roll_back(std::string("COMMIT failed: ") + sqlite3_errmsg(db_));
  }
  out.committed = true;
  out.rows_changed = sqlite3_total_changes64(db_) - changes_before;
  return out;
}

std::vector<Outcome> Connection::transact_together(
    const std::vector<const std::vector<Statement>*>& transactions) {
  std::vector<Outcome> outs(transactions.size());
  auto ok = [this](const char* sql) { return control(sql); };
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
