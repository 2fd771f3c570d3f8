#include "accesses.hpp"

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
  a.stale = bool_or(f, "stale", false);
  if (f.contains("label")) {  // a SQL transaction: it saw and wrote the database at its commit
    a.op = f.value("label", std::string("txn"));
    const bool committed = bool_or(f, "committed", false);
    a.read = committed;
    a.write = committed && int_or(f, "rows_changed", 1) > 0;
    a.seen = a.written = int_or(f, "commit_index", -1);
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
  }
}

}  // namespace

std::uint64_t request_of(const Trace& trace, std::uint64_t reply_or_note) {
  const auto& e = trace.at(reply_or_note);
  const bool note = e.kind == "annotation";
  const auto& id = note ? e.oracle() : e.line.value("payload", nlohmann::json());
  if (!id.is_object() || !id.contains("req")) return 0;
  for (auto s = reply_or_note; s-- > 1;) {
    const auto& prior = trace.at(s);
    if (prior.lane != e.lane || prior.kind != "deliver") continue;
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
    if (e.kind == "send") x.send_of.emplace(e.message, e.seq);
    if (e.kind == "deliver") x.deliver_of.emplace(e.message, e.seq);
    if (e.kind == "drop") x.drop_of.emplace(e.message, e.seq);
  }
  for (const auto& e : trace.events) {
    const auto& oracle = e.oracle();
    if (!oracle.is_object()) continue;
    Access a;
    a.event = e.seq;
    const auto service = oracle.find("service");
    if (e.kind == "send" && service != oracle.end() && service->is_object() &&
        x.deliver_of.count(e.message) == 0 && x.drop_of.count(e.message) == 0) {
      // A reply still in flight when the run ended: its requester never got it.
      read_service_facts(*service, a);
      a.served = e.seq;
      a.server = e.lane;
      a.client = e.peer;
      a.delivered = false;
      a.lost_how = "never_delivered";
      x.accesses.push_back(a);
    } else if ((e.kind == "deliver" || e.kind == "drop") && e.message != 0) {
      const auto send = x.send_of.find(e.message);
      if (send == x.send_of.end()) continue;
      a.served = send->second;
      a.server = trace.at(send->second).lane;
      a.client = e.kind == "deliver" ? e.lane : e.peer;
      if (service != oracle.end() && service->is_object()) {
        read_service_facts(*service, a);
      } else if (oracle.contains("stale")) {  // a system's own replica reply (e.g. the register)
        a.facts = &oracle;
        a.service = trace.lane_name(a.server);
        a.op = e.type;
        a.scope.assign(1, '*');  // not = "*": GCC 12 -Wrestrict false positive (PR 105329)
        a.read = true;
        a.stale = bool_or(oracle, "stale", false);
      } else {
        continue;
      }
      if (e.kind == "drop") {
        a.delivered = false;
        a.lost_how = "network_drop";
      } else if (bool_or(oracle, "duplicate", false)) {
        continue;  // the second copy of a reply adds nothing the first did not
      }
      x.accesses.push_back(a);
    } else if (e.kind == "annotation" && e.line.value("what", std::string()) == "lost_response") {
      read_service_facts(oracle, a);
      a.served = e.seq;
      a.server = e.lane;
      a.delivered = false;
      a.lost_how = "service";
      if (const auto request = request_of(trace, e.seq)) a.client = trace.at(request).peer;
      x.accesses.push_back(a);
    }
  }
  return x;
}

}  // namespace seer::explain
