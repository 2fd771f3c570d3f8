// PostgreSQL's own benchmark on a comparable transaction: pgbench's built-in TPC-B-like script
// (BEGIN; three UPDATEs, a SELECT and an INSERT; END), at the same client count as the server's
// load, so the server's create + settle rate stands beside what the database does for a
// transaction of a few statements on the same machine.
#pragma once

#include <string>

namespace seer::bench {

// Initialises pgbench's tables in `database` (a URL; scale 8, so 8 branches: at most 8 clients
// update one branch row at a time) and runs `clients` clients for `seconds` with prepared
// statements. Transactions per second; throws std::runtime_error if pgbench fails.
double pgbench_tps(const std::string& pgbench, const std::string& database, int clients,
                   double seconds);

}  // namespace seer::bench
