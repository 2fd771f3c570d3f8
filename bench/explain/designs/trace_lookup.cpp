#include "trace_lookup.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

int lane_of(const Trace& trace, const std::string& process) {
  if (process == "sim") return seer::explain::kSimLane;
  for (std::size_t i = 0; i < trace.processes.size(); ++i) {
    if (trace.processes[i] == process) return static_cast<int>(i);
  }
  return -2;
}

const std::string& process_of(const Trace& trace, const TraceEvent& e) {
  static const std::string sim = "sim";
  if (e.lane < 0) return sim;
  return trace.processes.at(static_cast<std::size_t>(e.lane));
}

std::string violation_message(const Trace& trace) {
  const auto& v = trace.violation();
  if (!v.is_object() || !v.contains("message")) return {};
  return v["message"].get<std::string>();
}

std::string violation_invariant(const Trace& trace) {
  const auto& v = trace.violation();
  if (!v.is_object() || !v.contains("invariant")) return {};
  return v["invariant"].get<std::string>();
}

std::uint64_t violation_event(const Trace& trace) {
  const auto& v = trace.violation();
  if (!v.is_object() || !v.contains("event")) return trace.events.size();
  return v["event"].get<std::uint64_t>();
}

std::vector<const TraceEvent*> find_all(const Trace& trace, const EventPred& pred,
                                        std::uint64_t until) {
  std::vector<const TraceEvent*> out;
  for (const auto& e : trace.events) {
    if (until != 0 && e.seq > until) break;
    if (pred(e)) out.push_back(&e);
  }
  return out;
}

const TraceEvent* find_first(const Trace& trace, const EventPred& pred, std::uint64_t after) {
  for (const auto& e : trace.events) {
    if (e.seq > after && pred(e)) return &e;
  }
  return nullptr;
}

const TraceEvent* find_last(const Trace& trace, const EventPred& pred, std::uint64_t before) {
  for (auto it = trace.events.rbegin(); it != trace.events.rend(); ++it) {
    if (before != 0 && it->seq >= before) continue;
    if (pred(*it)) return &*it;
  }
  return nullptr;
}

EventPred message(const Trace& trace, const std::string& process, const std::string& kind,
                  const std::string& type) {
  const int lane = lane_of(trace, process);
  return [lane, kind, type](const TraceEvent& e) {
    return e.lane == lane && e.kind_name() == kind && e.type == type;
  };
}

const nlohmann::json& payload(const TraceEvent& e) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = e.line.find("payload");
  return it == e.line.end() ? empty : *it;
}

namespace {
bool same_req(const TraceEvent& a, const TraceEvent& b) {
  const auto& pa = payload(a);
  const auto& pb = payload(b);
  return pa.contains("req") && pb.contains("req") && pa["req"] == pb["req"];
}
}  // namespace

const TraceEvent* reply_send_for(const Trace& trace, const TraceEvent& request_send) {
  return find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == request_send.peer && e.kind == EventKind::kSend &&
               e.peer == request_send.lane && same_req(e, request_send);
      },
      request_send.seq);
}

const TraceEvent* delivery_of(const Trace& trace, const TraceEvent& send) {
  return find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.message == send.message;
      },
      send.seq);
}

const TraceEvent* send_of(const Trace& trace, const TraceEvent& deliver) {
  for (const auto p : deliver.parents) {
    if (trace.has(p) && trace.at(p).kind == EventKind::kSend &&
        trace.at(p).message == deliver.message) {
      return &trace.at(p);
    }
  }
  return find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.message == deliver.message;
      },
      deliver.seq);
}

const TraceEvent* request_send_for(const Trace& trace, const TraceEvent& reply_send) {
  return find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == reply_send.peer && e.kind == EventKind::kSend &&
               e.peer == reply_send.lane && same_req(e, reply_send);
      },
      reply_send.seq);
}

std::string between(const std::string& text, const std::string& before, const std::string& after) {
  const auto a = text.find(before);
  if (a == std::string::npos) return {};
  const auto start = a + before.size();
  const auto b = after.empty() ? std::string::npos : text.find(after, start);
  return text.substr(start, b == std::string::npos ? std::string::npos : b - start);
}

}  // namespace seer::bench::explain
