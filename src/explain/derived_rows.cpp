#include "derived_rows.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// The rows statement `i` of the read returned, from its reply.
nlohmann::json rows_returned(const Trace& t, const Access& r, std::size_t i) {
  if (!t.has(r.event)) return nullptr;
  const auto& payload = t.at(r.event).line.value("payload", nlohmann::json());
  const auto results = payload.is_object() ? payload.find("results") : payload.end();
  if (!payload.is_object() || results == payload.end() || !results->is_array() ||
      i >= results->size() || !(*results)[i].is_array()) {
    return nullptr;
  }
  return (*results)[i];
}

// How many of `rows` the copy carries a value from.
std::size_t rows_carried(const nlohmann::json& rows, const nlohmann::json& carried) {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(),
                    [&](const nlohmann::json& row) { return flows_into(row, carried); }));
}

// Whether one of the statements `carried` holds takes `value` as a parameter.
bool passes_parameter(const nlohmann::json& carried, const nlohmann::json& value) {
  if (!carried.is_object()) return false;
  const auto statements = carried.find("statements");
  if (statements == carried.end() || !statements->is_array()) return false;
  return std::any_of(statements->begin(), statements->end(), [&](const nlohmann::json& st) {
    const auto params = st.is_object() ? st.find("params") : st.end();
    return st.is_object() && params != st.end() && params->is_array() &&
           std::find(params->begin(), params->end(), value) != params->end();
  });
}

// An answer of one value (a count, a sum, an existence flag) that the copy's statements take as a
// parameter. Values like 0 and 1 carry no name, so flows_into ignores them; as a parameter of the
// write, the whole answer is what is copied (a recount written back).
bool copies_single_value(const nlohmann::json& rows, const nlohmann::json& carried) {
  if (!rows.is_array() || rows.size() != 1 || !rows[0].is_array() || rows[0].size() != 1) {
    return false;
  }
  const auto& value = rows[0][0];
  return (value.is_number() || value.is_boolean()) && passes_parameter(carried, value);
}

// A copy of the whole answer: it carries something of every row, and there were several, or the
// answer is one value it takes as a parameter. A change of the answer's membership (or of its
// value) changes such a copy (a listing copied into an index, a count written back).
bool copies_whole_answer(const nlohmann::json& rows, const nlohmann::json& carried) {
  return (rows.size() >= 2 && rows_carried(rows, carried) == rows.size()) ||
         copies_single_value(rows, carried);
}

// With the oracle's record of the read's answer after the write: a row the copy carries from is
// no longer in it (changed, deleted, or pushed out of a LIMIT), or a copy of the whole answer no
// longer matches it.
bool carried_row_changed(const nlohmann::json& before, const nlohmann::json& after,
                         const nlohmann::json& carried) {
  if (!before.is_array() || !after.is_array()) return true;  // unknown: as the oracle said
  if (copies_whole_answer(before, carried)) return before != after;
  return std::any_of(before.begin(), before.end(), [&](const nlohmann::json& row) {
    return flows_into(row, carried) && std::find(after.begin(), after.end(), row) == after.end();
  });
}

// Whether the statements of `x` that write the tables `r` read only insert: they add rows and
// change none (an upsert or a replace can change one, so it does not count).
bool only_inserts_into(const Trace& t, const Access& x, const Access& r) {
  bool any = false;
  std::size_t start = 0;
  while (start < x.sql.size()) {
    auto end = x.sql.find("; ", start);
    if (end == std::string::npos) end = x.sql.size();
    const auto part = x.sql.substr(start, end - start);
    start = end + 2;
    const auto space = part.find(' ');
    if (space == std::string::npos) continue;
    const auto table = part.substr(space + 1, part.find('/', space + 1) - space - 1);
    if (std::find(r.tables_read.begin(), r.tables_read.end(), table) == r.tables_read.end()) {
      continue;
    }
    if (upper_ascii(part.substr(0, space)) != "INSERT") return false;
    any = true;
  }
  if (!any) return false;
  const auto request = request_of(t, x.served);
  if (request == 0) return false;
  const auto text = upper_ascii(t.at(request).line.value("payload", nlohmann::json()).dump());
  return text.find("REPLACE") == std::string::npos && text.find("ON CONFLICT") == std::string::npos;
}

// Whether a row added to the tables a read statement read can change the rows it returned: an
// aggregate (a count, a sum, a group) or a test of existence answers for rows it does not return,
// and an answer that filled its LIMIT can lose a row to a new one ordered before it.
bool insert_can_change(const nlohmann::json& statement, std::size_t rows) {
  std::string sql;
  for (const char ch : upper_ascii(statement.value("sql", std::string()))) {
    if (ch != ' ' || (!sql.empty() && sql.back() != ' ')) sql += ch;
  }
  for (const char* aggregate : {"COUNT", "SUM", "AVG", "MIN", "MAX", "TOTAL", "GROUP_CONCAT"}) {
    const auto at = sql.find(aggregate);
    if (at == std::string::npos) continue;
    const auto open = sql.find_first_not_of(' ', at + std::string(aggregate).size());
    if (open != std::string::npos && sql[open] == '(') return true;
  }
  if (sql.find("GROUP BY") != std::string::npos || sql.find("EXISTS") != std::string::npos) {
    return true;
  }
  const auto limit = sql.find("LIMIT ");
  if (limit == std::string::npos) return false;
  const auto value = sql.substr(limit + 6, sql.find_first_of(" ,;)", limit + 6) - limit - 6);
  std::int64_t n = -1;
  if (!value.empty() && std::all_of(value.begin(), value.end(), ::isdigit)) {
    n = std::stoll(value);
  } else if (value.size() > 1 && value[0] == '?' &&
             std::all_of(value.begin() + 1, value.end(), ::isdigit)) {
    const auto params = statement.value("params", nlohmann::json::array());
    const auto k = std::stoul(value.substr(1));
    if (k >= 1 && k <= params.size() && params[k - 1].is_number_integer()) {
      n = params[k - 1].get<std::int64_t>();
    }
  }
  return n < 0 || static_cast<std::int64_t>(rows) >= n;  // a LIMIT it cannot read: it may
}

// The statements of the request a read answered; null when the request is not in the trace.
nlohmann::json statements_read(const Trace& t, const Access& r) {
  const auto request = request_of(t, r.served);
  if (request == 0) return nlohmann::json();
  return t.at(request)
      .line.value("payload", nlohmann::json())
      .value("statements", nlohmann::json());
}

// From logs alone: an insert-only write changes a carried row only where insert_can_change says
// so, or where the copy is of the whole answer.
bool insert_changes_copy(const Trace& t, const Access& r, const nlohmann::json& carried) {
  const auto statements = statements_read(t, r);
  if (!statements.is_array()) return true;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const auto rows = rows_returned(t, r, i);
    if (!rows.is_array() ||
        (rows_carried(rows, carried) == 0 && !copies_single_value(rows, carried))) {
      continue;
    }
    if (copies_whole_answer(rows, carried) || insert_can_change(statements[i], rows.size())) {
      return true;
    }
  }
  return false;
}

// With the oracle's record: a row of the answer changed or left it, the answer was empty, or a
// row that joined it carries a value the decision writes.
bool decided_row_changed(const nlohmann::json& before, const nlohmann::json& after,
                         const nlohmann::json& decided) {
  if (!before.is_array() || !after.is_array() || before.empty()) return true;
  for (const auto& row : before) {
    if (std::find(after.begin(), after.end(), row) == after.end()) return true;
  }
  return std::any_of(after.begin(), after.end(), [&](const nlohmann::json& row) {
    return std::find(before.begin(), before.end(), row) == before.end() && flows_into(row, decided);
  });
}

// From logs alone: whether an insert-only write can have changed the answer as it matters to a
// decision: an aggregate, a full LIMIT or an empty answer may change; else only a phantom that
// carries a value the decision writes.
bool insert_changes_decision(const Trace& t, const Access& x, const Access& r,
                             const nlohmann::json& decided) {
  const auto statements = statements_read(t, r);
  if (!statements.is_array()) return true;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const auto rows = rows_returned(t, r, i);
    if (!rows.is_array() || rows.empty()) return true;
    if (insert_can_change(statements[i], rows.size())) return true;
  }
  return flows_into(written_value(t, x), decided);
}

}  // namespace

bool copies_answer_value(const Trace& t, const Access& r, const nlohmann::json& carried) {
  const auto statements = statements_read(t, r);
  if (!statements.is_array()) return false;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    if (!copies_single_value(rows_returned(t, r, i), carried)) continue;
    // The same entity: what the read asked about (its parameters with a name) the write names too;
    // a read that names nothing (a count of a whole table) is taken as it is.
    const auto asked = statements[i].is_object()
                           ? statements[i].value("params", nlohmann::json::array())
                           : nlohmann::json::array();
    nlohmann::json named = nlohmann::json::array();
    for (const auto& p : asked) {
      if (p.is_string() && p.get_ref<const std::string&>().size() >= 2) named.push_back(p);
    }
    if (named.empty() || flows_into(named, carried)) return true;
  }
  return false;
}

bool changes_what_decided(const Trace& t, const Access& x, const Access& r, const Access& w) {
  if (r.tables_read.empty()) return true;
  const auto decided = written_value(t, w);
  if (r.serial == 0)
    return !only_inserts_into(t, x, r) || insert_changes_decision(t, x, r, decided);
  if (!x.facts) return true;
  bool found = false;
  for (const auto& o : x.facts->value("overtook", nlohmann::json::array())) {
    if (!o.is_object() || o.value("serial", std::uint64_t{0}) != r.serial) continue;
    found = true;
    const auto before = rows_returned(t, r, o.value("statement", std::size_t{0}));
    if (decided_row_changed(before.is_null() ? o.value("before", nlohmann::json()) : before,
                            o.value("after", nlohmann::json()), decided)) {
      return true;
    }
  }
  return !found;
}

bool changes_carried_rows(const Trace& t, const Access& x, const Access& r,
                          const nlohmann::json& carried) {
  if (r.tables_read.empty()) return true;  // not SQL: the scope was written
  if (r.serial == 0) return !only_inserts_into(t, x, r) || insert_changes_copy(t, r, carried);
  if (!x.facts) return true;
  bool found = false;
  for (const auto& o : x.facts->value("overtook", nlohmann::json::array())) {
    if (!o.is_object() || o.value("serial", std::uint64_t{0}) != r.serial) continue;
    found = true;
    // What the reader saw is the reply's answer; the oracle's "before" is the answer as the
    // previous write that changed it left it.
    const auto i = o.value("statement", std::size_t{0});
    const auto before = rows_returned(t, r, i);
    if (carried_row_changed(before.is_null() ? o.value("before", nlohmann::json()) : before,
                            o.value("after", nlohmann::json()), carried)) {
      return true;
    }
  }
  return !found;
}

}  // namespace seer::explain
