#include "accesses.hpp"

#include "entities.hpp"

#include <algorithm>
#include <cctype>

namespace seer::explain {

namespace {

std::int64_t int_or(const nlohmann::json& j, const char* field, std::int64_t fallback) {
  const auto it = j.find(field);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

bool bool_or(const nlohmann::json& j, const char* field, bool fallback) {
  const auto it = j.find(field);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Fills the service-specific fields from the facts of a simulated service (docs/services.md).
void read_service_facts(const nlohmann::json& f, Access& a) {
  a.facts = &f;
  a.service = f.value("name", std::string());
  a.op = f.value("op", std::string());
  const auto key = f.find("key");
  a.scope = key != f.end() && key->is_string() ? key->get<std::string>() : "*";
  // A queue's operations touch one message each: a receive and the ack of another message do not
  // conflict, so they are scoped by message id.
  const auto message = f.find("message_id");
  if (key == f.end() && message != f.end() && message->is_number_integer()) {
    a.scope = "message " + std::to_string(message->get<std::int64_t>());
  }
  a.stale = bool_or(f, trace::fact::kStale, false);
  if (f.contains("label")) {  // a SQL transaction: it saw and wrote the database at its commit
    a.op = f.value("label", std::string("txn"));
    const bool committed = bool_or(f, "committed", false);
    a.read = committed;
    a.write = committed && int_or(f, "rows_changed", 1) > 0;
    a.seen = a.written = int_or(f, "commit_index", -1);
    a.serial = static_cast<std::uint64_t>(int_or(f, "serial", 0));
    const auto statements = f.find("statements");
    if (statements != f.end() && statements->is_array()) {
      // Row-level tracking: what each statement read and wrote, not the whole database.
      bool reads = false;
      std::vector<std::string> did;
      for (const auto& st : *statements) {
        const auto& touched = st.value("writes", nlohmann::json::array());
        if (touched.empty()) {
          std::string tables;
          for (const auto& table : st.value("reads", nlohmann::json::array())) {
            if (table.is_string()) tables += (tables.empty() ? "" : ",") + table.get<std::string>();
          }
          if (!tables.empty()) did.push_back("SELECT " + tables);
        }
        for (const auto& w : touched) {
          if (!w.is_object() || did.size() >= 4) continue;
          auto verb = w.value("op", std::string("write"));
          std::transform(verb.begin(), verb.end(), verb.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
          did.push_back(verb + " " + w.value("table", std::string()) + "/" +
                        std::to_string(w.value("rowid", std::int64_t{0})));
        }
        const auto& writes = st.value("writes", nlohmann::json::array());
        for (const auto& table : st.value("reads", nlohmann::json::array())) {
          if (!table.is_string()) continue;
          const auto& name = table.get_ref<const std::string&>();
          if (std::find(a.tables_read.begin(), a.tables_read.end(), name) == a.tables_read.end()) {
            a.tables_read.push_back(name);
          }
          if (writes.empty()) reads = true;
        }
        for (const auto& w : writes) {
          if (!w.is_object()) continue;
          a.rows_written.push_back(w.value("table", std::string()) + "/" +
                                   std::to_string(w.value("rowid", std::int64_t{0})));
          if (w.value("op", std::string()) == "delete") a.removes = true;
        }
      }
      a.read = committed && reads;
      if (a.rows_written.size() == 1) a.scope = a.rows_written.front();
      for (const auto& d : did) a.sql += (a.sql.empty() ? "" : "; ") + d;
    }
    for (const auto& o : f.value("overtook", nlohmann::json::array())) {
      if (o.is_object()) a.overtook.push_back(o.value("serial", std::uint64_t{0}));
    }
    return;
  }
  if (f.contains("served_revision")) {
    a.read = true;
    a.seen = int_or(f, "served_revision", -1);
  }
  if (a.op == "list" || a.op == "get" || a.op == "receive") a.read = true;
  if (bool_or(f, "applied", false)) {
    a.write = true;
    a.written = int_or(f, "revision", int_or(f, "etag", -1));
    a.removes = a.op == "delete" || a.op == "remove";
  }
}

bool is_trivial(const nlohmann::json& v) {
  if (v.is_number_integer()) {
    const auto n = v.get<std::int64_t>();
    return n >= -1 && n <= 1;
  }
  if (v.is_string()) return v.get_ref<const std::string&>().size() < 2;
  return !v.is_number();
}

void atoms(const nlohmann::json& j, std::vector<const nlohmann::json*>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_array() || j.is_object()) {
    for (const auto& v : j) atoms(v, out, depth + 1);
  } else if (!is_trivial(j)) {
    out.push_back(&j);
  }
}

}  // namespace

std::uint64_t request_sent(const Trace& trace, const TraceIndex& index, const Access& a) {
  if (const auto request = request_of(trace, a.served)) {
    const auto send = index.send_of.find(trace.at(request).message);
    if (send != index.send_of.end()) return send->second;
  }
  return a.served;
}

std::map<int, ProcessClock> clocks_of(const Trace& trace) {
  std::map<int, ProcessClock> out;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kStart && e.kind != EventKind::kRestart) continue;
    const auto& f = e.oracle();
    if (!f.is_object()) continue;
    out[e.lane] = {f.value(trace::fact::kClockOffset, std::int64_t{0}),
                   f.value(trace::fact::kClockDrift, std::int64_t{0})};
  }
  return out;
}

bool scopes_overlap(const std::string& a, const std::string& b) {
  if (a == "*" || b == "*" || a == b) return true;
  // A listing's prefix covers the keys under it.
  return (a.size() < b.size() && b.compare(0, a.size(), a) == 0) ||
         (b.size() < a.size() && a.compare(0, b.size(), b) == 0);
}

bool changed_what_was_read(const Access& w, const Access& r) {
  if (!w.write || w.service != r.service) return false;
  if (!r.tables_read.empty()) {
    if (r.serial != 0) {  // SQL with the oracle's row-level tracking: its rows changed
      return std::find(w.overtook.begin(), w.overtook.end(), r.serial) != w.overtook.end();
    }
    return touches_what_was_read(w, r);  // from logs alone: a table it read was written
  }
  return scopes_overlap(w.scope, r.scope);
}

bool touches_what_was_read(const Access& w, const Access& r) {
  if (!w.write || w.service != r.service) return false;
  if (!r.tables_read.empty() && !w.rows_written.empty()) {
    for (const auto& row : w.rows_written) {
      const auto table = row.substr(0, row.find('/'));
      if (std::find(r.tables_read.begin(), r.tables_read.end(), table) != r.tables_read.end()) {
        return true;
      }
    }
    return false;
  }
  return scopes_overlap(w.scope, r.scope);
}

nlohmann::json read_value(const Trace& trace, const Access& a) {
  if (!trace.has(a.event)) return nullptr;
  const auto& payload = trace.at(a.event).line.value("payload", nlohmann::json());
  if (!payload.is_object()) return payload;
  nlohmann::json out = nlohmann::json::object();
  for (const char* field : {"value", "results", "body", "keys", "data", "rows", "items"}) {
    if (payload.contains(field)) out[field] = payload[field];
  }
  return out;
}

nlohmann::json written_value(const Trace& trace, const Access& a) {
  const auto request = request_of(trace, a.served);
  if (request == 0) return nullptr;
  auto payload = trace.at(request).line.value("payload", nlohmann::json());
  if (payload.is_object()) {
    for (const char* bookkeeping : {"req", "op", "expected", "read", "life"}) {
      payload.erase(bookkeeping);
    }
  }
  return payload;
}

bool flows_into(const nlohmann::json& from, const nlohmann::json& into) {
  std::vector<const nlohmann::json*> read, written;
  atoms(from, read);
  atoms(into, written);
  for (const auto* r : read) {
    for (const auto* w : written) {
      if (*r == *w) return true;
      // A value written as a part of a larger string ("price:45", "files/obj-3"), whole.
      if (r->is_string() && w->is_string() &&
          string_names(w->get_ref<const std::string&>(), r->get_ref<const std::string&>())) {
        return true;
      }
    }
  }
  return false;
}

std::uint64_t request_of(const Trace& trace, std::uint64_t reply_or_note) {
  const auto& e = trace.at(reply_or_note);
  const bool note = e.kind == EventKind::kAnnotation;
  const auto& id = note ? e.oracle() : e.line.value("payload", nlohmann::json());
  if (!id.is_object() || !id.contains("req")) return 0;
  for (auto s = reply_or_note; s-- > 1;) {
    const auto& prior = trace.at(s);
    if (prior.lane != e.lane || prior.kind != EventKind::kDeliver) continue;
    if (!note && prior.peer != e.peer) continue;
    const auto payload = prior.line.find("payload");
    if (payload == prior.line.end() || !payload->is_object()) continue;
    if (payload->value("req", nlohmann::json()) != id["req"]) continue;
    if (id.contains("label") && payload->value("label", nlohmann::json()) != id["label"]) continue;
    if (id.contains("key") && payload->value("key", nlohmann::json()) != id["key"]) continue;
    return s;
  }
  return 0;
}

TraceIndex index_trace(const Trace& trace) {
  TraceIndex x;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend) x.send_of.emplace(e.message, e.seq);
    if (e.kind == EventKind::kDeliver) x.deliver_of.emplace(e.message, e.seq);
    if (e.kind == EventKind::kDrop) x.drop_of.emplace(e.message, e.seq);
  }
  for (const auto& e : trace.events) {
    const auto& oracle = e.oracle();
    if (!oracle.is_object()) continue;
    Access a;
    a.event = e.seq;
    const auto service = oracle.find("service");
    if (e.kind == EventKind::kSend && service != oracle.end() && service->is_object() &&
        x.deliver_of.count(e.message) == 0 && x.drop_of.count(e.message) == 0) {
      // A reply still in flight when the run ended: its requester never got it.
      read_service_facts(*service, a);
      a.served = e.seq;
      a.server = e.lane;
      a.client = e.peer;
      a.delivered = false;
      a.lost_how = "never_delivered";
      x.accesses.push_back(a);
    } else if ((e.kind == EventKind::kDeliver || e.kind == EventKind::kDrop) && e.message != 0) {
      const auto send = x.send_of.find(e.message);
      if (send == x.send_of.end()) continue;
      a.served = send->second;
      a.server = trace.at(send->second).lane;
      a.client = e.kind == EventKind::kDeliver ? e.lane : e.peer;
      if (service != oracle.end() && service->is_object()) {
        read_service_facts(*service, a);
      } else if (oracle.contains(
                     trace::fact::kStale)) {  // a system's own replica reply (the register)
        a.facts = &oracle;
        a.service = trace.lane_name(a.server);
        a.op = e.type;
        a.scope.assign(1, '*');  // not = "*": GCC 12 -Wrestrict false positive (PR 105329)
        a.read = true;
        a.stale = trace::marked_stale(oracle);
      } else {
        continue;
      }
      if (e.kind == EventKind::kDrop) {
        a.delivered = false;
        a.lost_how = "network_drop";
      } else if (bool_or(oracle, "duplicate", false)) {
        continue;  // the second copy of a reply adds nothing the first did not
      }
      x.accesses.push_back(a);
    } else if (e.kind == EventKind::kAnnotation &&
               e.line.value("what", std::string()) == "lost_response") {
      read_service_facts(oracle, a);
      a.served = e.seq;
      a.server = e.lane;
      a.delivered = false;
      a.lost_how = "service";
      if (const auto request = request_of(trace, e.seq)) a.client = trace.at(request).peer;
      x.accesses.push_back(a);
    }
  }
  add_logged_accesses(trace, x);
  add_application_requests(trace, x);
  return x;
}

}  // namespace seer::explain
