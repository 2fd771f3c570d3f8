#include "promises/concrete/sql_rows.hpp"

#include "promises/concrete/column_text.hpp"
#include "promises/concrete/schemas.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <stdexcept>

namespace seer::promises::concrete {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("stored origin: " + what);
}

// An optional column: NULL when absent.
template <class T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json();
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
               const std::string& origin, const std::string& awaited,
               const std::vector<std::string>& before, const std::vector<std::string>& after) {
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

// σ.TT as rows: `position` orders them. An entry that kept its place in the map (same position in
// `before` and `after`: upserted in place or unchanged) keeps its row, updated if it changed; from
// the first entry that did not (new, or erased and added again, which moves it to the end) on,
// every entry is written at the next positions, past every row of the origin. Rows of entries
// not loaded (a partial read) keep their positions, as the model keeps their places.
void write_task_timeouts(std::vector<SqlStep>& out, const std::string& origin,
                         const StoredOrigin& before, const State& after) {
  const TaskTimeouts& was = before.state.task_timeouts;
  const TaskTimeouts& now = after.task_timeouts;
  for (const auto& [id, t] : was.entries()) {
    if (now.find(id) == nullptr) {
      out.push_back({"DELETE FROM task_timeouts WHERE id = ?1", json::array({id})});
    }
  }
  std::int64_t position = before.next_timeout_position;
  bool appending = false;
  for (const auto& [id, t] : now.entries()) {
    const auto old_position = was.position(id);
    if (!appending && old_position && old_position == now.position(id)) {
      if (!(*was.find(id) == t)) {
        out.push_back({"UPDATE task_timeouts SET kind = ?2, at = ?3 WHERE id = ?1",
                       json::array({id, static_cast<int>(t.kind), t.at})});
      }
      continue;
    }
    appending = true;
    if (old_position) {
      out.push_back({"DELETE FROM task_timeouts WHERE id = ?1", json::array({id})});
    }
    out.push_back(
        {"INSERT INTO task_timeouts (id, origin, kind, at, position) VALUES (?1, ?2, ?3, "
         "?4, ?5)",
         json::array({id, origin, static_cast<int>(t.kind), t.at, position++})});
  }
}

// A JSON column's text as the model's value; json::exception if it is not one.
Value value_of(const json& column) {
  const json j = parsed_text(column);
  Value v;
  if (!j.is_object()) return v;  // as state_from_json reads a value that is not an object
  if (const auto it = j.find("headers"); it != j.end() && !it->is_null()) {
    v.headers = it->get<std::map<std::string, std::string>>();
  }
  if (const auto it = j.find("data"); it != j.end() && !it->is_null()) {
    v.data = it->get<std::string>();
  }
  return v;
}

template <class T>
std::optional<T> optional_of(const json& column) {
  if (column.is_null()) return std::nullopt;
  return column.get<T>();
}

TaskState task_state_of(const json& column) {
  const auto& name = column.get_ref<const std::string&>();
  for (const auto s : {TaskState::pending, TaskState::acquired, TaskState::suspended,
                       TaskState::halted, TaskState::fulfilled}) {
    if (state_name(s) == name) return s;
  }
  bad("unknown task state '" + name + "'");
}

OrderedSet<std::string> set_of(const std::vector<std::string>& items) {
  OrderedSet<std::string> out;
  for (const auto& item : items) out.add(item);
  return out;
}

// The rows of promises, callbacks, listeners, tasks and task timeouts (five results from `first`
// on, as read_origin orders them and split_tables gives read_rows' back) as a σ holding `unloaded`
// promises fewer than the origin; `out` gets the state and the next timeout position seen. Built
// straight from the rows (rendering them as state_to_json's document for state_from_json cost the
// simulated final-sql run a tenth of its instructions); json::exception for a column of the wrong
// type.
void parse_tables(const json& results, std::size_t first, std::int64_t unloaded,
                  StoredOrigin& out) {
  struct Sets {
    std::vector<std::string> callbacks, listeners;
  };
  std::map<std::string, Sets> sets;  // promise id -> its callbacks and listeners, in order
  for (const auto& row : rows_of(results, first + 1)) {
    sets[row.at(0).get<std::string>()].callbacks.push_back(row.at(1).get<std::string>());
  }
  for (const auto& row : rows_of(results, first + 2)) {
    sets[row.at(0).get<std::string>()].listeners.push_back(row.at(1).get<std::string>());
  }
  State& state = out.state;
  state = State{};
  for (const auto& row : rows_of(results, first)) {
    Promise p;
    p.id = row.at(0).get<std::string>();
    p.seq = row.at(1).get<std::int64_t>();
    // A whole σ's seqs must be 1, 2, ... (a partial one holds some of them, in order).
    if (unloaded == 0 && p.seq != static_cast<std::int64_t>(state.creation_order.size()) + 1) {
      bad("promise '" + p.id + "' is out of creation order");
    }
    const auto promise_state = promise_state_from_name(row.at(2).get_ref<const std::string&>());
    if (!promise_state) bad("unknown promise state in '" + p.id + "'");
    p.state = *promise_state;
    p.param = value_of(row.at(3));
    p.value = value_of(row.at(4));
    p.tags = parsed_text(row.at(5)).get<Tags>();
    p.timeout_at = row.at(6).get<std::int64_t>();
    p.created_at = row.at(7).get<std::int64_t>();
    p.settled_at = optional_of<std::int64_t>(row.at(8));
    if (const auto found = sets.find(p.id); found != sets.end()) {
      p.callbacks = set_of(found->second.callbacks);
      p.listeners = set_of(found->second.listeners);
      sets.erase(found);
    }
    state.creation_order.push_back(p.id);
    const auto id = p.id;
    if (!state.promises.emplace(id, std::move(p)).second) bad("duplicate promise");
  }
  if (!sets.empty()) bad("a callback or listener of a promise the origin does not hold");
  for (const auto& row : rows_of(results, first + 3)) {
    Task t;
    t.id = row.at(0).get<std::string>();
    t.state = task_state_of(row.at(1));
    t.version = row.at(2).get<std::int64_t>();
    t.pid = optional_of<std::string>(row.at(3));
    t.ttl = optional_of<std::int64_t>(row.at(4));
    t.resumes = set_of(parsed_text(row.at(5)).get<std::vector<std::string>>());
    const auto id = t.id;
    if (!state.tasks.emplace(id, std::move(t)).second) bad("duplicate task");
  }
  for (const auto& row : rows_of(results, first + 4)) {
    const auto kind = row.at(1).get<int>();
    if (kind != 0 && kind != 1) bad("unknown task timeout type");
    state.task_timeouts.upsert(row.at(0).get<std::string>(),
                               {static_cast<TimeoutKind>(kind), row.at(2).get<std::int64_t>()});
    out.next_timeout_position =
        std::max(out.next_timeout_position, row.at(3).get<std::int64_t>() + 1);
  }
  state.unloaded_promises = unloaded;
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

const std::string& schema_upgrades() {
  static const std::string upgrades =
      "CREATE INDEX IF NOT EXISTS callbacks_by_awaiter ON callbacks (awaiter); "
      "CREATE INDEX IF NOT EXISTS promises_due_by_origin ON promises (origin, timeout_at) "
      "WHERE state = 'pending' AND has_target = 1; "
      "CREATE INDEX IF NOT EXISTS task_timeouts_due_by_origin ON task_timeouts (origin, at); "
      "CREATE INDEX IF NOT EXISTS promises_by_branch ON promises (branch, origin) WHERE branch IS "
      "NOT NULL;";
  return upgrades;
}

const std::string& postgres_column_upgrades() {
  static const std::string upgrades =
      "ALTER TABLE promises ADD COLUMN IF NOT EXISTS branch TEXT GENERATED ALWAYS AS "
      "((tags::jsonb) ->> 'resonate:branch') STORED;";
  return upgrades;
}

const std::string& sqlite_branch_column() {
  // SQLite adds only a VIRTUAL generated column to an existing table (computed when read; the
  // index below stores it).
  static const std::string column =
      "ALTER TABLE promises ADD COLUMN branch TEXT GENERATED ALWAYS AS "
      "(json_extract(tags, '$.\"resonate:branch\"')) VIRTUAL;";
  return column;
}

const std::string& sqlite_has_branch_column() {
  static const std::string query =
      "SELECT count(*) FROM pragma_table_xinfo('promises') WHERE name = 'branch'";
  return query;
}

void use_server_settings(sqlite::Connection& db, const std::string& path) {
  // The page size must come before WAL mode, which writes a new file's first page; an existing
  // file ignores it.
  db.exec("PRAGMA page_size=" + std::to_string(kSqlitePageSize));
  const auto mode = db.query({"PRAGMA journal_mode=WAL"});
  if (mode.empty() || mode[0][0] != "wal") {
    throw std::runtime_error("sqlite: " + path + " cannot be put in WAL mode");
  }
  db.exec("PRAGMA synchronous=FULL");
  const auto page_size = db.query({"PRAGMA page_size"})[0][0].get<std::int64_t>();
  db.exec("PRAGMA wal_autocheckpoint=" + std::to_string(kSqliteCheckpointBytes / page_size));
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
    parse_tables(results, 1, 0, out);
  } catch (const json::exception& e) {
    bad(e.what());
  }
  return out;
}

namespace {

// Where a footprint's ids come from: `id`, an expression over the tables of `from` (a FROM list,
// possibly empty) under `where`. With `neighbours`, the promises linked to each id by a callback
// (either way) are in the footprint too.
struct IdSource {
  std::string from;
  std::string where;
  std::string id;
  bool neighbours = true;
};

// The five tables of a footprint read, in parse_tables' order, as branches of one statement whose
// rows are (the table's number, nine value columns). `slots` says which value column (1 to 9)
// each of the table's columns goes to; the value columns' types are those of promises' columns
// (text, bigint, text, text, text, text, bigint, bigint, bigint), and a table's column 2 (slot 2)
// then 1 is its order: promises by seq, callbacks and listeners by position (each awaited's in
// order), tasks by version then id, task timeouts by position. Each is a unique key, so that a row
// found twice (a named promise that is also another's neighbour) comes out twice in a row.
struct FootprintTable {
  const char* table;
  const char* key;
  std::vector<const char*> columns;
  std::vector<int> slots;
};

const std::array<FootprintTable, 5>& footprint_tables() {
  static const std::array<FootprintTable, 5> tables{{
      {"promises",
       "id",
       {"id", "seq", "state", "param", "value", "tags", "timeout_at", "created_at", "settled_at"},
       {1, 2, 3, 4, 5, 6, 7, 8, 9}},
      {"callbacks", "awaited", {"awaited", "awaiter", "position"}, {1, 3, 2}},
      {"listeners", "awaited", {"awaited", "address", "position"}, {1, 3, 2}},
      {"tasks", "id", {"id", "state", "version", "pid", "ttl", "resumes"}, {1, 3, 2, 4, 7, 5}},
      {"task_timeouts", "id", {"id", "kind", "at", "position"}, {1, 7, 8, 2}},
  }};
  return tables;
}
constexpr int kValueColumns = 9;

// The rows of every table for every id of `sources` in one statement: the ids (and their
// neighbours) once, as `n`, then one lookup by key per table. One statement instead of one per
// table halves what a read costs PostgreSQL (each statement is a portal and an executor start,
// and each found the neighbours again) and SQLite (BENCHMARKS.md, "One statement for the
// footprint"). No UNION (only UNION ALL) and no IN over a subquery: SQLite builds a temporary
// b-tree for each of those.
std::string footprint_rows(const std::vector<IdSource>& sources) {
  std::string ids;
  auto add = [&](const std::string& id, const std::string& from, const std::string& where) {
    ids += std::string(ids.empty() ? "" : " UNION ALL ") + "SELECT " + id + " AS id" +
           (from.empty() ? "" : " FROM " + from) + (where.empty() ? "" : " WHERE " + where);
  };
  for (const auto& s : sources) {
    add(s.id, s.from, s.where);
    if (!s.neighbours) continue;
    const std::string from = s.from + (s.from.empty() ? "" : ", ") + "callbacks AS c";
    const std::string also = s.where.empty() ? "" : " AND " + s.where;
    add("c.awaiter", from, "c.awaited = " + s.id + also);
    add("c.awaited", from, "c.awaiter = " + s.id + also);
  }
  std::string sql = "WITH n AS (" + ids + ")";
  const auto& tables = footprint_tables();
  for (std::size_t t = 0; t < tables.size(); ++t) {
    std::array<std::string, kValueColumns> values;
    values.fill("NULL");
    for (std::size_t c = 0; c < tables[t].columns.size(); ++c) {
      values[tables[t].slots[c] - 1] = std::string("x.") + tables[t].columns[c];
    }
    sql += std::string(t == 0 ? " " : " UNION ALL ") + "SELECT " + std::to_string(t);
    for (const auto& v : values) sql += ", " + v;
    // The table before `n`: a log's reader (explain's tables_named) sees it after FROM.
    sql +=
        std::string(" FROM ") + tables[t].table + " AS x, n WHERE x." + tables[t].key + " = n.id";
  }
  return sql + " ORDER BY 1, 3, 2";
}

// read_rows and read_due: the origin's revision and clock, its last seq and last task-timeout
// position, then the footprint's rows. The rows are found by their keys alone: a condition on
// `origin` would let SQLite's planner walk the origin's range of an `(origin, ...)` index instead,
// which is what this read avoids. (A callback links two promises of one origin, so the neighbours
// are of `origin` too.) `params` are those of the footprint statement (PostgreSQL must see each one
// used, so the origin's statement gets its own).
std::vector<SqlStep> read_footprint(const std::string& origin, const json& params,
                                    const std::string& footprint) {
  // One row, NULL where the origin has none (a statement more costs PostgreSQL a portal and an
  // executor start).
  return {
      {"SELECT (SELECT revision FROM origins WHERE origin = ?1), "
       "(SELECT clock FROM origins WHERE origin = ?1), "
       "(SELECT seq FROM promises WHERE origin = ?1 ORDER BY seq DESC LIMIT 1), "
       "(SELECT position FROM task_timeouts WHERE origin = ?1 ORDER BY position DESC LIMIT 1)",
       json::array({origin})},
      {footprint, params},
  };
}

std::string param(std::size_t i) {
  return "CAST(?" + std::to_string(i) + " AS TEXT)";
}

// The footprint statement of a read: `ids` ids named (parameters 1 to ids), then with `preload`
// the branch's promises (a branch parameter if `branch`, then the origin's).
std::string footprint_statement(std::size_t ids, bool preload, bool branch) {
  std::vector<IdSource> sources;
  for (std::size_t i = 1; i <= ids; ++i) sources.push_back({"", "", param(i)});
  if (!preload) return footprint_rows(sources);
  // The preload's branch: that of the promise named first (if it exists), and the one a
  // task.create gives its new promise, read without their neighbours (the step only views them).
  // By the `promises_by_branch` index, never the origin's range. Only the origin's: a branch value
  // may be carried by promises of other origins too (the spec requires origin(b) = origin(id) of
  // its members, but a client may tag anything), and σ is one origin's.
  const std::string in_origin = param(ids + (branch ? 2 : 1));
  sources.push_back(
      {"promises AS b1, promises AS b2",
       "b1.id = " + param(1) +
           " AND b1.branch <> '' AND b2.branch = b1.branch AND b2.origin = " + in_origin,
       "b2.id", false});
  if (branch) {
    sources.push_back(
        {"promises AS b2",
         "b2.branch = " + param(ids + 1) + " AND b2.branch <> '' AND b2.origin = " + in_origin,
         "b2.id", false});
  }
  return footprint_rows(sources);
}

}  // namespace

std::vector<SqlStep> read_rows(const std::string& origin, const Footprint& footprint) {
  json params = json::array();
  for (const auto& id : footprint.ids) params.push_back(id);
  const bool branch = footprint.preload && footprint.branch.has_value();
  if (branch) params.push_back(*footprint.branch);
  if (footprint.preload) params.push_back(origin);
  // The text depends only on the footprint's shape: built once per shape and thread (each of the
  // server's loops keeps its own), which saved 9 % of a request's instructions. Requests naming
  // many ids (a task.suspend's callbacks) are rare and each shape is a new text: not kept.
  const std::size_t ids = footprint.ids.size();
  if (ids > 4) {
    return read_footprint(origin, params, footprint_statement(ids, footprint.preload, branch));
  }
  thread_local std::map<std::size_t, std::string> built;
  const std::size_t shape = ids * 4 + (footprint.preload ? 2 : 0) + (branch ? 1 : 0);
  auto it = built.find(shape);
  if (it == built.end()) {
    it = built.emplace(shape, footprint_statement(ids, footprint.preload, branch)).first;
  }
  return read_footprint(origin, params, it->second);
}

std::vector<SqlStep> read_due(const std::string& origin, std::int64_t now) {
  // The sweep's time: `now`, or the origin's clock if that is later (the server ticks at the
  // later of the two, which must be the time the due rows were chosen at).
  static const std::string footprint = [] {
    const std::string at =
        "(SELECT CASE WHEN clock > ?2 THEN clock ELSE ?2 END FROM origins WHERE origin = ?1)";
    return footprint_rows(
        {{"promises AS d",
          "d.origin = ?1 AND d.state = 'pending' AND d.has_target = 1 AND d.timeout_at <= " + at,
          "d.id"},
         {"task_timeouts AS d", "d.origin = ?1 AND d.at <= " + at, "d.id"}});
  }();
  return read_footprint(origin, json::array({origin, now}), footprint);
}

namespace {

// The footprint statement's rows as the five tables' (each row in its table's column order),
// with each row found more than once kept once (the copies are next to each other).
json split_tables(const json& rows) {
  const auto& tables = footprint_tables();
  json out = json::array();
  for (std::size_t t = 0; t < tables.size(); ++t) out.push_back(json::array());
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != kValueColumns + 1) {
      bad("a footprint row of the wrong width");
    }
    if (!row.at(0).is_number_integer()) bad("a footprint row of no table");
    const auto t = row.at(0).get<std::int64_t>();
    if (t < 0 || t >= static_cast<std::int64_t>(tables.size())) bad("a footprint row of no table");
    const auto& table = tables[static_cast<std::size_t>(t)];
    json columns = json::array();
    for (const int slot : table.slots) columns.push_back(row[static_cast<std::size_t>(slot)]);
    auto& into = out[static_cast<std::size_t>(t)];
    if (into.empty() || into.back() != columns) into.push_back(std::move(columns));
  }
  return out;
}

}  // namespace

StoredOrigin parse_rows(const json& results) {
  StoredOrigin out;
  try {
    const auto& origin = rows_of(results, 0).at(0);
    if (!origin.at(0).is_null()) {
      out.revision = origin.at(0).get<std::int64_t>();
      out.clock = origin.at(1).get<std::int64_t>();
    }
    const std::int64_t promises = origin.at(2).is_null() ? 0 : origin.at(2).get<std::int64_t>();
    if (!origin.at(3).is_null()) out.next_timeout_position = origin.at(3).get<std::int64_t>() + 1;
    const json tables = split_tables(rows_of(results, 1));
    const auto loaded = static_cast<std::int64_t>(tables[0].size());
    if (loaded > promises) bad("more promises than the origin's last seq");
    parse_tables(tables, 0, promises - loaded, out);
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
  // The rows are written from the model's values (column_text.hpp): rendering both states as JSON
  // to compare them cost a seer-resonate request 11 % of its instructions.
  if (after.creation_order.size() < before.state.creation_order.size()) {
    throw std::logic_error("a promise was removed from origin " + origin);
  }
  static const std::vector<std::string> kNoSet;
  for (const auto& id : after.creation_order) {
    const Promise& p = after.promises.at(id);
    const auto it = before.state.promises.find(id);
    const Promise* old = it == before.state.promises.end() ? nullptr : &it->second;
    if (old == nullptr) {
      out.push_back(
          {"INSERT INTO promises (id, origin, seq, state, param, value, tags, "
           "timeout_at, created_at, settled_at, has_target) VALUES (?1, ?2, ?3, ?4, "
           "?5, ?6, ?7, ?8, ?9, ?10, ?11)",
           json::array({id, origin, p.seq, state_name(p.state), value_text(p.param),
                        value_text(p.value), object_text(p.tags), p.timeout_at, p.created_at,
                        optional_json(p.settled_at), has_target(p.tags) ? 1 : 0})});
    } else {
      const char* changed = old->seq != p.seq                 ? "seq"
                            : !(old->param == p.param)        ? "param"
                            : old->tags != p.tags             ? "tags"
                            : old->timeout_at != p.timeout_at ? "timeoutAt"
                            : old->created_at != p.created_at ? "createdAt"
                                                              : nullptr;
      if (changed) throw std::logic_error("promise " + id + " changed its " + changed);
      if (old->state != p.state || !(old->value == p.value) || old->settled_at != p.settled_at) {
        out.push_back({"UPDATE promises SET state = ?2, value = ?3, settled_at = ?4 WHERE id = ?1",
                       json::array({id, state_name(p.state), value_text(p.value),
                                    optional_json(p.settled_at)})});
      }
    }
    write_set(out, "callbacks", "awaiter", origin, id, old ? old->callbacks.items() : kNoSet,
              p.callbacks.items());
    write_set(out, "listeners", "address", origin, id, old ? old->listeners.items() : kNoSet,
              p.listeners.items());
  }
  for (const auto& [id, task] : after.tasks) {
    const auto old = before.state.tasks.find(id);
    if (old != before.state.tasks.end() && old->second == task) continue;
    out.push_back(
        {"INSERT INTO tasks (id, origin, state, version, pid, ttl, resumes) VALUES (?1, "
         "?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
         "version = excluded.version, pid = excluded.pid, ttl = excluded.ttl, resumes = "
         "excluded.resumes",
         json::array({id, origin, state_name(task.state), task.version, optional_json(task.pid),
                      optional_json(task.ttl), array_text(task.resumes.items())})});
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
