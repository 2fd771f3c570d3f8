// SQLite behind the simulated SQL server. Only statements and their parameters enter it, so a run
// stays a function of its seed as long as designs avoid random() and the current time in SQL.
#include "seer/services/sql.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace seer::services {

namespace {

// Each thread keeps the connections of its finished runs' databases, emptied, for its next runs of
// the same schema: a new connection prepares every statement again, 17 % of a promises final-sql
// run's instructions. An emptied connection answers as a new one (Connection::clear), so a run is
// the same whichever it gets.
struct IdleConnection {
  std::unique_ptr<sqlite::Connection> connection;
  std::int64_t schema_version;
};
constexpr std::size_t kIdlePerSchema = 4;  // a run with more SQL services makes the others anew
struct ConnectionPool {
  std::map<std::vector<std::string>, std::vector<IdleConnection>> idle;
  ~ConnectionPool();
};
thread_local bool pool_gone = false;  // a database outliving its thread's pool closes its own
ConnectionPool::~ConnectionPool() {
  pool_gone = true;
}
ConnectionPool& pool() {
  thread_local ConnectionPool p;
  return p;
}

}  // namespace

SqlDatabase::SqlDatabase(const std::vector<std::string>& schema) : schema_(schema) {
  if (!pool_gone) {
    auto& idle = pool().idle[schema];
    if (!idle.empty()) {
      db_ = std::move(idle.back().connection);
      schema_version_ = idle.back().schema_version;
      idle.pop_back();
      return;
    }
  }
  db_ = std::make_unique<sqlite::Connection>(":memory:");
  for (const auto& sql : schema) db_->exec(sql);
  schema_version_ = db_->schema_version();
  // A schema that also inserts rows would need them again: such a database is not kept.
  reusable_ = db_->total_changes() == 0;
}

SqlDatabase::~SqlDatabase() {
  if (pool_gone || !reusable_) return;
  try {
    auto& idle = pool().idle[schema_];
    if (idle.size() < kIdlePerSchema && db_->clear(schema_version_)) {
      idle.push_back({std::move(db_), schema_version_});
    }
  } catch (...) {  // out of memory: the connection just closes
  }
}

namespace {
// How many recent read statements the oracle re-runs after each commit that writes their tables:
// enough to cover every read a process could still be deciding on in the example systems' runs.
constexpr std::size_t kRecentReads = 64;
}  // namespace

SqlDatabase::Outcome SqlDatabase::execute(const std::vector<SqlStatement>& statements,
                                          const std::string& label, std::uint64_t serial,
                                          const std::string& requester) {
  auto out = db_->transact(statements);
  overtaken_ = nlohmann::json::array();
  if (!out.committed) return out;
  committed_.push_back(label);
  if (tracking_ && out.accesses.is_array()) {
    note_overtaken(out);
    remember_reads(statements, out, label, serial, requester);
  }
  return out;
}

void SqlDatabase::track(bool on) {
  tracking_ = on;
  db_->track_accesses(on);
}

void SqlDatabase::note_overtaken(const Outcome& outcome) {
  std::set<std::string> written;
  for (const auto& statement : outcome.accesses) {
    for (const auto& w : statement["writes"]) written.insert(w.value("table", std::string()));
  }
  if (written.empty()) return;
  for (auto& r : recent_reads_) {
    if (std::none_of(r.tables.begin(), r.tables.end(),
                     [&](const std::string& t) { return written.count(t) > 0; })) {
      continue;
    }
    nlohmann::json now;
    try {
      now = db_->query(r.sql);
    } catch (const std::runtime_error&) {
      continue;  // a table dropped since: nothing to compare
    }
    if (now == r.result) continue;
    overtaken_.push_back({{"serial", r.serial},
                          {"by", r.requester},
                          {"statement", r.statement},
                          {"label", r.label},
                          {"before", r.result},
                          {"after", now}});
    r.result = std::move(now);
  }
}

void SqlDatabase::remember_reads(const std::vector<SqlStatement>& statements,
                                 const Outcome& outcome, const std::string& label,
                                 std::uint64_t serial, const std::string& requester) {
  for (std::size_t i = 0; i < statements.size() && i < outcome.results.size(); ++i) {
    const auto& access = outcome.accesses[i];
    if (!access["writes"].empty() || access["reads"].empty()) continue;
    if (!db_->read_only(statements[i].sql)) continue;
    recent_reads_.push_back({serial, requester, i, label, statements[i],
                             access["reads"].get<std::vector<std::string>>(), outcome.results[i]});
    if (recent_reads_.size() > kRecentReads) recent_reads_.pop_front();
  }
}

nlohmann::json SqlDatabase::query(const std::string& sql) const {
  return db_->query(SqlStatement{sql, nlohmann::json::array(), std::nullopt});
}

nlohmann::json SqlDatabase::query(const SqlStatement& statement) const {
  return db_->query(statement);
}

}  // namespace seer::services
