#include "databases.hpp"

#include "seer/postgres/connection.hpp"

#include <cstdlib>
#include <stdexcept>

namespace seer::promises::live {

std::string engine_name(Engine engine) {
  return engine == Engine::kSqlite ? "Sqlite" : "Postgres";
}

std::optional<std::string> postgres_cluster() {
  const char* url = std::getenv("SEER_POSTGRES_URL");
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}

std::string fresh_database(Engine engine, const std::filesystem::path& dir,
                           const std::string& name) {
  if (engine == Engine::kSqlite) return (dir / (name + ".db")).string();
  const auto cluster = postgres_cluster();
  if (!cluster) throw std::runtime_error("SEER_POSTGRES_URL is not set");
  postgres::Connection admin(*cluster);
  admin.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  admin.exec("CREATE DATABASE " + name);
  // The cluster URL ends in /postgres: the same server, the new database.
  const auto slash = cluster->rfind('/');
  return cluster->substr(0, slash + 1) + name;
}

}  // namespace seer::promises::live
