// A simulated SQL database: one SQLite database in memory per simulated server. A request is one
// transaction: its statements run between BEGIN and COMMIT, and it commits or rolls back as a
// whole. Committing takes time (the fsync); a crash in that window drops the transaction, and with
// the `lost-response` fault a transaction may commit while its response never leaves. Contract:
// docs/services.md.
#pragma once

#include "seer/sim/env.hpp"
#include "seer/sim/simulator.hpp"
#include "seer/sim/task.hpp"
#include "seer/sqlite/connection.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::services {

// A statement with its parameters; `expect_changes` is how a single-round-trip transaction says
// "only if the balance covered it".
using SqlStatement = sqlite::Statement;

struct SqlRequest : sim::Payload {
  SqlRequest(std::uint64_t r, std::vector<SqlStatement> s, std::string l)
      : req(r), statements(std::move(s)), label(std::move(l)) {}
  std::uint64_t req;
  std::vector<SqlStatement> statements;
  std::string label;  // names the transaction in traces and to the oracle; no effect on execution
  std::string_view type() const override { return "sql_request"; }
  nlohmann::json to_json() const override;
};

struct SqlReply : sim::Payload {
  SqlReply(std::uint64_t r, const sqlite::Outcome& outcome, std::uint64_t n)
      : req(r),
        committed(outcome.committed),
        error(outcome.error),
        results(outcome.results),
        changes(outcome.changes),
        failed_statement(outcome.failed_statement),
        serial(n) {}
  std::uint64_t req;
  bool committed;
  std::string error;       // why it rolled back: an SQLite error, or a failed expect_changes
  nlohmann::json results;  // per statement: an array of rows, each an array of column values
  std::vector<std::int64_t> changes;            // per statement run: the rows it changed
  std::optional<std::size_t> failed_statement;  // on a rollback: the statement that failed
  std::uint64_t serial;
  std::string_view type() const override { return "sql_reply"; }
  nlohmann::json to_json() const override;
};

struct SqlConfig {
  std::vector<std::string> schema;  // run once when the database is created
  sim::Duration commit_latency = sim::milliseconds(2);
};

// The simulated server's database. The server runs each transaction at its commit instant, after
// the commit latency has passed, so a crash before that instant drops it and the committed state
// is all there ever is on "disk".
class SqlDatabase {
 public:
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

  std::unique_ptr<sqlite::Connection> db_;  // a pointer: query() is const, the statement cache not
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

struct SqlResult {
  bool timed_out = false;
  bool committed = false;
  std::string error;
  nlohmann::json results;
  std::vector<std::int64_t> changes;            // per statement run: the rows it changed
  std::optional<std::size_t> failed_statement;  // on a rollback: the statement that failed
};

// As KvClient: messages that are not its reply go to `stash` (if given) for the caller to handle
// later, and a restarted process passes a random `first_request` so that a late reply to its
// previous life's transaction is never taken for the answer to a new one.
class SqlClient {
 public:
  SqlClient(sim::Env& env, sim::ProcessId server, sim::Duration timeout,
            std::deque<sim::Message>* stash = nullptr, std::uint64_t first_request = 1)
      : env_(env), server_(server), timeout_(timeout), stash_(stash), next_req_(first_request) {}
  sim::Task<SqlResult> transact(std::vector<SqlStatement> statements, std::string label = {});

 private:
  sim::Env& env_;
  sim::ProcessId server_;
  sim::Duration timeout_;
  std::deque<sim::Message>* stash_;
  std::uint64_t next_req_;
};

}  // namespace seer::services
