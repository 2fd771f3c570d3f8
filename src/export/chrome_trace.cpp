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

constexpr int kPid = 1;

// Writes Chrome's trace event format one event at a time: a large trace never exists twice in
// memory.
class ChromeWriter {
 public:
  ChromeWriter(const explain::Trace& t, std::ostream& out) : t_(t), out_(out) {}

  // The run's name and one named, ordered thread per lane.
  void metadata() {
    const auto& h = t_.header;
    push({{"ph", "M"},
          {"name", "process_name"},
          {"pid", kPid},
          {"args",
           {{"name", h.value("system", std::string("seer")) + "/" +
                         h.value("variant", std::string()) + " seed " +
                         std::to_string(h.value("seed", std::uint64_t{0}))}}}});
    const int lanes = static_cast<int>(t_.processes.size());
    for (int lane = -1; lane < lanes; ++lane) {
      const auto tid = tid_of(t_, lane);
      push({{"ph", "M"},
            {"name", "thread_name"},
            {"pid", kPid},
            {"tid", tid},
            {"args", {{"name", t_.lane_name(lane)}}}});
      push({{"ph", "M"},
            {"name", "thread_sort_index"},
            {"pid", kPid},
            {"tid", tid},
            {"args", {{"sort_index", tid}}}});
    }
  }

  // The event itself, and what it opens or closes: a message arrow, an operation, a fault span.
  void event(const explain::TraceEvent& e) {
    push({{"ph", "X"},
          {"name", name_of(e)},
          {"cat", e.kind_name()},
          {"pid", kPid},
          {"tid", tid_of(t_, e.lane)},
          {"ts", us(e.time)},
          {"dur", 0},
          {"args", args_of(e.line)}});
    if (e.kind == EventKind::kDeliver && e.parents.size() >= 2) message_flow(e);
    if (e.kind == EventKind::kInvoke) open_invoke_[e.lane] = e.seq;
    if (e.kind == EventKind::kComplete && open_invoke_.count(e.lane)) operation(e);
    fault_span(e);
  }

 private:
  void push(const nlohmann::json& e) {
    out_ << (first_ ? "\n" : ",\n") << e.dump();
    first_ = false;
  }

  // A flow from the send (the delivery's cause) to this delivery; ids are delivery seqs so a
  // duplicated message gets one arrow per copy.
  void message_flow(const explain::TraceEvent& e) {
    const auto& send = t_.at(e.parents.back());
    push({{"ph", "s"},
          {"name", e.type},
          {"cat", "message"},
          {"id", e.seq},
          {"pid", kPid},
          {"tid", tid_of(t_, send.lane)},
          {"ts", us(send.time)}});
    push({{"ph", "f"},
          {"bp", "e"},
          {"name", e.type},
          {"cat", "message"},
          {"id", e.seq},
          {"pid", kPid},
          {"tid", tid_of(t_, e.lane)},
          {"ts", us(e.time)}});
  }

  // A client operation from its invoke to this completion.
  void operation(const explain::TraceEvent& e) {
    const auto& inv = t_.at(open_invoke_[e.lane]);
    open_invoke_.erase(e.lane);
    push({{"ph", "X"},
          {"name", inv.line.value("f", "op")},
          {"cat", "operation"},
          {"pid", kPid},
          {"tid", tid_of(t_, e.lane)},
          {"ts", us(inv.time)},
          {"dur", us(e.time - inv.time)},
          {"args",
           {{"value", inv.line.value("value", nlohmann::json())},
            {"result", e.line.value("value", nlohmann::json())},
            {"type", e.line.value("type", std::string())}}}});
  }

  // Down (crash to restart), paused (pause to resume) and partition spans.
  void fault_span(const explain::TraceEvent& e) {
    const auto tid = tid_of(t_, e.lane);
    auto span = [&](const char* name, const char* ph, std::uint64_t id) {
      push({{"ph", ph},
            {"name", name},
            {"cat", "fault"},
            {"id", id},
            {"pid", kPid},
            {"tid", tid},
            {"ts", us(e.time)}});
    };
    if (e.kind == EventKind::kCrash) {
      down_since_[e.lane] = e.seq;
      span("down", "b", e.seq);
    } else if (e.kind == EventKind::kRestart && down_since_.count(e.lane)) {
      span("down", "e", down_since_[e.lane]);
      down_since_.erase(e.lane);
    } else if (e.kind == EventKind::kPause) {
      paused_since_[e.lane] = e.seq;
      span("paused", "b", e.seq);
    } else if (e.kind == EventKind::kResume && paused_since_.count(e.lane)) {
      span("paused", "e", paused_since_[e.lane]);
      paused_since_.erase(e.lane);
    } else if (e.kind == EventKind::kPartition) {
      const auto id = e.line.value("partition", std::int64_t{0});
      partition_start_[id] = e.time;
      span("partition", "b", static_cast<std::uint64_t>(1'000'000'000 + id));
    } else if (e.kind == EventKind::kHeal) {
      const auto id = e.line.value("partition", std::int64_t{0});
      if (partition_start_.count(id)) {
        span("partition", "e", static_cast<std::uint64_t>(1'000'000'000 + id));
      }
    }
  }

  const explain::Trace& t_;
  std::ostream& out_;
  bool first_ = true;
  std::map<int, std::uint64_t> open_invoke_;  // lane -> invoke seq
  std::map<int, std::uint64_t> down_since_;   // lane -> crash seq
  std::map<int, std::uint64_t> paused_since_;
  std::map<std::int64_t, std::int64_t> partition_start_;  // partition id -> time
};

}  // namespace

void chrome_trace(const explain::Trace& t, std::ostream& out) {
  out << R"({"displayTimeUnit":"ms","otherData":)"
      << nlohmann::json{{"seer_trace", t.path}, {"trace_hash", t.footer.value("trace_hash", "")}}
             .dump()
      << R"(,"traceEvents":[)";
  ChromeWriter writer(t, out);
  writer.metadata();
  for (const auto& e : t.events) writer.event(e);
  out << "\n]}\n";
}

}  // namespace seer::exporter
