#include "sqlite_store.hpp"

#include "promises/concrete/sql_rows.hpp"

#include <stdexcept>

namespace seer::promises::server {

namespace {

using design::Partition;
using design::WriteOutcome;

class SqlitePartitionStore final : public design::PartitionStore {
 public:
  SqlitePartitionStore(sqlite::Connection& db, ErrorLog log) : db_(db), log_(std::move(log)) {}

  // One database: every read is of the latest commit, so `fresh` asks for nothing more.
  sim::Task<std::optional<Partition>> read(std::string origin, bool) override {
    const auto r = db_.transact(concrete::read_origin(origin), sqlite::Begin::kDeferred);
    if (!r.committed) {
      log_("reading origin " + origin + ": " + r.error);
      co_return std::nullopt;
    }
    try {
      auto stored = concrete::parse_origin(r.results);
      co_return Partition{std::move(stored.state), stored.clock, stored.revision,
                          stored.next_timeout_position};
    } catch (const std::exception& e) {
      log_("origin " + origin + " has rows that are not a state: " + e.what());
      co_return std::nullopt;
    }
  }

  sim::Task<WriteOutcome> write(std::string origin, Partition before, State after,
                                std::int64_t clock) override {
    const concrete::StoredOrigin stored{before.revision, before.clock, std::move(before.state),
                                        before.timeout_positions};
    const auto r = db_.transact(concrete::write_origin(origin, stored, after, clock),
                                sqlite::Begin::kImmediate);
    if (r.committed) co_return WriteOutcome::kWritten;
    if (r.guard_failed) co_return WriteOutcome::kConflict;  // another server wrote it first
    // Rolled back (a full disk, an I/O error): nothing was written, but the server must not
    // answer as if it had been, nor retry at once; it answers nothing and the client retries.
    log_("writing origin " + origin + ": " + r.error);
    co_return WriteOutcome::kUnknown;
  }

  sim::Task<std::optional<std::vector<std::string>>> sweep_candidates(std::int64_t now) override {
    const auto r = db_.transact({concrete::due_origins(now)}, sqlite::Begin::kDeferred);
    if (!r.committed) {
      log_("sweep: " + r.error);
      co_return std::nullopt;
    }
    co_return concrete::parse_due_origins(r.results[0]);
  }

 private:
  sqlite::Connection& db_;
  ErrorLog log_;
};

}  // namespace

std::unique_ptr<sqlite::Connection> open_sqlite_database(const std::string& path) {
  auto db = std::make_unique<sqlite::Connection>(path);
  // A missing or locked file shows up at the first statement, not at open.
  const auto mode = db->query({"PRAGMA journal_mode=WAL"});
  if (mode.empty() || mode[0][0] != "wal") {
    throw std::runtime_error("sqlite: " + path + " cannot be put in WAL mode");
  }
  db->exec("PRAGMA synchronous=FULL");
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
  return db;
}

std::unique_ptr<design::PartitionStore> make_sqlite_partition_store(sqlite::Connection& db,
                                                                    ErrorLog log) {
  return std::make_unique<SqlitePartitionStore>(db, std::move(log));
}

}  // namespace seer::promises::server
