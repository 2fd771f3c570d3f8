#include "seer/export/export.hpp"

#include <map>
#include <ostream>

namespace seer::exporter {

using explain::EventKind;

namespace {

// Trace-event timestamps are microseconds; virtual time is nanoseconds.
double us(std::int64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

// Thread ids: process lanes 1..n, the network and nemesis n+1.
int tid_of(const explain::Trace& t, int lane) {
  return lane == explain::kSimLane ? static_cast<int>(t.processes.size()) + 1 : lane + 1;
}

nlohmann::json args_of(const nlohmann::json& line) {
  nlohmann::json args = nlohmann::json::object();
  for (const auto& [k, v] : line.items()) {
    if (k != "time" && k != "process" && k != "kind" && k != "parents") args[k] = v;
  }
  return args;
}

std::string name_of(const explain::TraceEvent& e) {
  if (!e.type.empty()) return std::string(e.kind_name()) + " " + e.type;
  if (e.kind == EventKind::kInvoke || e.kind == EventKind::kComplete)
    return std::string(e.kind_name()) + " " + e.line.value("f", "");
  if (e.kind == EventKind::kTimer) return "timer " + e.line.value("timer", "");
  if (e.kind == EventKind::kViolation) return "violation " + e.line.value("invariant", "");
  return e.kind_name();
}

}  // namespace

void chrome_trace(const explain::Trace& t, std::ostream& out) {
  constexpr int kPid = 1;
  // Streamed one event at a time: a large trace never exists twice in memory.
  struct Writer {
    std::ostream& out;
    bool first = true;
    void push_back(const nlohmann::json& e) {
      out << (first ? "\n" : ",\n") << e.dump();
      first = false;
    }
  } events{out};
  out << R"({"displayTimeUnit":"ms","otherData":)"
      << nlohmann::json{{"seer_trace", t.path}, {"trace_hash", t.footer.value("trace_hash", "")}}
             .dump()
      << R"(,"traceEvents":[)";
  const auto& h = t.header;
  events.push_back(
      {{"ph", "M"},
       {"name", "process_name"},
       {"pid", kPid},
       {"args",
        {{"name", h.value("system", std::string("seer")) + "/" + h.value("variant", std::string()) +
                      " seed " + std::to_string(h.value("seed", std::uint64_t{0}))}}}});
  const int lanes = static_cast<int>(t.processes.size());
  for (int lane = -1; lane < lanes; ++lane) {
    const auto tid = tid_of(t, lane);
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", kPid},
                      {"tid", tid},
                      {"args", {{"name", t.lane_name(lane)}}}});
    events.push_back({{"ph", "M"},
                      {"name", "thread_sort_index"},
                      {"pid", kPid},
                      {"tid", tid},
                      {"args", {{"sort_index", tid}}}});
  }
  std::map<int, std::uint64_t> open_invoke;  // lane -> invoke seq
  std::map<int, std::uint64_t> down_since;   // lane -> crash seq
  std::map<int, std::uint64_t> paused_since;
  std::map<std::int64_t, std::int64_t> partition_start;  // partition id -> time
  for (const auto& e : t.events) {
    const auto tid = tid_of(t, e.lane);
    const auto ts = us(e.time);
    events.push_back({{"ph", "X"},
                      {"name", name_of(e)},
                      {"cat", e.kind_name()},
                      {"pid", kPid},
                      {"tid", tid},
                      {"ts", ts},
                      {"dur", 0},
                      {"args", args_of(e.line)}});
    if (e.kind == EventKind::kDeliver && e.parents.size() >= 2) {
      // A flow from the send (the delivery's cause) to this delivery; ids are delivery seqs so a
      // duplicated message gets one arrow per copy.
      const auto& send = t.at(e.parents.back());
      events.push_back({{"ph", "s"},
                        {"name", e.type},
                        {"cat", "message"},
                        {"id", e.seq},
                        {"pid", kPid},
                        {"tid", tid_of(t, send.lane)},
                        {"ts", us(send.time)}});
      events.push_back({{"ph", "f"},
                        {"bp", "e"},
                        {"name", e.type},
                        {"cat", "message"},
                        {"id", e.seq},
                        {"pid", kPid},
                        {"tid", tid},
                        {"ts", ts}});
    }
    if (e.kind == EventKind::kInvoke) open_invoke[e.lane] = e.seq;
    if (e.kind == EventKind::kComplete && open_invoke.count(e.lane)) {
      const auto& inv = t.at(open_invoke[e.lane]);
      open_invoke.erase(e.lane);
      events.push_back({{"ph", "X"},
                        {"name", inv.line.value("f", "op")},
                        {"cat", "operation"},
                        {"pid", kPid},
                        {"tid", tid},
                        {"ts", us(inv.time)},
                        {"dur", us(e.time - inv.time)},
                        {"args",
                         {{"value", inv.line.value("value", nlohmann::json())},
                          {"result", e.line.value("value", nlohmann::json())},
                          {"type", e.line.value("type", std::string())}}}});
    }
    auto span = [&](const char* name, const char* ph, std::uint64_t id, int lane_tid) {
      events.push_back({{"ph", ph},
                        {"name", name},
                        {"cat", "fault"},
                        {"id", id},
                        {"pid", kPid},
                        {"tid", lane_tid},
                        {"ts", ts}});
    };
    if (e.kind == EventKind::kCrash) {
      down_since[e.lane] = e.seq;
      span("down", "b", e.seq, tid);
    } else if (e.kind == EventKind::kRestart && down_since.count(e.lane)) {
      span("down", "e", down_since[e.lane], tid);
      down_since.erase(e.lane);
    } else if (e.kind == EventKind::kPause) {
      paused_since[e.lane] = e.seq;
      span("paused", "b", e.seq, tid);
    } else if (e.kind == EventKind::kResume && paused_since.count(e.lane)) {
      span("paused", "e", paused_since[e.lane], tid);
      paused_since.erase(e.lane);
    } else if (e.kind == EventKind::kPartition) {
      const auto id = e.line.value("partition", std::int64_t{0});
      partition_start[id] = e.time;
      span("partition", "b", static_cast<std::uint64_t>(1'000'000'000 + id), tid);
    } else if (e.kind == EventKind::kHeal) {
      const auto id = e.line.value("partition", std::int64_t{0});
      if (partition_start.count(id)) {
        span("partition", "e", static_cast<std::uint64_t>(1'000'000'000 + id), tid);
      }
    }
  }
  out << "\n]}\n";
}

}  // namespace seer::exporter
