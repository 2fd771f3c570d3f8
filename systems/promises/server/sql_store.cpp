#include "sql_store.hpp"

#include "promises/concrete/sql_rows.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace seer::promises::server {

namespace {

using design::Partition;
using design::WriteOutcome;

class SqlPartitionStore final : public design::PartitionStore {
 public:
  SqlPartitionStore(Transact transact, ErrorLog log)
      : transact_(std::move(transact)), log_(std::move(log)) {}

  // One database: every read is of the latest commit, so `fresh` asks for nothing more. With a
  // footprint, only its rows are read (concrete::read_rows).
  sim::Task<std::optional<Partition>> read(std::string origin, bool,
                                           std::optional<Footprint> footprint) override {
    const auto r = transact_(
        footprint ? concrete::read_rows(origin, *footprint) : concrete::read_origin(origin),
        TransactionKind::kRead, origin);
    if (!r.committed) {
      log_("reading origin " + origin + ": " + r.error);
      back_off();
      co_return std::nullopt;
    }
    failed_reads_ = 0;
    try {
      auto stored = footprint ? concrete::parse_rows(r.results) : concrete::parse_origin(r.results);
      co_return Partition{std::move(stored.state), stored.clock, stored.revision,
                          stored.next_timeout_position};
    } catch (const std::exception& e) {
      log_("origin " + origin + " has rows that are not a state: " + e.what());
      co_return std::nullopt;
    }
  }

  sim::Task<std::optional<Partition>> read_due(std::string origin, std::int64_t now) override {
    const auto r = transact_(concrete::read_due(origin, now), TransactionKind::kRead, origin);
    if (!r.committed) {
      log_("reading origin " + origin + ": " + r.error);
      back_off();
      co_return std::nullopt;
    }
    failed_reads_ = 0;
    try {
      auto stored = concrete::parse_rows(r.results);
      co_return Partition{std::move(stored.state), stored.clock, stored.revision,
                          stored.next_timeout_position, true};
    } catch (const std::exception& e) {
      log_("origin " + origin + " has rows that are not a state: " + e.what());
      co_return std::nullopt;
    }
  }

  sim::Task<WriteOutcome> write(std::string origin, Partition before, State after,
                                std::int64_t clock) override {
    const concrete::StoredOrigin stored{before.revision, before.clock, std::move(before.state),
                                        before.timeout_positions};
    const auto r = transact_(concrete::write_origin(origin, stored, after, clock),
                             TransactionKind::kWrite, origin);
    if (r.committed) co_return WriteOutcome::kWritten;
    if (r.guard_failed) co_return WriteOutcome::kConflict;  // another server wrote it first
    // Not committed, or not known to be (a full disk, an I/O error, a connection lost before
    // COMMIT's answer): the server must not answer as if it had been written, nor retry at once;
    // it answers nothing and the client retries.
    log_("writing origin " + origin + ": " + r.error);
    co_return WriteOutcome::kUnknown;
  }

  sim::Task<std::optional<std::vector<std::string>>> sweep_candidates(std::int64_t now) override {
    const auto r = transact_({concrete::due_origins(now)}, TransactionKind::kRead, {});
    if (!r.committed) {
      log_("sweep: " + r.error);
      back_off();
      co_return std::nullopt;
    }
    failed_reads_ = 0;
    co_return concrete::parse_due_origins(r.results[0]);
  }

 private:
  // Reads failing one after another (a corrupt page, a lost disk) are retried by clients and the
  // sweep at once; each failure makes this loop wait longer before it answers (10 ms doubling to
  // 100 ms), so a broken store is not hammered. The store's calls block their loop anyway.
  void back_off() {
    ++failed_reads_;
    const auto ms = std::min<std::int64_t>(100, 10LL << std::min(failed_reads_ - 1, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  Transact transact_;
  ErrorLog log_;
  int failed_reads_ = 0;
};

}  // namespace

std::unique_ptr<design::PartitionStore> make_sql_store(Transact transact, ErrorLog log) {
  return std::make_unique<SqlPartitionStore>(std::move(transact), std::move(log));
}

}  // namespace seer::promises::server
