#include "sqlite_store.hpp"

#include "promises/concrete/sql_rows.hpp"

#include <string>

namespace seer::promises::server {

std::unique_ptr<sqlite::Connection> open_sqlite_database(const std::string& path) {
  auto db = std::make_unique<sqlite::Connection>(path);
  // A missing or locked file shows up at the first statement, not at open.
  concrete::use_server_settings(*db, path);
  db->exec("PRAGMA busy_timeout=5000");  // other servers on the same file: wait for their commit
  const auto tables = db->query({"SELECT count(*) FROM sqlite_master WHERE name = 'origins'"});
  if (tables[0][0] == 0) {
    db->exec("BEGIN IMMEDIATE");
    try {
      db->exec(concrete::sqlite_schema());
      db->exec("COMMIT");
    } catch (...) {
      db->exec("ROLLBACK");
      throw;
    }
  }
  // Columns and indices added after the first schema: a file written before them gets them here.
  if (db->query({concrete::sqlite_has_branch_column()})[0][0] == 0) {
    db->exec(concrete::sqlite_branch_column());
  }
  db->exec(concrete::schema_upgrades());
  return db;
}

std::unique_ptr<design::PartitionStore> make_sqlite_partition_store(
    sqlite::Connection& reader, GroupCommit& writes, ErrorLog log, const FileIdentity* identity,
    std::function<void(const std::string&)> fatal) {
  auto transact = [&reader, &writes, identity, fatal = std::move(fatal)](
                      const std::vector<sql::Statement>& statements, TransactionKind kind,
                      const std::string& origin) {
    auto outcome = kind == TransactionKind::kRead
                       ? reader.transact(statements, sqlite::Begin::kDeferred)
                       : writes.write(statements, origin);
    if (identity) {
      if (auto why = identity->changed()) {
        // Committed to a file that is no longer the database: answer nothing from it.
        if (fatal) fatal(*why);
        sql::Outcome failed;
        failed.error = *why;
        return failed;
      }
    }
    return outcome;
  };
  return make_sql_store(transact, std::move(log));
}

}  // namespace seer::promises::server
