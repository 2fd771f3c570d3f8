// Ranks the detected causes against the violation and keeps the short chain of events behind them.
#include "seer/explain/explain.hpp"

#include "accesses.hpp"
#include "causes.hpp"
#include "failing_op.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

namespace seer::explain {

namespace {

// The identifiers a violation message names (keys, tags, numbers): "job 5's side effect" -> "5",
// "tag [22,1]" -> "[22,1]", "segment w0/seg-000001" -> "w0/seg-000001".
std::vector<std::string> mentioned(const std::string& message) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < message.size()) {
    if (message[i] == '[') {
      const auto end = message.find(']', i);
      if (end == std::string::npos) break;
      std::string tag;
      for (auto k = i; k <= end; ++k) {
        if (message[k] != ' ') tag += message[k];
      }
      out.push_back(tag);
      i = end + 1;
      continue;
    }
    auto word_char = [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '-' || ch == '_' ||
             ch == '.';
    };
    if (!word_char(message[i])) {
      ++i;
      continue;
    }
    auto j = i;
    while (j < message.size() && word_char(message[j])) ++j;
    std::string word = message.substr(i, j - i);
    while (!word.empty() && (word.back() == '.' || word.back() == '-')) word.pop_back();
    if (std::any_of(word.begin(), word.end(), [](char ch) { return std::isdigit(ch); })) {
      out.push_back(word);
    }
    i = j;
  }
  return out;
}

bool json_mentions(const nlohmann::json& j, const std::string& token);

// Only fields that carry application data can mention what a violation names: request numbers,
// serials and counters would match small numbers everywhere.
bool data_mentions(const nlohmann::json& j, const std::string& token) {
  static const std::set<std::string> kData = {"key",
                                              "value",
                                              "body",
                                              "label",
                                              "tag",
                                              "missing",
                                              "keys",
                                              "results",
                                              "latest_value",
                                              "latest_acked_value",
                                              "latest_acked_tag",
                                              "lost_unsynced_writes"};
  if (!j.is_object()) return json_mentions(j, token);
  for (const auto& [k, v] : j.items()) {
    if (kData.count(k) && json_mentions(v, token)) return true;
  }
  return false;
}

bool json_mentions(const nlohmann::json& j, const std::string& token) {
  if (j.is_number()) return j.dump() == token;
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    const bool numeric = std::all_of(token.begin(), token.end(),
                                     [](char ch) { return std::isdigit(ch) || ch == '-'; });
    return numeric ? s == token : s.find(token) != std::string::npos;
  }
  if (j.is_array()) {
    if (j.dump() == token) return true;
    // A number inside a tuple (a tag's writer, a row's column) is not the thing a message names.
    for (const auto& v : j) {
      if (!v.is_number() && json_mentions(v, token)) return true;
    }
  }
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (json_mentions(v, token)) return true;
    }
  }
  return false;
}

bool cause_mentions(const Trace& t, const Cause& c, const std::vector<std::string>& tokens) {
  for (const auto& token : tokens) {
    if (data_mentions(c.facts, token)) return true;
    for (const auto s : c.events) {
      const auto& line = t.at(s).line;
      const auto payload = line.find("payload");
      if (payload != line.end() && data_mentions(*payload, token)) return true;
      const auto value = line.find("value");
      if (value != line.end() && json_mentions(*value, token)) return true;
    }
  }
  return false;
}

int base_score(const Cause& c) {
  if (c.kind == "stale_read" || c.kind == "outdated_read") return 60;
  if (c.kind == "lost_response" || c.kind == "crash_lost_data") return 55;
  if (c.kind == "clock_behind") return 50;
  if (c.kind == "duplicate_delivery") return 35;
  return 20;
}

}  // namespace

Explanation explain_trace(const Trace& trace, const CausalGraph& graph) {
  Explanation x;
  x.system = trace.header.value("system", std::string());
  x.variant = trace.header.value("variant", std::string());
  x.seed = trace.header.value("seed", std::uint64_t{0});
  x.events = trace.events.size();
  x.violation = trace.violation();
  if (!x.violation.is_object()) return x;
  const auto anchor = x.violation.value("event", std::uint64_t{0});
  const std::uint64_t horizon = trace.has(anchor) ? anchor : trace.events.size();
  std::optional<FailingOp> failing;
  if (x.violation.value("invariant", std::string()) == "linearizable") {
    failing = find_failing_op(trace);
  }
  if (failing) {
    // Start from the operation that could not be placed, not from the end of the run.
    x.failing_op = failing_op_json(*failing);
    x.anchors.push_back(failing->complete_event ? failing->complete_event : failing->invoke_event);
  } else if (trace.has(anchor)) {
    x.anchors.push_back(anchor);
  }
  const auto past = graph.past(x.anchors);
  x.causal_past = past.size();
  const std::set<std::uint64_t> in_past(past.begin(), past.end());

  const auto index = index_trace(trace);
  // What happened after the operation that could not be placed cannot explain its result.
  const std::uint64_t detect_until =
      failing && failing->complete_event ? failing->complete_event : horizon;
  const DetectContext context{trace, graph, index, detect_until};
  std::vector<Cause> all;
  for (auto* detect : {detect_stale_reads, detect_outdated_reads, detect_lost_responses,
                       detect_duplicates, detect_crash_losses, detect_clock_skew}) {
    auto found = detect(context);
    all.insert(all.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
  }
  const auto tokens = mentioned(x.violation.value("message", std::string()));
  for (auto& c : all) {
    c.causally_before = std::any_of(c.events.begin(), c.events.end(),
                                    [&](std::uint64_t s) { return in_past.count(s) > 0; });
    c.score += base_score(c);
    if (c.causally_before) c.score += 30;
    if (failing) {
      // Evidence inside the failing operation's own causal interval: after its invoke and before
      // its completion, on its process or on one that served it (its own read, or the read of
      // the server that answered it).
      const auto& op = *failing;
      const auto end = op.complete_event ? op.complete_event : horizon;
      const int lane = trace.at(op.invoke_event).lane;
      if (std::any_of(c.events.begin(), c.events.end(), [&](std::uint64_t s) {
            if (s < op.invoke_event || s > end) return false;
            if (trace.at(s).lane == lane) return true;
            return graph.happens_before(op.invoke_event, s) &&
                   (!op.complete_event || graph.happens_before(s, op.complete_event));
          })) {
        c.score += 25;
      }
    } else if (cause_mentions(trace, c, tokens)) {
      c.score += 25;
    }
    if (c.facts.contains("decision_event") || c.facts.contains("retry_event")) c.score += 10;
    // The event the invariant broke right after is part of this cause's evidence (the write that
    // broke it).
    if (!failing && trace.has(anchor) &&
        std::find(c.events.begin(), c.events.end(), anchor) != c.events.end()) {
      c.score += 20;
    }
    // Closer to the violation is likelier to be the story (at most 10 points).
    c.score += static_cast<int>(10 * c.events.front() / std::max<std::uint64_t>(horizon, 1));
  }
  // At equal scores the later evidence first: the read an answer was computed from is the last
  // one its server made before answering.
  std::stable_sort(all.begin(), all.end(), [](const Cause& a, const Cause& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.events.front() > b.events.front();
  });
  if (all.size() > 8) all.resize(8);
  x.causes = std::move(all);

  // The minimal event sequence: the top causes' evidence (and what is behind the first), the
  // sends behind their deliveries, the client operations they serve, and the violation.
  std::set<std::uint64_t> slice(x.anchors.begin(), x.anchors.end());
  for (std::size_t i = 0; i < x.causes.size() && i < 2; ++i) {
    const auto& c = x.causes[i];
    if (i > 0 && c.score + 20 < x.causes.front().score) break;
    slice.insert(c.events.begin(), c.events.end());
    if (i == 0) {
      for (const auto& b : c.behind) slice.insert(b.events.begin(), b.events.end());
    }
  }
  for (const auto s : std::set<std::uint64_t>(slice)) {
    const auto& e = trace.at(s);
    if (e.kind == "deliver" && e.parents.size() > 1) slice.insert(e.parents.back());
    // A reply's send: the request it answers (the server's delivery, its previous event) and the
    // requester's send of it.
    if ((e.kind == "send" || e.kind == "annotation") && e.lane >= 0) {
      if (const auto request = request_of(trace, s)) {
        slice.insert(request);
        const auto& r = trace.at(request);
        if (r.parents.size() > 1) slice.insert(r.parents.back());
      }
    }
    // The client operation in progress at that event: its invoke.
    if (e.lane < 0 || e.kind == "complete") continue;
    for (auto p = s; p >= 1; --p) {
      const auto& prior = trace.at(p);
      if (prior.lane != e.lane) continue;
      if (prior.kind == "invoke") {
        slice.insert(p);
        break;
      }
      if (prior.kind == "complete" || prior.kind == "crash") break;
    }
  }
  for (const auto& e : trace.events) {
    if (e.kind == "violation") slice.insert(e.seq);
  }
  x.slice.assign(slice.begin(), slice.end());
  return x;
}

}  // namespace seer::explain
