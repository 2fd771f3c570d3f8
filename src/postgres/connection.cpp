#include "seer/postgres/connection.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <memory>
#include <stdexcept>

namespace seer::postgres {

namespace {

// Column types whose text is an integer (int2, int4, int8, oid) or a boolean.
constexpr Oid kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kBool = 16;

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultFree>;

nlohmann::json cell(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return nullptr;
  const std::string text(PQgetvalue(r, row, col),
                         static_cast<std::size_t>(PQgetlength(r, row, col)));
  switch (PQftype(r, col)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      return std::stoll(text);
    case kBool:
      return text == "t" ? 1 : 0;
    default:
      return text;
  }
}

std::string param_text(const nlohmann::json& p) {
  if (p.is_string()) return p.get<std::string>();
  if (p.is_boolean()) return p.get<bool>() ? "1" : "0";
  return p.dump();  // numbers
}

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  // libpq's messages may span lines (DETAIL, HINT): one line for the server's log.
  std::string line;
  for (const char c : s) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (line.empty() || line.back() == ' ')) continue;
    line += space ? ' ' : c;
  }
  return line;
}

}  // namespace

std::string dollar_parameters(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += '$';
      continue;
    }
    out += c;
  }
  return out;
}

Connection::Connection(const std::string& conninfo) : conninfo_(conninfo) {
  // Defaults the URL may override: a bounded wait for an unreachable server (also at every
  // reconnection), and a name in pg_stat_activity.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "seer", conninfo.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw std::runtime_error("postgres: cannot connect: " + why);
  }
  exec("SET client_min_messages = warning");
}

Connection::~Connection() {
  PQfinish(conn_);
}

std::string Connection::last_error() const {
  return trimmed(PQerrorMessage(conn_));
}

bool Connection::connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return true;
  PQreset(conn_);
  prepared_.clear();  // a new session has none of the old one's prepared statements
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  Result r(PQexec(conn_, "SET client_min_messages = warning"));
  return PQresultStatus(r.get()) == PGRES_COMMAND_OK;
}

void Connection::exec(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("postgres: " + last_error());
  }
}

bool Connection::command(const char* sql, std::string& error) {
  Result r(PQexec(conn_, sql));
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) return true;
  error = last_error();
  return false;
}

bool Connection::run(const sql::Statement& s, nlohmann::json& rows, std::int64_t& changed,
                     std::string& error) {
  auto it = prepared_.find(s.sql);
  if (it == prepared_.end()) {
    const std::string name = "seer_" + std::to_string(prepared_.size() + 1);
    Result p(PQprepare(conn_, name.c_str(), dollar_parameters(s.sql).c_str(), 0, nullptr));
    if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) {
      error = last_error();
      return false;
    }
    it = prepared_.emplace(s.sql, name).first;
  }
  std::vector<std::string> texts;
  std::vector<const char*> values;
  texts.reserve(s.params.size());
  for (const auto& p : s.params) texts.push_back(param_text(p));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    values.push_back(s.params[i].is_null() ? nullptr : texts[i].c_str());
  }
  Result r(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    error = last_error();
    return false;
  }
  rows = nlohmann::json::array();
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < PQnfields(r.get()); ++c) row.push_back(cell(r.get(), i, c));
    rows.push_back(std::move(row));
  }
  const char* tuples = PQcmdTuples(r.get());
  changed = tuples && *tuples ? std::stoll(tuples) : 0;
  return true;
}

sql::Outcome Connection::transact(const std::vector<sql::Statement>& statements, Access access) {
  sql::Outcome out;
  if (!connected()) {
    out.error = "connection lost: " + last_error();
    return out;
  }
  const char* begin =
      access == Access::kRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
  if (!command(begin, out.error)) return out;
  auto roll_back = [&](std::string why) {
    std::string ignored;
    if (PQstatus(conn_) == CONNECTION_OK) command("ROLLBACK", ignored);
    out.error = std::move(why);
    out.results = nlohmann::json::array();
    out.rows_changed = 0;
    return out;
  };
  for (const auto& s : statements) {
    nlohmann::json rows;
    std::int64_t changed = 0;
    std::string error;
    if (!run(s, rows, changed, error)) return roll_back(error);
    if (s.expect_changes && changed != *s.expect_changes) {
      out.guard_failed = true;
      return roll_back("expected " + std::to_string(*s.expect_changes) + " changed rows, got " +
                       std::to_string(changed) + " in: " + s.sql);
    }
    out.rows_changed += changed;
    out.results.push_back(std::move(rows));
  }
  std::string error;
  if (!command("COMMIT", error)) return roll_back("COMMIT failed: " + error);
  out.committed = true;
  return out;
}

nlohmann::json Connection::query(const sql::Statement& statement) {
  const auto out = transact({statement}, Access::kWrite);
  if (!out.committed) throw std::runtime_error("postgres: " + out.error);
  return out.results[0];
}

}  // namespace seer::postgres
