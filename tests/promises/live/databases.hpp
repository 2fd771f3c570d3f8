// The database a live test runs seer-resonate on: a SQLite file, or a fresh database on the test
// PostgreSQL cluster that ctest starts (tests/promises/postgres_cluster.sh) and names in
// SEER_POSTGRES_URL.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

namespace seer::promises::live {

enum class Engine { kSqlite, kPostgres };

std::string engine_name(Engine engine);
// For gtest's test names and messages.
inline void PrintTo(Engine engine, std::ostream* os) {
  *os << engine_name(engine);
}

// The cluster's URL (its `postgres` database), if the test run has one.
std::optional<std::string> postgres_cluster();

// The --db argument for a new, empty database named after `name`: a file in `dir`, or a database
// created (dropped first if left over) on the cluster. Throws std::runtime_error.
std::string fresh_database(Engine engine, const std::filesystem::path& dir,
                           const std::string& name);

}  // namespace seer::promises::live
