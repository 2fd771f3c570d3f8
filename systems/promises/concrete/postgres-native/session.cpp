#include "session.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <memory>

namespace seer::promises::native {

namespace {
// libpq's message without its trailing newline: one line for an error report.
std::string first_line(const char* message) {
  std::string m = message ? message : "unknown error";
  const auto nl = m.find('\n');
  return nl == std::string::npos ? m : m.substr(0, nl);
}

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

Result checked(pg_conn* conn, PGresult* raw) {
  Result r(raw, &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(first_line(raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn)));
  }
  return r;
}
}  // namespace

Session::Session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = first_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    throw std::runtime_error("cannot connect to PostgreSQL: " + reason);
  }
  exec("SET client_min_messages = warning");
}

Session::~Session() {
  PQfinish(conn_);
}

void Session::exec(const std::string& sql) {
  checked(conn_, PQexec(conn_, sql.c_str()));
}

std::vector<Row> Session::rows(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  Result r = checked(conn_, PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                         nullptr, values.data(), nullptr, nullptr, 0));
  std::vector<Row> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    Row row;
    for (int j = 0; j < PQnfields(r.get()); ++j) {
      if (PQgetisnull(r.get(), i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(r.get(), i, j), PQgetlength(r.get(), i, j)));
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<std::string> Session::value(const std::string& sql,
                                          const std::vector<std::string>& params) {
  auto r = rows(sql, params);
  if (r.empty() || r.front().empty()) return std::nullopt;
  return r.front().front();
}

std::vector<std::string> Session::notifications(int wait_ms) {
  std::vector<std::string> out;
  const auto drain = [&] {
    PQconsumeInput(conn_);
    while (PGnotify* n = PQnotifies(conn_)) {
      out.emplace_back(n->relname);
      PQfreemem(n);
    }
  };
  drain();
  if (out.empty() && wait_ms > 0) {
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    if (poll(&fd, 1, wait_ms) > 0) drain();
  }
  return out;
}

}  // namespace seer::promises::native
