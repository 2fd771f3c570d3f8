// The SQL database's wire messages and client (sql_client.hpp).
#include "seer/services/sql_client.hpp"

namespace seer::services {

nlohmann::json SqlRequest::to_json() const {
  nlohmann::json statements = nlohmann::json::array();
  for (const auto& s : this->statements) {
    nlohmann::json j = {{"sql", s.sql}, {"params", s.params}};
    if (s.expect_changes) j["expect_changes"] = *s.expect_changes;
    statements.push_back(std::move(j));
  }
  return {{"req", req}, {"label", label}, {"statements", statements}};
}

nlohmann::json SqlReply::to_json() const {
  nlohmann::json j = {{"req", req},
                      {"committed", committed},
                      {"results", results},
                      {"changes", changes},
                      {"serial", serial}};
  if (!error.empty()) j["error"] = error;
  if (failed_statement) j["failed_statement"] = *failed_statement;
  return j;
}

SqlResult SqlClient::result(const std::shared_ptr<const SqlReply>& reply) {
  if (!reply) {
    SqlResult timed_out;
    timed_out.timed_out = true;
    return timed_out;
  }
  return SqlResult{false,          reply->committed, reply->error,
                   reply->results, reply->changes,   reply->failed_statement};
}

// One coroutine frame a transaction (RequestClient::request_then_at).
sim::Task<SqlResult> SqlClient::transact(std::vector<SqlStatement> statements, std::string label,
                                         sim::CodeSite at) {
  return request_then_at<SqlResult>(at, &SqlClient::result, std::move(statements),
                                    std::move(label));
}

}  // namespace seer::services
