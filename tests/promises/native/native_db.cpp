#include "native_db.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace seer::promises::native::testing {

using json = nlohmann::json;

std::optional<std::string> cluster_url() {
  const char* url = std::getenv("SEER_POSTGRES_URL");
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}

std::string fresh_database(const std::string& name, std::optional<std::string> cluster) {
  if (!cluster) cluster = cluster_url();
  if (!cluster) throw std::runtime_error("SEER_POSTGRES_URL is not set");
  Session admin(*cluster);
  admin.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  admin.exec("CREATE DATABASE " + name);
  // The cluster URL ends in /postgres: the same server, the new database.
  return cluster->substr(0, cluster->rfind('/') + 1) + name;
}

std::string fresh_native_database(const std::string& name, std::optional<std::string> cluster) {
  const std::string url = fresh_database(name, std::move(cluster));
  Session session(url);
  install(session);
  return url;
}

Rpc rpc(Session& session, const json& request) {
  const auto rows = session.rows("SELECT resonate.resonate_rpc($1::jsonb), resonate.last_now()",
                                 {request.dump()});
  if (rows.size() != 1 || !rows[0][0] || !rows[0][1])
    throw std::runtime_error("resonate_rpc returned no row for " + request.dump());
  return {json::parse(*rows[0][0]), std::stoll(*rows[0][1])};
}

std::vector<json> outbox_since(Session& session, std::int64_t& last, const std::string& origin) {
  const auto rows = session.rows(
      "SELECT id, address, kind, task_id, version, promise FROM resonate.outbox "
      "WHERE id > $1 AND ($2 = '' OR origin = $2) ORDER BY id",
      {std::to_string(last), origin});
  std::vector<json> out;
  for (const auto& row : rows) {
    last = std::max<std::int64_t>(last, std::stoll(*row[0]));
    json data = json::object();
    if (*row[2] == "execute") {
      data["task"] = {{"id", *row[3]}, {"version", std::stoll(*row[4])}};
    } else {
      data["promise"] = json::parse(*row[5]);
    }
    json message = {{"kind", *row[2]}, {"head", json::object()}, {"data", std::move(data)}};
    out.push_back({{"address", *row[1]}, {"message", std::move(message)}});
  }
  return out;
}

}  // namespace seer::promises::native::testing
