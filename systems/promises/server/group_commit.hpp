// Group commit for the server's writes, on SQLite and on PostgreSQL. The loops (main.cpp) each
// serve one request at a time, so each has at most one write waiting. Each database connection
// that commits has its own writer thread: it takes every write waiting, runs them as one group (one
// BEGIN, IMMEDIATE on SQLite; one savepoint each; one COMMIT and so one fsync for all of them, as
// in a database's WAL writer), answers them and takes the next group. On PostgreSQL the group is
// one round trip (libpq's pipeline mode) unless a write in it fails (postgres/connection.hpp), and
// there may be several writer connections, so up to that many groups commit at once (PostgreSQL
// flushes their commits together; one connection would make its backend the only process
// executing writes, which on a shared CPU gets one process's share). A writer thread, not a loop
// leading its own group: the loops go on serving while a group commits, and the next group starts
// without first waking a loop to lead it (BENCHMARKS.md, "seer-resonate's pages": +15 %).
// Nobody's write is answered before its group's COMMIT has returned. A write's outcome is what it
// would have been alone: a failed guard rolls back only its own savepoint, and a COMMIT that fails
// leaves every write of the group uncommitted (unknown to the server, which answers none of them).
#pragma once

#include "seer/postgres/connection.hpp"
#include "seer/sqlite/connection.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace seer::promises::server {

class GroupCommit {
 public:
  using Transactions = std::vector<const std::vector<sql::Statement>*>;
  // Runs a group: one outcome per transaction, each committed or not (transact_together).
  using Together = std::function<std::vector<sql::Outcome>(const Transactions&)>;

  explicit GroupCommit(std::unique_ptr<sqlite::Connection> writer);
  explicit GroupCommit(std::unique_ptr<postgres::Connection> writer);
  // At least one.
  explicit GroupCommit(std::vector<std::unique_ptr<postgres::Connection>> writers);
  // Stops the writer threads once every write waiting has been committed or failed.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Thread-safe: returns once the write's group has committed or failed. A group runs its writes
  // in the order of their `lock_order` (the server's: the origin written), whatever order they
  // arrived in. A write takes its origin's row lock first (its guard) and holds it to the group's
  // COMMIT, so two groups committing at once (two writer sessions, or two servers on one
  // database) that took the same origins in opposite orders would deadlock: PostgreSQL breaks it
  // only after deadlock_timeout (1 s) by failing one. In one order, their locks form no cycle.
  sql::Outcome write(const std::vector<sql::Statement>& statements, std::string lock_order = {});

  // Groups committed and writes in them so far (for the server's stopping line and tests).
  std::uint64_t groups() const;
  std::uint64_t writes() const;
  // Whether a group is being committed now, and how many writes wait for the next one (not yet
  // taken by a group).
  bool committing() const;
  std::size_t writes_waiting() const;

 private:
  struct Waiting {
    const std::vector<sql::Statement>* statements;
    std::string lock_order;
    sql::Outcome outcome;
    bool done = false;
    // Its own, so that a group's end wakes exactly its writes: one shared condition woke every
    // waiting loop for each group, and they fought over the mutex.
    std::condition_variable wake;
  };

  // A writer thread's own wake-up: a write waits and this writer is to take it.
  struct Writer {
    std::condition_variable wake;
    bool assigned = false;
  };

  void start_writers();
  void run_writer(std::size_t writer);

  std::unique_ptr<sqlite::Connection> sqlite_;
  std::vector<std::unique_ptr<postgres::Connection>> postgres_;
  std::vector<Together> writers_;  // one per connection, on whichever database is open
  mutable std::mutex mutex_;
  std::vector<Waiting*> queued_;
  std::vector<std::unique_ptr<Writer>> writer_states_;  // one per writer
  // Idle writers, writer 0 last: an idle server always commits on the same session, so a lost
  // session fails one write, not one per writer (store_faults_test.sh lost-session).
  std::vector<std::size_t> free_;
  std::size_t busy_ = 0;  // writers committing a group now
  bool stopping_ = false;
  std::uint64_t groups_ = 0, writes_ = 0;
  std::vector<std::thread> threads_;  // one per writer; last, so they start after the rest
};

}  // namespace seer::promises::server
