// SQLite behind the simulated SQL server. Only statements and their parameters enter it, so a run
// stays a function of its seed as long as designs avoid random() and the current time in SQL.
#include "seer/services/sql.hpp"

namespace seer::services {

SqlDatabase::SqlDatabase(const std::vector<std::string>& schema)
    : db_(std::make_unique<sqlite::Connection>(":memory:")) {
  for (const auto& sql : schema) db_->exec(sql);
}

SqlDatabase::~SqlDatabase() = default;

SqlDatabase::Outcome SqlDatabase::execute(const std::vector<SqlStatement>& statements,
                                          const std::string& label) {
  auto out = db_->transact(statements);
  if (out.committed) committed_.push_back(label);
  return out;
}

nlohmann::json SqlDatabase::query(const std::string& sql) const {
  return db_->query(SqlStatement{sql, nlohmann::json::array(), std::nullopt});
}

nlohmann::json SqlDatabase::query(const SqlStatement& statement) const {
  return db_->query(statement);
}

}  // namespace seer::services
