// A simulated SQL database: one SQLite database in memory per simulated server. A request is one
// transaction: its statements run between BEGIN and COMMIT, and it commits or rolls back as a
// whole. Committing takes time (the fsync); a crash in that window drops the transaction, and with
// the `lost-response` fault a transaction may commit while its response never leaves. Contract:
// docs/services.md.
#pragma once

#include "seer/services/sql_client.hpp"
#include "seer/sim/simulator.hpp"
#include "seer/sqlite/connection.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::services {

struct SqlConfig {
  std::vector<std::string> schema;  // run once when the database is created
  sim::Duration commit_latency = sim::milliseconds(2);
};

// The simulated server's database. The server runs each transaction at its commit instant, after
// the commit latency has passed, so a crash before that instant drops it and the committed state
// is all there ever is on "disk".
class SqlDatabase {
 public:
  // A new database, or an emptied one of the same schema left by an earlier run on this thread
  // (the same to any statement, and its statements already prepared).
  explicit SqlDatabase(const std::vector<std::string>& schema);
  ~SqlDatabase();
  SqlDatabase(const SqlDatabase&) = delete;
  SqlDatabase& operator=(const SqlDatabase&) = delete;

  using Outcome = sqlite::Outcome;
  // BEGIN, the statements, then COMMIT, or ROLLBACK on the first error or failed expect_changes.
  // `serial` names the transaction's reply, for the oracle's record of what overtook its reads.
  Outcome execute(const std::vector<SqlStatement>& statements, const std::string& label,
                  std::uint64_t serial = 0, const std::string& requester = {});
  // The oracle's row-level tracking (on while a trace is recorded): each outcome then carries the
  // tables every statement read and the rows it wrote, and overtaken() names the recent reads
  // (of other transactions) whose results the last commit changed, with their results before and
  // after (each such read is run again on the new state: the rows it returned changed).
  void track(bool on);
  const nlohmann::json& overtaken() const { return overtaken_; }
  // A query on the committed state, for invariants and oracles. Throws std::runtime_error.
  nlohmann::json query(const std::string& sql) const;
  nlohmann::json query(const SqlStatement& statement) const;  // with parameters
  // Labels of committed transactions, in commit order.
  const std::vector<std::string>& committed() const { return committed_; }

 private:
  struct RecentRead {
    std::uint64_t serial;
    std::string requester;
    std::size_t statement;
    std::string label;
    SqlStatement sql;
    std::vector<std::string> tables;
    nlohmann::json result;
  };
  void note_overtaken(const Outcome& outcome);
  void remember_reads(const std::vector<SqlStatement>& statements, const Outcome& outcome,
                      const std::string& label, std::uint64_t serial, const std::string& requester);

  std::vector<std::string> schema_;
  std::unique_ptr<sqlite::Connection> db_;  // a pointer: query() is const, the statement cache not
  std::int64_t schema_version_ = 0;         // after the schema ran: a later change forbids reuse
  bool reusable_ = true;                    // the schema left every table empty
  std::vector<std::string> committed_;
  bool tracking_ = false;
  std::deque<RecentRead> recent_reads_;  // the last kRecentReads read statements, oldest first
  nlohmann::json overtaken_ = nlohmann::json::array();
};

struct SqlService {
  sim::ProcessId process;
  std::shared_ptr<const SqlDatabase> truth;
};

// Adds the database server as process `name`. It may crash (the `crash` fault): a transaction whose
// commit had not happened is dropped (the oracle notes it on restart); committed ones survive.
SqlService add_sql_service(sim::Simulator& sim, const std::string& name, const SqlConfig& config);

}  // namespace seer::services
