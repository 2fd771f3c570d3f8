#include "postgres_store.hpp"

#include "promises/concrete/sql_rows.hpp"

#include <stdexcept>

namespace seer::promises::server {

std::unique_ptr<postgres::Connection> open_postgres_database(const std::string& url) {
  // Every session, also after a reconnection: a cluster configured otherwise must not make us
  // acknowledge a commit before it is flushed. And key lookups only: every statement the server
  // runs finds a handful of rows by key. No bitmap scans, whose two plan nodes cost more to set up
  // than a plain index scan (+2.5 % at 64 clients); no hash or merge joins and no sequential
  // scans, because a prepared statement's generic plan is made once, often on empty tables, where
  // they cost nothing, and is kept until autovacuum's ANALYZE invalidates it (once a table grew by
  // a tenth): until then the footprint read read whole tables per request (BENCHMARKS.md, "One
  // statement for the footprint").
  auto db = std::make_unique<postgres::Connection>(
      url,
      "SET synchronous_commit = on; SET enable_bitmapscan = off; SET enable_hashjoin = off; "
      "SET enable_mergejoin = off; SET enable_seqscan = off");
  if (db->query({"SHOW fsync"})[0][0] != "on") {
    throw std::runtime_error(
        "postgres: the server runs with fsync off; a commit would not be "
        "durable");
  }
  // One transaction that waits for any other server doing the same (the advisory lock), so the
  // schema is created once. The lock's key is any constant.
  db->exec(
      "DO $seer$ BEGIN PERFORM pg_advisory_xact_lock(7370616); "
      "IF to_regclass('origins') IS NULL THEN EXECUTE $schema$" +
      concrete::postgres_schema() +
      "$schema$; END IF; "
      // Columns and indices added after the first schema: a database created before them gets
      // them here.
      "EXECUTE $upgrades$" +
      concrete::postgres_column_upgrades() + concrete::schema_upgrades() +
      "$upgrades$; END $seer$");
  return db;
}

std::unique_ptr<design::PartitionStore> make_postgres_partition_store(postgres::Connection& reader,
                                                                      GroupCommit& writes,
                                                                      ErrorLog log) {
  auto transact = [&reader, &writes](const std::vector<sql::Statement>& statements,
                                     TransactionKind kind, const std::string& origin) {
    return kind == TransactionKind::kWrite ? writes.write(statements, origin)
                                           : reader.transact(statements, postgres::Access::kRead);
  };
  return make_sql_store(transact, std::move(log));
}

}  // namespace seer::promises::server
