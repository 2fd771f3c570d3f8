// Accesses from what logs hold: when a service's reply carries no oracle facts (a redacted trace,
// or a trace of a real deployment), its request and reply still say who asked what and what came
// back. Staleness, lost replies and what a crash took are then unknown; everything that follows
// from the messages themselves (versions, values, rows changed) is kept.
#include "accesses.hpp"
#include "sql_text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace seer::explain {

namespace {

bool service_reply(const std::string& type) {
  return type == "kv_reply" || type == "object_reply" || type == "sql_reply" ||
         type == "queue_reply";
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// A value in a statement: `?N` (the parameter's value), a quoted string or a number, as JSON text;
// empty when it is anything else (an expression, an unnumbered `?`).
std::string value_of(const std::string& text, const nlohmann::json& params) {
  const auto v = trimmed(text);
  if (v.size() >= 2 && v[0] == '?' &&
      std::all_of(v.begin() + 1, v.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
    const auto n = std::stoul(v.substr(1));
    return params.is_array() && n >= 1 && n <= params.size() ? params[n - 1].dump() : "";
  }
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'' && v.find('\'', 1) == v.size() - 1) {
    return nlohmann::json(v.substr(1, v.size() - 2)).dump();
  }
  if (!v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char ch) {
        return std::isdigit(ch) || ch == '-' || ch == '.';
      })) {
    return v;
  }
  return {};
}

bool plain_column(const std::string& c) {
  return !c.empty() && std::all_of(c.begin(), c.end(),
                                   [](unsigned char ch) { return std::isalnum(ch) || ch == '_'; });
}

// The columns a statement on one table pins to one value each: its WHERE clause's `col = value`
// terms when the clause is a conjunction (no OR, no parenthesis), less the columns an UPDATE
// sets; an INSERT's column list against its VALUES. Nothing for anything else.
std::map<std::string, std::string> pinned_columns(const std::string& sql,
                                                  const nlohmann::json& params) {
  std::map<std::string, std::string> out;
  const auto u = upper_ascii(sql);
  const auto verb = u.substr(0, u.find(' '));
  if (verb == "INSERT") {
    const auto open = sql.find('(');
    const auto close = sql.find(')', open == std::string::npos ? 0 : open);
    const auto values = u.find("VALUES", close == std::string::npos ? 0 : close);
    if (open == std::string::npos || close == std::string::npos || values == std::string::npos ||
        u.find("SELECT") != std::string::npos) {
      return out;
    }
    const auto vopen = sql.find('(', values);
    const auto vclose = sql.find(')', vopen == std::string::npos ? 0 : vopen);
    if (vopen == std::string::npos || vclose == std::string::npos) return out;
    auto split = [](const std::string& list) {
      std::vector<std::string> parts;
      std::string part;
      for (const char ch : list + ",") {
        if (ch == ',') {
          parts.push_back(trimmed(part));
          part.clear();
        } else {
          part += ch;
        }
      }
      return parts;
    };
    const auto columns = split(sql.substr(open + 1, close - open - 1));
    const auto vals = split(sql.substr(vopen + 1, vclose - vopen - 1));
    if (columns.size() != vals.size()) return out;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto v = value_of(vals[i], params);
      if (plain_column(columns[i]) && !v.empty()) out[columns[i]] = v;
    }
    return out;
  }
  const auto where = u.find(" WHERE ");
  if (where == std::string::npos) return out;
  auto end = u.size();
  for (const char* stop : {" ORDER BY", " LIMIT", " GROUP BY", " RETURNING", " ON CONFLICT"}) {
    end = std::min(end, u.find(stop, where));
  }
  const auto clause = u.substr(where + 7, end - where - 7);
  if (clause.find(" OR ") != std::string::npos || clause.find('(') != std::string::npos) {
    return out;
  }
  const auto original = sql.substr(where + 7, end - where - 7);
  for (std::size_t at = 0; at <= clause.size();) {
    auto next = clause.find(" AND ", at);
    if (next == std::string::npos) next = clause.size();
    const auto term = original.substr(at, next - at);
    const auto eq = term.find('=');
    if (eq != std::string::npos && eq > 0 && term.find_first_of("<>!", eq - 1) > eq) {
      const auto column = trimmed(term.substr(0, eq));
      const auto v = value_of(term.substr(eq + 1), params);
      if (plain_column(column) && !v.empty()) out[column] = v;
    }
    at = next + 5;
  }
  if (verb == "UPDATE") {
    const auto set = u.find(" SET ");
    if (set == std::string::npos || set > where) return {};
    const auto sets = sql.substr(set + 5, where - set - 5);
    for (auto it = out.begin(); it != out.end();) {
      it = sets.find(it->first) != std::string::npos ? out.erase(it) : std::next(it);
    }
  }
  return out;
}

void fill_from_messages(const nlohmann::json& request, const nlohmann::json& reply,
                        const std::string& type, Access& a) {
  a.op = request.value("op", std::string());
  const auto key = request.find("key");
  a.scope = key != request.end() && key->is_string() ? key->get<std::string>() : "*";
  if (type == "kv_reply") {
    const bool ok = reply.value("status", std::string()) == "ok";
    a.read = a.op == "get" || a.op == "list";
    a.write = ok && !a.read;
    a.removes = a.write && a.op == "delete";
    (a.read ? a.seen : a.written) = reply.value("revision", std::int64_t{-1});
  } else if (type == "object_reply") {
    const bool ok = reply.value("status", std::string()) == "ok";
    a.read = a.op == "get" || a.op == "list";
    a.write = ok && !a.read;
    a.removes = a.write && a.op == "delete";
    if (a.write) a.written = reply.value("etag", std::int64_t{-1});
  } else if (type == "queue_reply") {
    a.read = a.op == "receive";
    a.write = a.op != "receive";
    if (reply.contains("message_id") && reply["message_id"].is_number_integer()) {
      a.scope = "message " + std::to_string(reply["message_id"].get<std::int64_t>());
    } else if (request.contains("message_id") && request["message_id"].is_number_integer()) {
      a.scope = "message " + std::to_string(request["message_id"].get<std::int64_t>());
    } else if (a.op == "enqueue") {
      // Unanswered: the message it added is a new one, whatever its number; it changes no
      // message already handed out.
      a.scope = "message ?";
    }
  } else {  // sql_reply: its label, the tables its statements name, the rows each changed
    a.op = request.value("label", std::string("txn"));
    const bool committed = reply.value("committed", false);
    const auto changes = reply.value("changes", nlohmann::json::array());
    const auto statements = request.value("statements", nlohmann::json::array());
    for (std::size_t i = 0; i < statements.size(); ++i) {
      const auto sql = statements[i].value("sql", std::string());
      const auto tables = tables_named(sql);
      const bool changed = i < changes.size() && changes[i].is_number_integer() &&
                           changes[i].get<std::int64_t>() > 0;
      const auto verb = sql_verb(sql);
      const auto pinned = tables.size() == 1
                              ? pinned_columns(sql, statements[i].value("params", nlohmann::json()))
                              : std::map<std::string, std::string>();
      for (const auto& table : tables) {
        a.sql_rows.push_back({table, changed && verb != "SELECT", pinned});
        if (changed && verb != "SELECT") {
          a.rows_written.push_back(table + "/?");
          if (verb == "DELETE") a.removes = true;
        } else if (std::find(a.tables_read.begin(), a.tables_read.end(), table) ==
                   a.tables_read.end()) {
          a.tables_read.push_back(table);
        }
      }
      a.sql += (a.sql.empty() ? "" : "; ") + verb + " " +
               (tables.empty() ? std::string("?") : tables.front());
    }
    a.read = committed && !a.tables_read.empty();
    a.write = committed && !a.rows_written.empty();
  }
}

// Where an application request took effect: the server wrote to a service while handling it. A
// server handling several requests at once writes for each between their deliveries and replies:
// the write that carries something of this request (its order, its key) is its effect, else the
// first. A server that accepts first and works after (an acknowledgement, then the job) writes
// after its reply: then the first later write that carries the request's data, before the server
// is asked the same kind of thing again.
std::uint64_t effect_of(const Trace& trace, const TraceIndex& index, std::uint64_t request,
                        std::uint64_t reply, const nlohmann::json& asked) {
  const int server = trace.at(request).lane;
  std::uint64_t first = 0;
  for (const auto& w : index.accesses) {
    if (w.client != server || !w.write || w.served <= request || w.served >= reply) continue;
    if (flows_into(asked, written_value(trace, w))) return w.served;
    if (first == 0) first = w.served;
  }
  if (first != 0) return first;
  const auto& type = trace.at(request).type;
  std::uint64_t next_request = UINT64_MAX;
  for (auto s = reply + 1; trace.has(s); ++s) {
    const auto& e = trace.at(s);
    if (e.lane == server && e.kind == EventKind::kDeliver && e.type == type) {
      next_request = s;
      break;
    }
  }
  // Its request number is bookkeeping: a later write carrying the same number is no evidence.
  auto data = asked;
  if (data.is_object()) data.erase("req");
  for (const auto& w : index.accesses) {
    if (w.client != server || !w.write || w.served <= reply || w.served >= next_request) continue;
    if (flows_into(data, written_value(trace, w))) return w.served;
  }
  return 0;
}

// A key-value read the service answered with a revision older than a write of that key it had
// already acknowledged: stale, as the service's own log shows (its replies are in its program
// order), whichever of its replicas served the read. The latest write before the answer decides:
// after an acknowledged delete, an older revision (or none) is no news.
void mark_logged_stale_reads(const Trace& trace, std::vector<Access>& accesses,
                             std::size_t first_logged) {
  std::map<std::pair<int, std::string>, const Access*> latest;  // acknowledged writes so far
  std::vector<Access*> answers;  // the store's answers to writes and gets, in its order
  for (std::size_t i = first_logged; i < accesses.size(); ++i) {
    auto& a = accesses[i];
    if (trace.at(a.served).type != "kv_reply") continue;
    if (a.write || (a.read && a.op == "get" && a.seen >= 0)) answers.push_back(&a);
  }
  std::stable_sort(answers.begin(), answers.end(),
                   [](const Access* x, const Access* y) { return x->served < y->served; });
  for (auto* a : answers) {
    if (a->write) {
      latest[{a->server, a->scope}] = a;
      continue;
    }
    const auto w = latest.find({a->server, a->scope});
    if (w == latest.end() || w->second->removes) continue;
    if (w->second->written > a->seen) a->stale = true;
  }
}

}  // namespace

void add_logged_accesses(const Trace& trace, TraceIndex& index) {
  const auto first_logged = index.accesses.size();
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || !service_reply(e.type) || e.lane == kSimLane) continue;
    if (e.oracle().is_object() && e.oracle().contains("service"))
      continue;  // the oracle's is better
    const auto request = request_of(trace, e.seq);
    if (request == 0) continue;
    const auto deliver = index.deliver_of.find(e.message);
    if (deliver != index.deliver_of.end() && trace.at(deliver->second).oracle().is_object() &&
        trace.at(deliver->second).oracle().contains("service")) {
      continue;
    }
    Access a;
    a.served = e.seq;
    a.server = e.lane;
    a.client = e.peer;
    a.service = trace.lane_name(e.lane);
    a.delivered = deliver != index.deliver_of.end();
    a.event = a.delivered ? deliver->second : e.seq;
    if (!a.delivered) a.lost_how = "never_delivered";
    fill_from_messages(trace.at(request).line.value("payload", nlohmann::json::object()),
                       e.line.value("payload", nlohmann::json::object()), e.type, a);
    index.accesses.push_back(std::move(a));
  }
  mark_logged_stale_reads(trace, index.accesses, first_logged);
  // A request the service received and never answered (its reply lost, or the run ended) may
  // still have taken effect: a write of unknown outcome, where the service received it.
  if (!trace.header.value("redacted", false)) {
    std::stable_sort(index.accesses.begin(), index.accesses.end(),
                     [](const Access& x, const Access& y) { return x.event < y.event; });
    return;
  }
  std::set<std::uint64_t> answered;
  for (const auto& a : index.accesses) {
    if (const auto request = request_of(trace, a.served)) answered.insert(request);
  }
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kDeliver || e.lane == kSimLane || answered.count(e.seq)) continue;
    std::string type = e.type;
    const auto suffix = type.rfind("_request");
    if (suffix == std::string::npos || !service_reply(type.substr(0, suffix) + "_reply")) continue;
    Access a;
    a.served = a.event = e.seq;
    a.server = e.lane;
    a.client = e.peer;
    a.service = trace.lane_name(e.lane);
    a.delivered = false;
    a.lost_how = "unanswered";
    nlohmann::json assumed = {{"status", "ok"}, {"committed", true}};
    fill_from_messages(e.line.value("payload", nlohmann::json::object()), assumed,
                       type.substr(0, suffix) + "_reply", a);
    {
      // Unknown outcome: it may have written (SQL: every statement that is not a SELECT).
      if (type == "sql_request") {
        a.tables_read.clear();
        a.sql_rows.clear();  // which statements changed rows is unknown
        const auto statements = e.line["payload"].value("statements", nlohmann::json::array());
        for (const auto& st : statements) {
          const auto sql = st.value("sql", std::string());
          if (sql_verb(sql) == "SELECT") continue;
          for (const auto& table : tables_named(sql)) a.rows_written.push_back(table + "/?");
        }
        a.write = !a.rows_written.empty();
      }
    }
    if (a.write) index.accesses.push_back(std::move(a));
  }
  std::stable_sort(index.accesses.begin(), index.accesses.end(),
                   [](const Access& x, const Access& y) { return x.event < y.event; });
}

void add_application_requests(const Trace& trace, TraceIndex& index) {
  // The simulated services' lanes: their replies are accesses already.
  std::set<int> services;
  for (const auto& a : index.accesses) services.insert(a.server);
  std::vector<Access> found;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.lane == kSimLane || services.count(e.lane)) continue;
    if (service_reply(e.type)) continue;
    const auto& payload = e.line.value("payload", nlohmann::json());
    if (!payload.is_object() || !payload.contains("req")) continue;
    const auto request = request_of(trace, e.seq);
    if (request == 0) continue;
    Access a;
    a.application = true;
    a.served = e.seq;
    a.server = e.lane;
    a.client = e.peer;
    a.service = trace.lane_name(e.lane);
    const auto& asked = trace.at(request).line.value("payload", nlohmann::json::object());
    a.op = asked.value("op", trace.at(request).type);
    const auto key = asked.find("key");
    a.scope = key != asked.end() && key->is_string() ? key->get<std::string>() : "*";
    a.effect = effect_of(trace, index, request, e.seq, asked);
    a.write = a.effect != 0;
    const auto deliver = index.deliver_of.find(e.message);
    const auto drop = index.drop_of.find(e.message);
    if (deliver != index.deliver_of.end()) {
      a.event = deliver->second;
    } else if (drop != index.drop_of.end()) {
      a.event = drop->second;
      a.delivered = false;
      a.lost_how = drop_how(trace.at(drop->second));
    } else {
      a.event = e.seq;
      a.delivered = false;
      a.lost_how = "never_delivered";
    }
    found.push_back(std::move(a));
  }
  index.accesses.insert(index.accesses.end(), std::make_move_iterator(found.begin()),
                        std::make_move_iterator(found.end()));
  std::stable_sort(index.accesses.begin(), index.accesses.end(),
                   [](const Access& x, const Access& y) { return x.event < y.event; });
}

}  // namespace seer::explain
