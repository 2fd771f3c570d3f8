#include "promises/concrete/sql_rows.hpp"

#include "promises/concrete/schemas.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/state_codec.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace seer::promises::concrete {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("stored origin: " + what);
}

const json& rows_of(const json& results, std::size_t i) {
  if (!results.is_array() || results.size() <= i || !results[i].is_array()) {
    bad("expected the rows of " + std::to_string(i + 1) + " statements");
  }
  return results[i];
}

json parsed_text(const json& column) {
  if (!column.is_string()) bad("a JSON column is not text");
  try {
    return json::parse(column.get<std::string>());
  } catch (const json::exception&) {
    bad("a JSON column does not parse");
  }
}

// An ordered set (callbacks, listeners) as rows: positions follow the set's order, so appending
// to a set inserts only the new rows and any other change rewrites that promise's set.
void write_set(std::vector<SqlStep>& out, const char* table, const char* column,
               const std::string& origin, const std::string& awaited, const json& before,
               const json& after) {
  if (before == after) return;
  std::size_t from = 0;
  const bool appended =
      before.size() <= after.size() && std::equal(before.begin(), before.end(), after.begin());
  if (appended) {
    from = before.size();
  } else {
    out.push_back(
        {std::string("DELETE FROM ") + table + " WHERE awaited = ?1", json::array({awaited})});
  }
  for (std::size_t i = from; i < after.size(); ++i) {
    out.push_back({std::string("INSERT INTO ") + table + " (awaited, " + column +
                       ", origin, position) VALUES (?1, ?2, ?3, ?4)",
                   json::array({awaited, after[i], origin, static_cast<std::int64_t>(i)})});
  }
}

void write_task_timeouts(std::vector<SqlStep>& out, const std::string& origin,
                         const StoredOrigin& before, const State& after) {
  const auto was = before.state.task_timeouts.entries();
  const auto now = after.task_timeouts.entries();
  if (was == now) return;
  std::map<std::string, TaskTimeout> remaining;
  for (const auto& [id, t] : now) remaining.emplace(id, t);
  std::vector<std::string> kept;
  for (const auto& [id, t] : was)
    if (remaining.count(id)) kept.push_back(id);
  // In place when the kept entries lead in their old order and new ones follow (upserts, erasures
  // and appends); anything else (an entry erased and added again moves to the end) is rewritten.
  bool in_place = kept.size() <= now.size();
  for (std::size_t i = 0; in_place && i < kept.size(); ++i) in_place = now[i].first == kept[i];
  auto insert = [&](const std::string& id, const TaskTimeout& t, std::int64_t position) {
    out.push_back(
        {"INSERT INTO task_timeouts (id, origin, kind, at, position) VALUES (?1, ?2, ?3, "
         "?4, ?5)",
         json::array({id, origin, static_cast<int>(t.kind), t.at, position})});
  };
  if (!in_place) {
    out.push_back({"DELETE FROM task_timeouts WHERE origin = ?1", json::array({origin})});
    for (std::size_t i = 0; i < now.size(); ++i) {
      insert(now[i].first, now[i].second, static_cast<std::int64_t>(i));
    }
    return;
  }
  for (const auto& [id, t] : was) {
    const auto it = remaining.find(id);
    if (it == remaining.end()) {
      out.push_back({"DELETE FROM task_timeouts WHERE id = ?1", json::array({id})});
    } else if (!(it->second == t)) {
      out.push_back({"UPDATE task_timeouts SET kind = ?2, at = ?3 WHERE id = ?1",
                     json::array({id, static_cast<int>(it->second.kind), it->second.at})});
    }
  }
  std::int64_t position = before.next_timeout_position;
  for (std::size_t i = kept.size(); i < now.size(); ++i) {
    insert(now[i].first, now[i].second, position++);
  }
}

}  // namespace

const std::string& sqlite_schema() {
  static const std::string schema(kSqliteSchema);
  return schema;
}

const std::string& postgres_schema() {
  static const std::string schema(kPostgresSchema);
  return schema;
}

std::vector<SqlStep> read_origin(const std::string& origin) {
  const json o = json::array({origin});
  return {
      {"SELECT revision, clock FROM origins WHERE origin = ?1", o},
      {"SELECT id, seq, state, param, value, tags, timeout_at, created_at, settled_at FROM "
       "promises WHERE origin = ?1 ORDER BY seq",
       o},
      {"SELECT awaited, awaiter FROM callbacks WHERE origin = ?1 ORDER BY awaited, position", o},
      {"SELECT awaited, address FROM listeners WHERE origin = ?1 ORDER BY awaited, position", o},
      {"SELECT id, state, version, pid, ttl, resumes FROM tasks WHERE origin = ?1", o},
      {"SELECT id, kind, at, position FROM task_timeouts WHERE origin = ?1 ORDER BY position", o},
  };
}

StoredOrigin parse_origin(const json& results) {
  StoredOrigin out;
  try {
    const auto& origins = rows_of(results, 0);
    if (!origins.empty()) {
      out.revision = origins[0].at(0).get<std::int64_t>();
      out.clock = origins[0].at(1).get<std::int64_t>();
    }
    std::map<std::string, json> sets;  // promise id -> {callbacks, listeners}
    for (const auto& row : rows_of(results, 2)) {
      sets[row.at(0).get<std::string>()]["callbacks"].push_back(row.at(1));
    }
    for (const auto& row : rows_of(results, 3)) {
      sets[row.at(0).get<std::string>()]["listeners"].push_back(row.at(1));
    }
    json doc = {
        {"promises", json::array()}, {"tasks", json::array()}, {"taskTimeouts", json::array()}};
    for (const auto& row : rows_of(results, 1)) {
      const auto id = row.at(0).get<std::string>();
      const auto found = sets.find(id);
      const json set = found == sets.end() ? json::object() : found->second;
      doc["promises"].push_back({{"id", id},
                                 {"seq", row.at(1)},
                                 {"state", row.at(2)},
                                 {"param", parsed_text(row.at(3))},
                                 {"value", parsed_text(row.at(4))},
                                 {"tags", parsed_text(row.at(5))},
                                 {"timeoutAt", row.at(6)},
                                 {"createdAt", row.at(7)},
                                 {"settledAt", row.at(8)},
                                 {"callbacks", set.value("callbacks", json::array())},
                                 {"listeners", set.value("listeners", json::array())}});
      if (found != sets.end()) sets.erase(found);
    }
    if (!sets.empty()) bad("a callback or listener of a promise the origin does not hold");
    for (const auto& row : rows_of(results, 4)) {
      doc["tasks"].push_back({{"id", row.at(0)},
                              {"state", row.at(1)},
                              {"version", row.at(2)},
                              {"pid", row.at(3)},
                              {"ttl", row.at(4)},
                              {"resumes", parsed_text(row.at(5))}});
    }
    for (const auto& row : rows_of(results, 5)) {
      doc["taskTimeouts"].push_back({{"id", row.at(0)}, {"type", row.at(1)}, {"at", row.at(2)}});
      out.next_timeout_position =
          std::max(out.next_timeout_position, row.at(3).get<std::int64_t>() + 1);
    }
    out.state = state_from_json(doc);
  } catch (const json::exception& e) {
    bad(e.what());
  }
  return out;
}

std::vector<SqlStep> write_origin(const std::string& origin, const StoredOrigin& before,
                                  const State& after, std::int64_t clock) {
  std::vector<SqlStep> out;
  if (before.revision == 0) {
    out.push_back(
        {"INSERT INTO origins (origin, revision, clock) VALUES (?1, 1, ?2) ON CONFLICT "
         "DO NOTHING",
         json::array({origin, clock}), 1});
  } else {
    out.push_back(
        {"UPDATE origins SET revision = revision + 1, clock = ?2 WHERE origin = ?1 AND "
         "revision = ?3",
         json::array({origin, clock, before.revision}), 1});
  }
  const json was = state_to_json(before.state);
  const json now = state_to_json(after);
  std::map<std::string, const json*> old_promises;
  for (const auto& p : was["promises"]) old_promises[p["id"].get<std::string>()] = &p;
  if (now["promises"].size() < was["promises"].size()) {
    throw std::logic_error("a promise was removed from origin " + origin);
  }
  static const json kNoSet = json::array();
  for (const auto& p : now["promises"]) {
    const auto id = p["id"].get<std::string>();
    const auto it = old_promises.find(id);
    const json* old = it == old_promises.end() ? nullptr : it->second;
    if (old == nullptr) {
      out.push_back(
          {"INSERT INTO promises (id, origin, seq, state, param, value, tags, "
           "timeout_at, created_at, settled_at, has_target) VALUES (?1, ?2, ?3, ?4, "
           "?5, ?6, ?7, ?8, ?9, ?10, ?11)",
           json::array({id, origin, p["seq"], p["state"], p["param"].dump(), p["value"].dump(),
                        p["tags"].dump(), p["timeoutAt"], p["createdAt"], p["settledAt"],
                        has_target(after.promises.at(id).tags) ? 1 : 0})});
    } else {
      for (const char* immutable : {"seq", "param", "tags", "timeoutAt", "createdAt"}) {
        if ((*old)[immutable] != p[immutable]) {
          throw std::logic_error("promise " + id + " changed its " + immutable);
        }
      }
      if ((*old)["state"] != p["state"] || (*old)["value"] != p["value"] ||
          (*old)["settledAt"] != p["settledAt"]) {
        out.push_back({"UPDATE promises SET state = ?2, value = ?3, settled_at = ?4 WHERE id = ?1",
                       json::array({id, p["state"], p["value"].dump(), p["settledAt"]})});
      }
    }
    write_set(out, "callbacks", "awaiter", origin, id, old ? (*old)["callbacks"] : kNoSet,
              p["callbacks"]);
    write_set(out, "listeners", "address", origin, id, old ? (*old)["listeners"] : kNoSet,
              p["listeners"]);
  }
  for (const auto& [id, task] : after.tasks) {
    const auto old = before.state.tasks.find(id);
    if (old != before.state.tasks.end() && old->second == task) continue;
    const json t = state_to_json(State{{}, {}, {{id, task}}, {}})["tasks"][0];
    out.push_back(
        {"INSERT INTO tasks (id, origin, state, version, pid, ttl, resumes) VALUES (?1, "
         "?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
         "version = excluded.version, pid = excluded.pid, ttl = excluded.ttl, resumes = "
         "excluded.resumes",
         json::array(
             {id, origin, t["state"], t["version"], t["pid"], t["ttl"], t["resumes"].dump()})});
  }
  if (after.tasks.size() < before.state.tasks.size()) {
    throw std::logic_error("a task was removed from origin " + origin);
  }
  write_task_timeouts(out, origin, before, after);
  return out;
}

SqlStep due_origins(std::int64_t now) {
  return {
      "SELECT origin FROM promises WHERE state = 'pending' AND has_target = 1 AND timeout_at "
      "<= ?1 UNION SELECT origin FROM task_timeouts WHERE at <= ?1",
      json::array({now})};
}

std::vector<std::string> parse_due_origins(const json& rows) {
  std::vector<std::string> out;
  if (!rows.is_array()) bad("the sweep's rows are not an array");
  for (const auto& row : rows) {
    if (!row.is_array() || row.empty() || !row[0].is_string()) bad("a sweep row is not an origin");
    out.push_back(row[0].get<std::string>());
  }
  std::sort(out.begin(), out.end());  // sorted here: ORDER BY would trade the indices for a merge
  return out;
}

}  // namespace seer::promises::concrete
