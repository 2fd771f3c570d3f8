// The database a native-target test runs on: a fresh database on the PostgreSQL 15 cluster that
// ctest starts (tests/promises/postgres_cluster.sh, named in SEER_POSTGRES_URL), with resonate.sql
// installed by the same code as seer-resonate-pg.
#pragma once

#include "install.hpp"
#include "session.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace seer::promises::native::testing {

// A deadline no test reaches.
inline constexpr std::int64_t kFar = 1'000'000'000'000'000;

// The cluster's URL (its `postgres` database), if the test run has one.
std::optional<std::string> cluster_url();

// A new, empty database `name` on the cluster (dropped first if left over), without the schema:
// ctest's cluster, or the one whose `postgres` database `cluster` names.
std::string fresh_database(const std::string& name, std::optional<std::string> cluster = {});

// The same with resonate.sql installed.
std::string fresh_native_database(const std::string& name, std::optional<std::string> cluster = {});

// resonate.resonate_rpc(request) on `session`: the response, and the `now` it used.
struct Rpc {
  nlohmann::json response;
  std::int64_t now = 0;
};
Rpc rpc(Session& session, const nlohmann::json& request);

// The outbox rows after `after` (by id) of origin `origin` ("" for all), as the model's
// messages: {"address", "message": {kind, head: {}, data}}; `last` becomes the last id read.
std::vector<nlohmann::json> outbox_since(Session& session, std::int64_t& last,
                                         const std::string& origin = "");

}  // namespace seer::promises::native::testing
