// The explanation as concise text for people and as JSON (with event ids) for agents.
#include "causes.hpp"
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

}  // namespace

std::string describe_event(const Trace& trace, std::uint64_t seq) {
  const auto& e = trace.at(seq);
  const auto& j = e.line;
  std::string text =
      fmt::format("#{} {} {} {}", e.seq, format_time(e.time), trace.lane_name(e.lane), e.kind);
  if (e.kind == "send" || e.kind == "deliver" || e.kind == "drop" || e.kind == "duplicate") {
    const char* dir = e.kind == "deliver" ? "from" : "to";
    text += fmt::format(" {} {} {} {}", e.type, dir, trace.lane_name(e.peer),
                        short_json(j.value("payload", nlohmann::json())));
  } else if (e.kind == "invoke" || e.kind == "complete") {
    text += fmt::format(" {}{} {}", j.value("f", std::string()),
                        e.kind == "complete" ? " " + j.value("type", std::string()) : "",
                        short_json(j.value("value", nlohmann::json())));
  } else if (e.kind == "storage_read" || e.kind == "storage_write") {
    text += " " + j.value("key", std::string());
  } else if (e.kind == "timer") {
    text += " " + j.value("timer", std::string());
  } else if (e.kind == "annotation") {
    text += " " + j.value("what", std::string());
  } else if (e.kind == "violation") {
    text += " " + j.value("invariant", std::string());
  }
  const auto& oracle = e.oracle();
  if (oracle.is_object()) {
    if (oracle.value("stale", false) ||
        (oracle.contains("service") && oracle["service"].is_object() &&
         oracle["service"].value("stale", false))) {
      text += "  [oracle: STALE]";
    }
    if (oracle.value("duplicate", false)) text += "  [oracle: duplicate copy]";
  }
  return text;
}

nlohmann::json explanation_json(const Explanation& x, const Trace& trace) {
  nlohmann::json causes = nlohmann::json::array();
  for (std::size_t i = 0; i < x.causes.size(); ++i) {
    auto c = cause_json(x.causes[i]);
    c["rank"] = i + 1;
    causes.push_back(std::move(c));
  }
  nlohmann::json slice = nlohmann::json::array();
  for (const auto s : x.slice) {
    const auto& e = trace.at(s);
    slice.push_back({{"seq", s},
                     {"time", e.time},
                     {"process", trace.lane_name(e.lane)},
                     {"kind", e.kind},
                     {"text", describe_event(trace, s)}});
  }
  return {{"system", x.system},
          {"variant", x.variant},
          {"seed", x.seed},
          {"violation", x.violation},
          {"failing_op", x.failing_op},
          {"anchors", x.anchors},
          {"causes", causes},
          {"slice", slice},
          {"causal_past", x.causal_past},
          {"events", x.events}};
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
