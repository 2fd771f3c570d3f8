#include "seer/postgres/connection.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

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

Connection::Connection(const std::string& conninfo, std::string session_setup)
    : session_setup_("SET client_min_messages = warning; " + std::move(session_setup)) {
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
  exec(session_setup_);
}

Connection::~Connection() {
  PQfinish(conn_);
}

std::string Connection::last_error() const {
  return trimmed(PQerrorMessage(conn_));
}

bool Connection::connected() {
  if (PQstatus(conn_) == CONNECTION_OK && !reset_needed_) return true;
  reset_needed_ = false;
  PQreset(conn_);
  prepared_.clear();  // a new session has none of the old one's prepared statements
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  // A new session has none of the old one's settings either (synchronous_commit, say).
  Result r(PQexec(conn_, session_setup_.c_str()));
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) return true;
  reset_needed_ = true;
  return false;
}

void Connection::exec(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("postgres: " + last_error());
  }
}

std::string Connection::prepared_name(const std::string& sql, bool& fresh) {
  if (const auto it = prepared_.find(sql); it != prepared_.end()) {
    fresh = false;
    return it->second;
  }
  // Never reused: a name whose PREPARE was skipped by an aborted pipeline is simply abandoned.
  fresh = true;
  return prepared_.emplace(sql, "seer_" + std::to_string(++names_)).first->second;
}

namespace {

// A statement with expect_changes checks itself: wrapped so that it raises division_by_zero unless
// it changed exactly that many rows, which aborts the rest of the pipeline (COMMIT included). So a
// guarded write needs no round trip of its own to learn whether the rest may follow.
std::string self_guarded(const sql::Statement& s) {
  return "WITH seer_guard AS (" + s.sql +
         " RETURNING 1) SELECT 1 / (count(*) = " + std::to_string(*s.expect_changes) +
         ")::int FROM seer_guard";
}

}  // namespace

// Everything is sent before anything is read: one round trip however many statements.
bool Connection::pipeline(const char* begin, const std::vector<sql::Statement>& statements,
                          const char* end, std::vector<Ran>& ran, Failure& failure) {
  if (PQenterPipelineMode(conn_) != 1) {
    failure.error = last_error();
    return false;
  }
  constexpr std::size_t kCommand = SIZE_MAX, kPrepare = SIZE_MAX - 1;
  std::vector<std::size_t> expected;  // per result: a statement's index, or what else it is
  std::vector<std::string> fresh_names;
  bool sent = true;
  if (begin) {
    sent = sent && PQsendQueryParams(conn_, begin, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    expected.push_back(kCommand);
  }
  for (std::size_t i = 0; i < statements.size() && sent; ++i) {
    const auto& s = statements[i];
    const std::string sql = s.expect_changes ? self_guarded(s) : s.sql;
    bool fresh = false;
    const std::string name = prepared_name(sql, fresh);
    if (fresh) {
      fresh_names.push_back(sql);
      sent = PQsendPrepare(conn_, name.c_str(), dollar_parameters(sql).c_str(), 0, nullptr) == 1;
      expected.push_back(kPrepare);
    }
    std::vector<std::string> texts;
    std::vector<const char*> values;
    texts.reserve(s.params.size());
    for (const auto& param : s.params) texts.push_back(param_text(param));
    for (std::size_t k = 0; k < texts.size(); ++k) {
      values.push_back(s.params[k].is_null() ? nullptr : texts[k].c_str());
    }
    // libpq copies the parameters into its output buffer here.
    sent = sent && PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                       values.data(), nullptr, nullptr, 0) == 1;
    expected.push_back(i);
  }
  if (end && sent) {
    sent = PQsendQueryParams(conn_, end, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    expected.push_back(kCommand);
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    failure.error = last_error();
    // The session is in an unknown state (still in pipeline mode, half a transaction sent):
    // the next transaction starts a new one.
    reset_needed_ = true;
    return false;
  }
  for (const auto what : expected) {
    Result r(PQgetResult(conn_));
    if (!r) {
      if (failure.error.empty()) failure.error = last_error();
      break;
    }
    const auto status = PQresultStatus(r.get());
    if (status == PGRES_FATAL_ERROR) {
      if (failure.error.empty()) {
        failure.error = trimmed(PQresultErrorMessage(r.get()));
        const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
        if (what < statements.size() && statements[what].expect_changes && state &&
            std::string_view(state) == "22012") {
          failure.guard = what;
        }
      }
    } else if (status != PGRES_PIPELINE_ABORTED && what < statements.size()) {
      Ran one;
      if (statements[what].expect_changes) {
        one.changed = *statements[what].expect_changes;  // it raised otherwise
      } else {
        for (int row = 0; row < PQntuples(r.get()); ++row) {
          nlohmann::json cells = nlohmann::json::array();
          for (int c = 0; c < PQnfields(r.get()); ++c) cells.push_back(cell(r.get(), row, c));
          one.rows.push_back(std::move(cells));
        }
        const char* tuples = PQcmdTuples(r.get());
        one.changed = tuples && *tuples ? std::stoll(tuples) : 0;
      }
      ran.push_back(std::move(one));
    }
    Result after(PQgetResult(conn_));  // each query's results end with a null one
  }
  Result sync(PQgetResult(conn_));
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    if (failure.error.empty()) failure.error = last_error();
  }
  if (PQexitPipelineMode(conn_) != 1) reset_needed_ = true;  // results left unread
  if (!failure.error.empty()) {
    // A PREPARE the aborted pipeline skipped never happened: prepare again next time.
    for (const auto& sql : fresh_names) prepared_.erase(sql);
    return false;
  }
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
  std::vector<Ran> ran;
  Failure failure;
  if (!pipeline(begin, statements, "COMMIT", ran, failure)) {
    // An error inside the pipeline's BEGIN leaves the session in the aborted transaction.
    const auto in = PQtransactionStatus(conn_);
    if (in == PQTRANS_INTRANS || in == PQTRANS_INERROR) {
      Result r(PQexec(conn_, "ROLLBACK"));
    }
    if (failure.guard) {
      const auto& s = statements[*failure.guard];
      out.guard_failed = true;
      out.error = "expected " + std::to_string(*s.expect_changes) +
                  " changed rows, got another number in: " + s.sql;
    } else {
      out.error = std::move(failure.error);
    }
    return out;
  }
  for (auto& one : ran) {
    out.rows_changed += one.changed;
    out.results.push_back(std::move(one.rows));
  }
  out.committed = true;
  return out;
}

nlohmann::json Connection::query(const sql::Statement& statement) {
  const auto out = transact({statement}, Access::kWrite);
  if (!out.committed) throw std::runtime_error("postgres: " + out.error);
  return out.results[0];
}

}  // namespace seer::postgres
