// Group commit for the server's writes, on SQLite and on PostgreSQL. The loops (main.cpp) each
// serve one request at a time, so each has at most one write waiting; a write that arrives while
// another group is being committed waits, and the next group takes every write waiting then: one
// BEGIN (IMMEDIATE on SQLite), one savepoint each, one COMMIT and so one fsync for all of them
// (leader and followers, as in a database's WAL writer). On PostgreSQL the group is one round
// trip (libpq's pipeline mode) unless a write in it fails (postgres/connection.hpp), and there may
// be several writer connections: a group forms as soon as one of them is free, so up to that many
// groups commit at once (PostgreSQL flushes their commits together; one connection would make its
// backend the only process executing writes, which on a shared CPU gets one process's share).
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
    bool taken = false;  // by a group, being committed
    bool done = false;
  };

  std::unique_ptr<sqlite::Connection> sqlite_;
  std::vector<std::unique_ptr<postgres::Connection>> postgres_;
  std::vector<Together> writers_;  // one per connection, on whichever database is open
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  std::vector<Waiting*> queued_;
  std::vector<std::size_t> free_;  // writers no group is being committed on
  std::uint64_t groups_ = 0, writes_ = 0;
};

}  // namespace seer::promises::server
