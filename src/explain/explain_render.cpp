// The explanation as concise text for people and as JSON (with event ids) for agents.
#include "causes.hpp"
#include "remedies.hpp"

#include <fmt/ranges.h>
#include <map>
#include "seer/explain/explain.hpp"

#include <fmt/format.h>

namespace seer::explain {

namespace {

nlohmann::json cause_json(const Cause& c) {
  nlohmann::json behind = nlohmann::json::array();
  for (const auto& b : c.behind) behind.push_back(cause_json(b));
  return {{"kind", c.kind},     {"process", c.process},
          {"events", c.events}, {"summary", c.summary},
          {"facts", c.facts},   {"behind", behind},
          {"score", c.score},   {"causally_before", c.causally_before}};
}

std::string short_json(const nlohmann::json& j, std::size_t max = 80) {
  auto text = j.dump();
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

// What the oracle knew of an event, in a few words: a stale answer and what was latest, a copy,
// what a crash lost, what a commit overtook.
std::string oracle_note(const TraceEvent& e) {
  const auto& oracle = e.oracle();
  if (!oracle.is_object()) return "";
  std::vector<std::string> notes;
  const auto& f = trace::service_facts(oracle);
  if (trace::marked_stale(oracle)) {
    std::string note = "STALE";
    if (f.contains("latest_revision")) {
      note += fmt::format(": latest revision {}", f.value("latest_revision", std::int64_t{0}));
    } else if (f.contains("missing")) {
      note += ": missed " + short_json(f["missing"], 60);
    } else if (f.contains("latest_acked_value")) {
      note += ": latest acked " + short_json(f["latest_acked_value"], 40);
    }
    notes.push_back(note);
  }
  if (oracle.value(trace::fact::kDuplicate, false) || f.value(trace::fact::kDuplicate, false)) {
    notes.emplace_back("duplicate copy");
  }
  if (f.contains(trace::fact::kOvertook) && f[trace::fact::kOvertook].is_array()) {
    std::vector<std::string> labels;
    for (const auto& o : f[trace::fact::kOvertook]) {
      const auto label = o.value("label", std::string());
      labels.push_back(fmt::format("{}'s read{} (reply {})", o.value("by", std::string("?")),
                                   label.empty() ? "" : " " + label,
                                   o.value("serial", std::uint64_t{0})));
    }
    notes.push_back(fmt::format("changed what {} returned", fmt::join(labels, ", ")));
  }
  if (oracle.contains(trace::fact::kLostUnsyncedWrites)) {
    notes.push_back("lost unsynced " + short_json(oracle[trace::fact::kLostUnsyncedWrites], 60));
  }
  if (e.kind == EventKind::kAnnotation) notes.push_back(e.line.value("what", std::string()));
  if (notes.empty()) return "";
  return "  [oracle: " + fmt::format("{}", fmt::join(notes, "; ")) + "]";
}

std::string story_line(const Trace& trace, std::uint64_t seq,
                       const std::map<int, ProcessClock>& clocks) {
  const auto& e = trace.at(seq);
  auto text = describe_event(trace, seq);
  // describe_event already marks stale and duplicate; the story says more.
  for (const char* mark : {"  [oracle: STALE]", "  [oracle: duplicate copy]"}) {
    const auto at = text.find(mark);
    if (at != std::string::npos) text.erase(at, std::string(mark).size());
  }
  const auto clock = clocks.find(e.lane);
  if (clock != clocks.end() && clock->second.skewed()) {
    text += fmt::format("  ({}'s clock {:.3f}ms)", trace.lane_name(e.lane),
                        static_cast<double>(clock->second.local(e.time)) / 1e6);
  }
  return text + oracle_note(e);
}

}  // namespace

std::string describe_story_event(const Trace& trace, std::uint64_t seq) {
  return story_line(trace, seq, clocks_of(trace));
}

std::string describe_event(const Trace& trace, std::uint64_t seq) {
  const auto& e = trace.at(seq);
  const auto& j = e.line;
  std::string text = fmt::format("#{} {} {} {}", e.seq, format_time(e.time),
                                 trace.lane_name(e.lane), e.kind_name());
  if (e.kind == EventKind::kSend || e.kind == EventKind::kDeliver || e.kind == EventKind::kDrop ||
      e.kind == EventKind::kDuplicate) {
    const char* dir = e.kind == EventKind::kDeliver ? "from" : "to";
    text += fmt::format(" {} {} {} {}", e.type, dir, trace.lane_name(e.peer),
                        short_json(j.value("payload", nlohmann::json())));
  } else if (e.kind == EventKind::kInvoke || e.kind == EventKind::kComplete) {
    text += fmt::format(" {}{} {}", j.value("f", std::string()),
                        e.kind == EventKind::kComplete ? " " + j.value("type", std::string()) : "",
                        short_json(j.value("value", nlohmann::json())));
  } else if (e.kind == EventKind::kStorageRead || e.kind == EventKind::kStorageWrite) {
    text += " " + j.value("key", std::string());
  } else if (e.kind == EventKind::kTimer) {
    text += " " + j.value("timer", std::string());
  } else if (e.kind == EventKind::kAnnotation) {
    text += " " + j.value("what", std::string());
  } else if (e.kind == EventKind::kViolation) {
    text += " " + j.value("invariant", std::string());
  }
  // The line of the design's code behind it: where a reader goes to change the decision.
  if (const auto site = e.site(); !site.empty()) text += "  at " + site;
  const auto& oracle = e.oracle();
  if (oracle.is_object()) {
    if (trace::marked_stale(oracle)) text += "  [oracle: STALE]";
    if (oracle.value(trace::fact::kDuplicate, false)) text += "  [oracle: duplicate copy]";
  }
  return text;
}

nlohmann::json explanation_json(const Explanation& x, const Trace& trace) {
  nlohmann::json causes = nlohmann::json::array();
  for (std::size_t i = 0; i < x.causes.size(); ++i) {
    auto c = cause_json(x.causes[i]);
    c["rank"] = i + 1;
    if (auto remedy = remedy_for(x.causes[i], trace)) c["remedy"] = remedy_json(*remedy, trace);
    causes.push_back(std::move(c));
  }
  nlohmann::json slice = nlohmann::json::array();
  for (const auto s : x.slice) {
    const auto& e = trace.at(s);
    nlohmann::json j = {{"seq", s},
                        {"time", e.time},
                        {"process", trace.lane_name(e.lane)},
                        {"kind", e.kind_name()},
                        {"text", describe_event(trace, s)}};
    if (auto site = e.site(); !site.empty()) j["at"] = std::move(site);
    slice.push_back(std::move(j));
  }
  const auto clocks = clocks_of(trace);
  nlohmann::json stories = nlohmann::json::array();
  for (const auto& story : x.stories) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto s : story.events) {
      const auto& e = trace.at(s);
      nlohmann::json j = {{"seq", s},
                          {"time", e.time},
                          {"process", trace.lane_name(e.lane)},
                          {"kind", e.kind_name()},
                          {"text", story_line(trace, s, clocks)}};
      const auto clock = clocks.find(e.lane);
      if (clock != clocks.end() && clock->second.skewed())
        j["local_time"] = clock->second.local(e.time);
      if (auto site = e.site(); !site.empty()) j["at"] = std::move(site);
      if (e.oracle().is_object()) j["oracle"] = e.oracle();
      events.push_back(std::move(j));
    }
    stories.push_back(
        {{"entity", story.entity}, {"touched", story.touched}, {"events", std::move(events)}});
  }
  return {{"system", x.system},       {"variant", x.variant},         {"seed", x.seed},
          {"violation", x.violation}, {"failing_op", x.failing_op},   {"anchors", x.anchors},
          {"stuck", x.stuck},         {"stories", stories},           {"causes", causes},
          {"slice", slice},           {"causal_past", x.causal_past}, {"events", x.events}};
}

std::string explanation_text(const Explanation& x, const Trace& trace) {
  std::string out = fmt::format("{}/{} seed {}: ", x.system, x.variant, x.seed);
  if (!x.violation.is_object()) return out + "no violation: the run held every invariant.\n";
  const auto at = x.violation.value("event", std::uint64_t{0});
  out += fmt::format("{} violated after #{} ({})\n  {}\n",
                     x.violation.value("invariant", std::string()), at,
                     format_time(x.violation.value("time", std::int64_t{0})),
                     x.violation.value("message", std::string()));
  if (x.failing_op.is_object()) {
    const auto& op = x.failing_op;
    out += fmt::format("  the checker could not place {}'s {}({}) -> {} (#{} to #{})\n",
                       op.value("process", std::string()), op.value("f", std::string()),
                       op["input"].dump(), op["output"].dump(), op.value("invoke_event", 0),
                       op.value("complete_event", 0));
  }
  if (x.stuck.is_object()) {
    const auto& entity = x.stuck["entity"];
    out +=
        fmt::format("\nWhy {} ({}):\n",
                    entity.is_string() ? entity.get<std::string>() + " never came about"
                                       : x.stuck.value("property", std::string()) + " never held",
                    x.stuck.value("pattern", std::string()));
    for (const auto& line : x.stuck.value("why", nlohmann::json::array())) {
      if (line.is_string()) out += "  " + line.get<std::string>() + "\n";
    }
  }
  const auto clocks = clocks_of(trace);
  for (const auto& story : x.stories) {
    out += fmt::format("\nStory of {} ({} event(s) touched it before the violation{}):\n",
                       story.entity, story.touched,
                       story.touched > story.events.size()
                           ? fmt::format("; the latest {}", story.events.size())
                           : "");
    for (const auto s : story.events) out += "  " + story_line(trace, s, clocks) + "\n";
  }
  if (x.causes.empty()) {
    out += "\nNo stale view, lost response, duplicate or crash loss found in the oracle's facts.\n";
  }
  for (std::size_t i = 0; i < x.causes.size() && i < 3; ++i) {
    const auto& c = x.causes[i];
    out += fmt::format("\n{} ({}): {}\n",
                       i == 0 ? "Most likely cause" : fmt::format("Cause {}", i + 1), c.kind,
                       c.summary);
    if (i == 0) {
      for (const auto& b : c.behind) out += fmt::format("  because ({}): {}\n", b.kind, b.summary);
      if (auto remedy = remedy_for(c, trace)) {
        out += "What would have prevented it:\n";
        for (const auto& line : remedy_lines(*remedy, trace)) out += "  " + line + "\n";
      }
    }
  }
  if (x.causes.size() > 3) {
    out += fmt::format("({} more in --json)\n", x.causes.size() - 3);
  }
  out +=
      fmt::format("\nMinimal event sequence ({} of {} events; {} causally before the violation):\n",
                  x.slice.size(), x.events, x.causal_past);
  for (const auto s : x.slice) out += "  " + describe_event(trace, s) + "\n";
  return out;
}

}  // namespace seer::explain
