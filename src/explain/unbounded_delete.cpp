// A SQL delete wider than the read it was decided on (racing_delete, `how: wider_than_read`): the
// deleter read a table, then deleted from it with a statement that names no row (`DELETE FROM t`,
// or a WHERE that does not bound it to what was read), and the delete removed more rows than the
// read returned. Another process's insert into the table that took effect after the read was
// served and before the delete is a row the delete removed without its deleter ever seeing it.
// Relies on the request's SQL text and the replies' row counts (`changes`, `results`), which a
// log holds too; the rows the delete removed are not needed (a bulk delete names none).
#include "causes.hpp"
#include "entities.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// The table a `DELETE FROM t ...` statement deletes from, and the statement's index; empty if the
// request holds no delete.
struct DeleteStatement {
  std::string table;
  std::size_t index = 0;
};

std::optional<DeleteStatement> delete_statement(const TraceEvent& request) {
  const auto payload = request.line.find("payload");
  if (payload == request.line.end() || !payload->is_object()) return std::nullopt;
  const auto statements = payload->value("statements", nlohmann::json::array());
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const auto& st = statements[i];
    if (!st.is_object() || !st.contains("sql") || !st["sql"].is_string()) continue;
    const auto sql = upper_ascii(st["sql"].get<std::string>());
    const auto from = sql.find_first_not_of(" \t\n");
    if (from == std::string::npos || sql.compare(from, 11, "DELETE FROM") != 0) continue;
    const auto start = sql.find_first_not_of(" \t\n", from + 11);
    if (start == std::string::npos) continue;
    auto end = start;
    while (end < sql.size() &&
           (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) {
      ++end;
    }
    // The table as the request spells it (the oracle and the logs name it so).
    const auto original = st["sql"].get<std::string>();
    return DeleteStatement{original.substr(start, end - start), i};
  }
  return std::nullopt;
}

// The rows statement `index` changed, from the reply's `changes`; -1 if it does not say.
std::int64_t delete_rows_changed(const TraceEvent& reply, std::size_t index) {
  const auto payload = reply.line.value("payload", nlohmann::json());
  const auto changes = payload.value("changes", nlohmann::json());
  if (!changes.is_array() || index >= changes.size() || !changes[index].is_number_integer()) {
    return -1;
  }
  return changes[index].get<std::int64_t>();
}

// The rows a read's reply returned, over all its statements.
std::int64_t read_rows_returned(const TraceEvent& reply) {
  const auto payload = reply.line.value("payload", nlohmann::json());
  const auto results = payload.value("results", nlohmann::json());
  if (!results.is_array()) return -1;
  std::int64_t n = 0;
  for (const auto& r : results) {
    if (r.is_array()) n += static_cast<std::int64_t>(r.size());
  }
  return n;
}

bool writes_table(const Access& a, const std::string& table) {
  return std::any_of(a.rows_written.begin(), a.rows_written.end(), [&](const std::string& row) {
    return row.size() > table.size() && row.compare(0, table.size(), table) == 0 &&
           row[table.size()] == '/';
  });
}

// Whether the trace names the rows the delete removed: a row id, not "table/?" (a log's).
bool names_removed_rows(const Access& d) {
  return std::any_of(d.rows_written.begin(), d.rows_written.end(),
                     [](const std::string& row) { return !row.ends_with("/?"); });
}

}  // namespace

std::vector<Cause> detect_unbounded_deletes(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto named = violated_names(c);
  for (const auto& d : c.index.accesses) {
    if (!d.write || d.served > c.horizon || d.service.empty()) continue;
    if (names_removed_rows(d)) continue;  // the racing-delete rule follows the rows it names
    const auto sent = request_sent(t, c.index, d);
    if (!t.has(sent) || !t.has(d.served)) continue;
    const auto statement = delete_statement(t.at(sent));
    if (!statement) continue;
    const auto deleted = delete_rows_changed(t.at(d.served), statement->index);
    if (deleted <= 0) continue;
    // The deleter's latest read of the table before it sent the delete, among its last few reads
    // of that service, in the life that sent it.
    const Access* read = nullptr;
    std::size_t looked = 0;
    const auto& all = c.index.accesses;
    for (auto it = all.rbegin(); it != all.rend() && looked < 4 && !read; ++it) {
      if (it->client != d.client || !it->read || !it->delivered || it->event >= sent ||
          it->service != d.service) {
        continue;
      }
      if (crashed_between(c.index, d.client, it->event, sent)) break;
      ++looked;
      const auto& tables = it->tables_read;
      if (std::find(tables.begin(), tables.end(), statement->table) != tables.end()) read = &*it;
    }
    if (!read || !t.has(read->event)) continue;
    const auto returned = read_rows_returned(t.at(read->event));
    if (returned < 0 || deleted <= returned) continue;  // no row it had not seen
    // Another process's insert into the table between the read and the delete: one naming a
    // violated entity first, else the first.
    const Access* racing = nullptr;
    for (const auto& x : c.index.accesses) {
      if (x.client == d.client || !x.write || x.removes || x.service != d.service) continue;
      if (x.served <= read->served || x.served >= d.served) continue;
      if (!writes_table(x, statement->table) || c.graph.happens_before(x.served, read->event)) {
        continue;
      }
      const auto carried = written_value(t, x);
      const bool names_violated = std::any_of(
          named.begin(), named.end(), [&](const std::string& n) { return data_names(carried, n); });
      if (names_violated) {
        racing = &x;
        break;
      }
      if (!racing) racing = &x;
    }
    if (!racing) continue;
    Cause cause;
    cause.kind = "racing_delete";
    cause.process = t.lane_name(d.client);
    cause.events = {read->event, d.served, racing->served};
    cause.facts = {{"how", "wider_than_read"},
                   {"table", statement->table},
                   {"rows_read", returned},
                   {"rows_deleted", deleted},
                   {"read_event", read->event},
                   {"delete_event", d.served},
                   {"concurrent_write_event", racing->served},
                   {"decision_event", d.served}};
    cause.summary = fmt::format(
        "{} deleted from {} at #{} ({}) with a statement that names no row, {} rows where its read "
        "at #{} had returned {}: {}'s {} into {} took effect at #{} ({}), after that read and "
        "before the delete, which removed it unseen: a delete wider than the read it was decided "
        "on",
        cause.process, statement->table, d.served, format_time(t.at(d.served).time), deleted,
        read->event, returned, t.lane_name(racing->client), access_named(t, *racing),
        statement->table, racing->served, format_time(t.at(racing->served).time));
    out.push_back(std::move(cause));
  }
  return out;
}

}  // namespace seer::explain
