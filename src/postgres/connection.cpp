#include "seer/postgres/connection.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
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
  const char* text = PQgetvalue(r, row, col);
  const auto length = static_cast<std::size_t>(PQgetlength(r, row, col));
  switch (PQftype(r, col)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      long long v = 0;
      const auto [end, error] = std::from_chars(text, text + length, v);
      if (error != std::errc() || end != text + length) {
        throw std::runtime_error("postgres: not an integer: " + std::string(text, length));
      }
      return v;
    }
    case kBool:
      return length == 1 && text[0] == 't' ? 1 : 0;
    default:
      return std::string(text, length);
  }
}

// A parameter's text: a string as it is, a boolean as 1 or 0, an integer in decimal (without
// nlohmann's serializer, which asks the C locale for its decimal point on every dump), other
// numbers as JSON writes them.
std::string param_text(const nlohmann::json& p) {
  if (p.is_string()) return p.get_ref<const std::string&>();
  if (p.is_boolean()) return p.get<bool>() ? "1" : "0";
  if (p.is_number_unsigned()) return std::to_string(p.get<std::uint64_t>());
  if (p.is_number_integer()) return std::to_string(p.get<std::int64_t>());
  return p.dump();
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

void Connection::read_implicitly() {
  const std::string setting = "SET default_transaction_isolation = 'repeatable read'";
  exec(setting);
  session_setup_ += "; " + setting;  // and on every new session
  implicit_reads_ = true;
}

void Connection::exec(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("postgres: " + last_error());
  }
}

const std::string& Connection::prepared_name(const std::string& sql, bool& fresh) {
  if (const auto it = prepared_.find(sql); it != prepared_.end()) {
    fresh = false;
    return it->second;
  }
  // Never reused: a name whose PREPARE was skipped by an aborted pipeline is simply abandoned.
  fresh = true;
  return prepared_.emplace(sql, "seer_" + std::to_string(++names_)).first->second;
}

namespace {

// Explicitly, whatever the session's default (a reading session's is REPEATABLE READ).
constexpr const char* kBeginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED";

// A statement with expect_changes checks itself: wrapped so that it raises division_by_zero unless
// it changed exactly that many rows, which aborts the rest of the pipeline (COMMIT included). So a
// guarded write needs no round trip of its own to learn whether the rest may follow.
std::string self_guarded(const sql::Statement& s) {
  return "WITH seer_guard AS (" + s.sql +
         " RETURNING 1) SELECT 1 / (count(*) = " + std::to_string(*s.expect_changes) +
         ")::int FROM seer_guard";
}

// A failed transaction's outcome: the guard that did not hold (`guarded`: a conflict, not an
// error), or the error the database gave.
void record_failure(sql::Outcome& out, const sql::Statement* guarded, std::string error) {
  if (guarded) {
    out.guard_failed = true;
    out.error = "expected " + std::to_string(*guarded->expect_changes) +
                " changed rows, got another number in: " + guarded->sql;
  } else {
    out.error = std::move(error);
  }
}

}  // namespace

// Everything is sent before anything is read: one round trip however many steps.
bool Connection::pipeline(const std::vector<Step>& steps, std::vector<Ran>& ran, Failure& failure) {
  ran.assign(steps.size(), Ran{});
  if (PQenterPipelineMode(conn_) != 1) {
    failure.error = last_error();
    return false;
  }
  struct Expected {
    std::size_t step;
    bool prepare;  // the PREPARE sent before the step's statement
  };
  std::vector<Expected> expected;
  expected.reserve(steps.size() + 4);
  std::vector<std::string> fresh_names;
  std::vector<std::string> texts;
  std::vector<const char*> values;
  bool sent = true;
  for (std::size_t i = 0; i < steps.size() && sent; ++i) {
    if (steps[i].command) {
      sent =
          PQsendQueryParams(conn_, steps[i].command, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
      expected.push_back({i, false});
      continue;
    }
    const auto& s = *steps[i].statement;
    std::string guarded;  // the text sent when the statement checks itself
    if (s.expect_changes) guarded = self_guarded(s);
    const std::string& sql = s.expect_changes ? guarded : s.sql;
    bool fresh = false;
    const std::string& name = prepared_name(sql, fresh);
    if (fresh) {
      fresh_names.push_back(sql);
      sent = PQsendPrepare(conn_, name.c_str(), dollar_parameters(sql).c_str(), 0, nullptr) == 1;
      expected.push_back({i, true});
    }
    texts.clear();
    values.clear();
    for (const auto& param : s.params) texts.push_back(param_text(param));
    for (std::size_t k = 0; k < texts.size(); ++k) {
      values.push_back(s.params[k].is_null() ? nullptr : texts[k].c_str());
    }
    // libpq copies the parameters into its output buffer here.
    sent = sent && PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                       values.data(), nullptr, nullptr, 0) == 1;
    expected.push_back({i, false});
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    failure.error = last_error();
    // The session is in an unknown state (still in pipeline mode, half a transaction sent):
    // the next transaction starts a new one.
    reset_needed_ = true;
    return false;
  }
  for (const auto [step, prepare] : expected) {
    Result r(PQgetResult(conn_));
    if (!r) {
      if (failure.error.empty()) failure.error = last_error();
      break;
    }
    const auto status = PQresultStatus(r.get());
    const sql::Statement* statement = steps[step].statement;
    if (status == PGRES_FATAL_ERROR) {
      if (failure.error.empty()) {
        failure.error = trimmed(PQresultErrorMessage(r.get()));
        failure.step = step;
        const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
        failure.guard = !prepare && statement && statement->expect_changes && state &&
                        std::string_view(state) == "22012";
      }
    } else if (status != PGRES_PIPELINE_ABORTED && statement && !prepare) {
      Ran& one = ran[step];
      if (statement->expect_changes) {
        one.changed = *statement->expect_changes;  // it raised otherwise
      } else {
        for (int row = 0; row < PQntuples(r.get()); ++row) {
          nlohmann::json cells = nlohmann::json::array();
          for (int c = 0; c < PQnfields(r.get()); ++c) cells.push_back(cell(r.get(), row, c));
          one.rows.push_back(std::move(cells));
        }
        const char* tuples = PQcmdTuples(r.get());
        one.changed = tuples && *tuples ? std::stoll(tuples) : 0;
      }
    }
    Result after(PQgetResult(conn_));  // each query's results end with a null one
  }
  Result sync(PQgetResult(conn_));
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    if (failure.error.empty()) failure.error = last_error();
    failure.step.reset();  // not one step's failure: the connection's
  }
  if (PQexitPipelineMode(conn_) != 1) reset_needed_ = true;  // results left unread
  if (!failure.error.empty()) {
    // A PREPARE the aborted pipeline skipped never happened: prepare again next time.
    for (const auto& sql : fresh_names) prepared_.erase(sql);
    return false;
  }
  return true;
}

void Connection::roll_back_if_open() {
  // An error inside the pipeline's BEGIN leaves the session in the aborted transaction.
  const auto in = PQtransactionStatus(conn_);
  if (in == PQTRANS_INTRANS || in == PQTRANS_INERROR) {
    Result r(PQexec(conn_, "ROLLBACK"));
  }
}

sql::Outcome Connection::transact(const std::vector<sql::Statement>& statements, Access access) {
  sql::Outcome out;
  if (!connected()) {
    out.error = "connection lost: " + last_error();
    return out;
  }
  // A read on a session whose default is REPEATABLE READ needs no BEGIN and COMMIT: the pipeline's
  // statements up to its sync are one implicit transaction, with one snapshot.
  const bool implicit = access == Access::kRead && implicit_reads_;
  std::vector<Step> steps;
  steps.reserve(statements.size() + 2);
  if (!implicit) {
    steps.push_back({access == Access::kRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                             : kBeginWrite});
  }
  for (const auto& s : statements) steps.push_back({nullptr, &s});
  if (!implicit) steps.push_back({"COMMIT"});
  std::vector<Ran> ran;
  Failure failure;
  if (!pipeline(steps, ran, failure)) {
    roll_back_if_open();
    record_failure(out, failure.guard ? steps[*failure.step].statement : nullptr,
                   std::move(failure.error));
    return out;
  }
  for (std::size_t i = implicit ? 0 : 1; i < (implicit ? ran.size() : ran.size() - 1); ++i) {
    out.rows_changed += ran[i].changed;
    out.results.push_back(std::move(ran[i].rows));
  }
  out.committed = true;
  return out;
}

std::vector<sql::Outcome> Connection::transact_together(
    const std::vector<const std::vector<sql::Statement>*>& transactions) {
  std::vector<sql::Outcome> outs(transactions.size());
  // Anything not one transaction's own failure undoes the whole group and fails every
  // transaction in it: a group is never trusted in part.
  auto abandon = [&](const std::string& why) {
    roll_back_if_open();
    for (auto& out : outs) {
      out = sql::Outcome{};
      out.error = why;
    }
    return outs;
  };
  if (!connected()) return abandon("connection lost: " + last_error());
  std::vector<bool> kept(transactions.size(), false);
  std::vector<Step> steps;
  std::vector<std::size_t> owner;  // per step: its transaction, or kNone for the group's own
  constexpr std::size_t kNone = SIZE_MAX;
  // First the group as one plain transaction (the statements of all, one BEGIN and one COMMIT:
  // no more work for PostgreSQL than one transaction's). Only if a transaction's statement fails
  // is the group rolled back and run again with a savepoint each, so that the failure undoes its
  // own transaction alone.
  bool savepoints = false;
  bool first = true;     // BEGIN goes first
  std::size_t next = 0;  // the first transaction not yet run
  bool undo = false;     // the transaction before `next` failed: back to its savepoint first
  for (;;) {
    steps.clear();
    owner.clear();
    auto control = [&](const char* command) {
      steps.push_back({command});
      owner.push_back(kNone);
    };
    if (first) control(kBeginWrite);
    if (undo) {
      control("ROLLBACK TO SAVEPOINT seer_one");
      control("RELEASE SAVEPOINT seer_one");
    }
    for (std::size_t t = next; t < transactions.size(); ++t) {
      if (savepoints) control("SAVEPOINT seer_one");
      for (const auto& s : *transactions[t]) {
        steps.push_back({nullptr, &s});
        owner.push_back(t);
      }
      if (savepoints) control("RELEASE SAVEPOINT seer_one");
    }
    control("COMMIT");
    first = false;
    std::vector<Ran> ran;
    Failure failure;
    const bool ok = pipeline(steps, ran, failure);
    if (!ok && (!failure.step || owner[*failure.step] == kNone)) {
      return abandon(failure.error.empty() ? "the group's transaction failed" : failure.error);
    }
    const std::size_t failed = ok ? kNone : owner[*failure.step];
    if (!ok && !savepoints && transactions.size() > 1) {
      roll_back_if_open();  // the plain transaction: nothing of it stays
      savepoints = first = true;
      continue;
    }
    // The transactions that ran whole before the failure (or all of them): kept so far.
    const std::size_t ran_until = ok ? steps.size() : *failure.step;
    for (std::size_t i = 0; i < ran_until; ++i) {
      if (owner[i] == kNone) continue;
      auto& out = outs[owner[i]];
      out.rows_changed += ran[i].changed;
      out.results.push_back(std::move(ran[i].rows));
    }
    if (ok) break;
    // One transaction's statement failed: it alone is undone, and the ones after it run again
    // (the pipeline skipped them). A group of one is the plain transaction: it failed.
    for (std::size_t t = next; t < failed; ++t) kept[t] = true;
    auto& out = outs[failed];
    out = sql::Outcome{};
    record_failure(out, failure.guard ? steps[*failure.step].statement : nullptr,
                   std::move(failure.error));
    next = failed + 1;
    if (!savepoints) {
      roll_back_if_open();
      return outs;
    }
    undo = true;
  }
  for (std::size_t t = next; t < transactions.size(); ++t) kept[t] = true;
  for (std::size_t t = 0; t < outs.size(); ++t) outs[t].committed = kept[t];
  return outs;
}

nlohmann::json Connection::query(const sql::Statement& statement) {
  const auto out = transact({statement}, Access::kWrite);
  if (!out.committed) throw std::runtime_error("postgres: " + out.error);
  return out.results[0];
}

}  // namespace seer::postgres
