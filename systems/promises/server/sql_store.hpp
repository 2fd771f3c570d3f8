// The production server's store: the concrete SQL (../concrete/README.md) on a real database. The
// design's server algorithm runs over it unchanged; every store call completes before it returns,
// as a local database's does. The databases differ only in how a transaction is run, so each
// (sqlite_store, postgres_store) supplies that and this does the rest.
#pragma once

#include "promises/design/partition_store.hpp"
#include "seer/sql/statement.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seer::promises::server {

// Where the store reports what went wrong (a full disk, a lost connection, a corrupt row): one
// line each.
using ErrorLog = std::function<void(const std::string&)>;

enum class TransactionKind {
  kRead,   // one snapshot for all its statements
  kWrite,  // serialised with the other writers of the same origin by its guard
};
// `origin`: the partition a write is of, which orders writes committed together (GroupCommit).
using Transact = std::function<sql::Outcome(const std::vector<sql::Statement>&, TransactionKind,
                                            const std::string& origin)>;

std::unique_ptr<design::PartitionStore> make_sql_store(Transact transact, ErrorLog log);

}  // namespace seer::promises::server
