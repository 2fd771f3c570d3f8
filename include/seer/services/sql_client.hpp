// The SQL database's wire messages and its client, for design code. Needs only Env; the service
// (which needs the Simulator) is in sql.hpp. Contract: docs/services.md.
#pragma once

#include "seer/services/request_client.hpp"
#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"
#include "seer/sql/statement.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::services {

// A statement with its parameters; `expect_changes` is how a single-round-trip transaction says
// "only if the balance covered it".
using SqlStatement = sql::Statement;

struct SqlRequest final : sim::Payload {
  SqlRequest(std::uint64_t r, std::vector<SqlStatement> s, std::string l)
      : req(r), statements(std::move(s)), label(std::move(l)) {}
  std::uint64_t req;
  std::vector<SqlStatement> statements;
  std::string label;  // names the transaction in traces and to the oracle; no effect on execution
  std::string_view type() const override { return "sql_request"; }
  nlohmann::json to_json() const override;
};

struct SqlReply final : sim::Payload {
  SqlReply(std::uint64_t r, const sql::Outcome& outcome, std::uint64_t n)
      : req(r),
        committed(outcome.committed),
        error(outcome.error),
        results(outcome.results),
        changes(outcome.changes),
        failed_statement(outcome.failed_statement),
        serial(n) {}
  // The same, taking the outcome's results and error instead of copying them.
  SqlReply(std::uint64_t r, sql::Outcome&& outcome, std::uint64_t n)
      : req(r),
        committed(outcome.committed),
        error(std::move(outcome.error)),
        results(std::move(outcome.results)),
        changes(std::move(outcome.changes)),
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

struct SqlResult {
  bool timed_out = false;
  bool committed = false;
  std::string error;
  nlohmann::json results;
  std::vector<std::int64_t> changes;            // per statement run: the rows it changed
  std::optional<std::size_t> failed_statement;  // on a rollback: the statement that failed
};

// The client side for design code; the rules are RequestClient's (request_client.hpp), as for
// KvClient: messages that are not its reply go to `stash` (if given) for the caller to handle
// later, and a restarted process passes a random `first_request` so that a late reply to its
// previous life's transaction is never taken for the answer to a new one.
class SqlClient : private RequestClient<SqlRequest, SqlReply> {
 public:
  // (env, server, timeout, stash = nullptr, first_request = 1)
  using RequestClient::RequestClient;
  // `at`, left to its default, is the design's line of the call (code_site.hpp).
  sim::Task<SqlResult> transact(std::vector<SqlStatement> statements, std::string label = {},
                                sim::CodeSite at = sim::CodeSite::here());

 private:
  static SqlResult result(const std::shared_ptr<const SqlReply>& reply);  // nullptr: timed out
};

}  // namespace seer::services
