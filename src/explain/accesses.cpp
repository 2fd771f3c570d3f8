#include "accesses.hpp"

#include "entities.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>

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

// What one SQL statement did, as the short text of a cause ("SELECT orders", "UPDATE stock/3").
void describe_statement(const nlohmann::json& st, std::vector<std::string>& did) {
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
    const auto verb = upper_ascii(w.value("op", std::string("write")));
    did.push_back(verb + " " + w.value("table", std::string()) + "/" +
                  std::to_string(w.value("rowid", std::int64_t{0})));
  }
}

// Row-level tracking: what each statement read and wrote, not the whole database. A transaction
// reads only if one of its statements reads without writing (a guarded UPDATE's read is its own).
void read_sql_statements(const nlohmann::json& statements, bool committed, Access& a) {
  bool reads = false;
  std::vector<std::string> did;
  for (const auto& st : statements) {
    describe_statement(st, did);
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

// A SQL transaction: it saw and wrote the database at its commit.
void read_sql_facts(const nlohmann::json& f, Access& a) {
  a.op = f.value("label", std::string("txn"));
  const bool committed = bool_or(f, "committed", false);
  a.read = committed;
  a.write = committed && int_or(f, "rows_changed", 1) > 0;
  a.seen = a.written = int_or(f, "commit_index", -1);
  a.serial = static_cast<std::uint64_t>(int_or(f, "serial", 0));
  const auto statements = f.find("statements");
  if (statements != f.end() && statements->is_array())
    read_sql_statements(*statements, committed, a);
  for (const auto& o : f.value("overtook", nlohmann::json::array())) {
    if (o.is_object()) a.overtook.push_back(o.value("serial", std::uint64_t{0}));
  }
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
  // An empty receive handed out no message: a later enqueue adds one, it changes nothing handed
  // out (unless the oracle says the queue held one then: a stale receive).
  if (key == f.end() && message == f.end() && a.op == "receive" && !bool_or(f, "found", true)) {
    a.scope = "message none";
  }
  a.stale = bool_or(f, trace::fact::kStale, false);
  if (f.contains("label")) {
    read_sql_facts(f, a);
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

std::set<int> service_lanes(const TraceIndex& index) {
  std::set<int> out;
  for (const auto& a : index.accesses) {
    if (!a.application) out.insert(a.server);
  }
  return out;
}

bool crashed_between(const TraceIndex& index, int lane, std::uint64_t after, std::uint64_t before) {
  const auto found = index.crashes.find(lane);
  if (found == index.crashes.end()) return false;
  const auto next = std::upper_bound(found->second.begin(), found->second.end(), after);
  return next != found->second.end() && *next < before;
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
  // A queue message is one item, not a prefix: message 1 does not cover message 12.
  if (a.starts_with("message ") && b.starts_with("message ")) return false;
  // A listing's prefix covers the keys under it.
  return (a.size() < b.size() && b.compare(0, a.size(), a) == 0) ||
         (b.size() < a.size() && a.compare(0, b.size(), b) == 0);
}

namespace {

// Whether write `w`'s place meets what `r` read: overlapping scopes, except that a get reads its
// one key exactly: a write of a longer key it is a prefix of (`index/eli-12` against
// `index/eli-1`) is another key, not one under it.
bool place_meets_read(const Access& w, const Access& r) {
  if (!scopes_overlap(w.scope, r.scope)) return false;
  return !(r.op == "get" && r.scope != "*" && w.scope != "*" && r.scope.size() < w.scope.size());
}

}  // namespace

bool changed_what_was_read(const Access& w, const Access& r) {
  if (!w.write || w.service != r.service) return false;
  if (!r.tables_read.empty()) {
    if (r.serial != 0) {  // SQL with the oracle's row-level tracking: its rows changed
      return std::find(w.overtook.begin(), w.overtook.end(), r.serial) != w.overtook.end();
    }
    return touches_what_was_read(w, r);  // from logs alone: a table it read was written
  }
  return place_meets_read(w, r);
}

namespace {

// Whether two statements' pinned columns put them on different rows: a column both pin, to
// different values.
bool pinned_apart(const SqlRows& a, const SqlRows& b) {
  for (const auto& [column, value] : a.equal) {
    const auto other = b.equal.find(column);
    if (other != b.equal.end() && other->second != value) return true;
  }
  return false;
}

// Whether `w`'s statements that changed `table` may have changed rows `r`'s statements on it
// read, by what a log's SQL pins down; true whenever either says too little.
bool rows_may_meet(const Access& w, const Access& r, const std::string& table) {
  if (w.sql_rows.empty() || r.sql_rows.empty()) return true;
  bool wrote = false;
  bool read = false;
  for (const auto& ws : w.sql_rows) {
    if (!ws.write || ws.table != table) continue;
    wrote = true;
    for (const auto& rs : r.sql_rows) {
      if (rs.write || rs.table != table) continue;
      read = true;
      if (!pinned_apart(ws, rs)) return true;
    }
  }
  return !wrote || !read;
}

}  // namespace

bool touches_what_was_read(const Access& w, const Access& r) {
  if (!w.write || w.service != r.service) return false;
  if (!r.tables_read.empty() && !w.rows_written.empty()) {
    for (const auto& row : w.rows_written) {
      const auto table = row.substr(0, row.find('/'));
      if (std::find(r.tables_read.begin(), r.tables_read.end(), table) != r.tables_read.end() &&
          rows_may_meet(w, r, table)) {
        return true;
      }
    }
    return false;
  }
  return place_meets_read(w, r);
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

namespace {

// `piece` is `whole`, or is named whole inside it ("price:45", "files/obj-3").
bool same_or_named(const nlohmann::json& piece, const nlohmann::json& whole) {
  if (piece == whole) return true;
  return piece.is_string() && whole.is_string() &&
         string_names(whole.get_ref<const std::string&>(), piece.get_ref<const std::string&>());
}

bool holds(const std::vector<const nlohmann::json*>& atoms, const nlohmann::json& piece) {
  return std::any_of(atoms.begin(), atoms.end(),
                     [&](const nlohmann::json* a) { return same_or_named(piece, *a); });
}

}  // namespace

bool flows_into(const nlohmann::json& from, const nlohmann::json& into) {
  std::vector<const nlohmann::json*> read, written;
  atoms(from, read);
  atoms(into, written);
  return std::any_of(read.begin(), read.end(),
                     [&](const nlohmann::json* r) { return holds(written, *r); });
}

bool drops_carried_part(const nlohmann::json& from, const nlohmann::json& into,
                        const nlohmann::json& after, bool names_only) {
  std::vector<const nlohmann::json*> read, written, later;
  atoms(from, read);
  atoms(into, written);
  atoms(after, later);
  return std::any_of(read.begin(), read.end(), [&](const nlohmann::json* r) {
    return (!names_only || r->is_string()) && holds(written, *r) && !holds(later, *r);
  });
}

// Deliveries that carry a request number, by process and number, in trace order: request_of
// looks a reply's request up here instead of scanning the trace backwards.
struct RequestIndex {
  std::unordered_map<std::string, std::vector<std::uint64_t>> deliveries;
  static std::string key(int lane, const nlohmann::json& req) {
    return std::to_string(lane) + "|" + req.dump();
  }
};

namespace {

const RequestIndex& requests_of(const Trace& trace) {
  if (!trace.request_index) {
    auto index = std::make_shared<RequestIndex>();
    for (const auto& e : trace.events) {
      if (e.kind != EventKind::kDeliver) continue;
      const auto payload = e.line.find("payload");
      if (payload == e.line.end() || !payload->is_object()) continue;
      const auto req = payload->find("req");
      if (req == payload->end()) continue;
      index->deliveries[RequestIndex::key(e.lane, *req)].push_back(e.seq);
    }
    trace.request_index = std::move(index);
  }
  return *trace.request_index;
}

}  // namespace

namespace {

// The latest delivery from the reply's receiver before the reply on the same lane, walking the
// lane back: a service answers within a few hundred of its own events.
std::uint64_t latest_from_peer(const Trace& trace, const TraceEvent& reply) {
  constexpr int kMaxWalk = 256;
  std::uint64_t at = reply.seq;
  for (int step = 0; step < kMaxWalk && trace.has(at); ++step) {
    const auto& e = trace.at(at);
    if (e.kind == EventKind::kDeliver && e.peer == reply.peer && e.parents.size() > 1) return at;
    if (e.parents.empty() || e.parents.front() >= at) break;
    at = e.parents.front();
  }
  return 0;
}

}  // namespace

std::uint64_t request_of(const Trace& trace, std::uint64_t reply_or_note, Unnumbered unnumbered) {
  const auto& e = trace.at(reply_or_note);
  const bool note = e.kind == EventKind::kAnnotation;
  const auto& id = note ? e.oracle() : e.line.value("payload", nlohmann::json());
  if (!id.is_object() || !id.contains("req")) {
    return unnumbered == Unnumbered::kLatestFromPeer && !note ? latest_from_peer(trace, e) : 0;
  }
  const auto& index = requests_of(trace);
  const auto found = index.deliveries.find(RequestIndex::key(e.lane, id["req"]));
  if (found == index.deliveries.end()) return 0;
  const auto& candidates = found->second;
  // The latest earlier delivery from the same peer with the same label and key.
  for (auto it = std::lower_bound(candidates.begin(), candidates.end(), reply_or_note);
       it != candidates.begin();) {
    const auto s = *--it;
    const auto& prior = trace.at(s);
    if (!note && prior.peer != e.peer) continue;
    const auto& payload = prior.line["payload"];
    if (id.contains("label") && payload.value("label", nlohmann::json()) != id["label"]) continue;
    if (id.contains("key") && payload.value("key", nlohmann::json()) != id["key"]) continue;
    return s;
  }
  return 0;
}

std::string drop_how(const TraceEvent& drop) {
  return drop.line.value("reason", std::string()) == "receiver_down" ? "receiver_down"
                                                                     : "network_drop";
}

bool is_receive_timeout(const TraceEvent& e) {
  return e.kind == EventKind::kTimer && e.line.value("timer", std::string()) == "receive_timeout";
}

std::string upper_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return s;
}

TraceIndex index_trace(const Trace& trace) {
  TraceIndex x;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend) x.send_of.emplace(e.message, e.seq);
    if (e.kind == EventKind::kDeliver) x.deliver_of.emplace(e.message, e.seq);
    if (e.kind == EventKind::kDrop) x.drop_of.emplace(e.message, e.seq);
    if (e.kind == EventKind::kCrash) x.crashes[e.lane].push_back(e.seq);
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
        a.lost_how = drop_how(e);
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
  for (std::size_t i = 0; i < x.accesses.size(); ++i) {
    const auto& a = x.accesses[i];
    if (a.write) x.writes_at[{a.service, a.scope}].push_back(i);
  }
  return x;
}

}  // namespace seer::explain
