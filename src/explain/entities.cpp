#include "entities.hpp"

#include "accesses.hpp"
#include "causes.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace seer::explain {

namespace {

// Numbers that count requests, responses, versions or time, never application data: a small
// entity number ("job 5") would match them everywhere.
bool bookkeeping(const std::string& field) {
  static const std::set<std::string> kFields = {"req",
                                                "serial",
                                                "revision",
                                                "mod_revision",
                                                "expected",
                                                "etag",
                                                "seq",
                                                "message_id",
                                                "commit_index",
                                                "served_revision",
                                                "rows_changed",
                                                "in_flight_ns",
                                                "versions_behind",
                                                "time",
                                                "now",
                                                "attempt",
                                                "life",
                                                "incarnation",
                                                "lease_ns",
                                                "ttl",
                                                "ttl_ns",
                                                "timeout",
                                                "timeout_ns",
                                                "deadline",
                                                "expires",
                                                "expires_at",
                                                "clock_offset_ns",
                                                "clock_drift_ppm",
                                                "pause_ns",
                                                "paused_ns",
                                                "changes",
                                                "behind_ns",
                                                "bytes",
                                                "status",
                                                "count"};
  return kFields.count(field) > 0;
}

bool numeric(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isdigit(static_cast<unsigned char>(ch)) || ch == '-';
  });
}

bool separator(char ch) {
  return ch == '/' || ch == ':' || ch == '.' || ch == '#' || ch == '@' || ch == '|';
}

bool names_value(const nlohmann::json& j, const std::string& entity, bool numeric_entity) {
  if (j.is_number()) return numeric_entity && j.dump() == entity;
  if (j.is_string()) return string_names(j.get_ref<const std::string&>(), entity);
  if (j.is_array()) {
    if (!numeric_entity && entity.front() == '[' && j.dump() == entity) return true;
    return std::any_of(j.begin(), j.end(), [&](const nlohmann::json& v) {
      return names_value(v, entity, numeric_entity);
    });
  }
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (bookkeeping(k) && !v.is_string() && !v.is_array()) continue;
      if (names_value(v, entity, numeric_entity)) return true;
    }
  }
  return false;
}

// A number in the oracle's record of data: a row written, a latest value, a result before and
// after.
bool oracle_data_names(const nlohmann::json& j, const std::string& entity, int depth) {
  if (depth > 8 || !j.is_structured()) return false;
  static const std::set<std::string> kData = {"row",    "rows",  "latest_value", "value",
                                              "before", "after", "results"};
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (kData.count(k) ? names_value(v, entity, true) : oracle_data_names(v, entity, depth + 1)) {
        return true;
      }
    }
    return false;
  }
  return std::any_of(j.begin(), j.end(), [&](const nlohmann::json& v) {
    return oracle_data_names(v, entity, depth + 1);
  });
}

void collect_strings(const nlohmann::json& j, std::set<std::string>& out, int depth = 0) {
  if (depth > 8) return;
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.size() <= 64) out.insert(s);
  } else if (j.is_array() || j.is_object()) {
    for (const auto& v : j) collect_strings(v, out, depth + 1);
  }
}

}  // namespace

bool key_is_data(const std::string& key) {
  return key.size() >= 2 && std::any_of(key.begin(), key.end(), [](char ch) {
           return std::isdigit(static_cast<unsigned char>(ch));
         });
}

// "obj-3" in "files/obj-3", "wf" in "wf:1", "inv-12" in "inv-12"; not "obj-3" in "obj-30".
bool string_names(const std::string& s, const std::string& entity) {
  if (entity.empty() || s.size() < entity.size()) return false;
  for (auto at = s.find(entity); at != std::string::npos; at = s.find(entity, at + 1)) {
    const auto end = at + entity.size();
    const bool left = at == 0 || separator(s[at - 1]);
    const bool right = end == s.size() || separator(s[end]);
    if (left && right) return true;
  }
  return false;
}

namespace {

// The identifiers a message names by their form (tags, words with a digit, quoted strings) into
// `out`, and its other words of three or more characters into `plain_words`.
void tokens_of(const std::string& message, std::vector<std::string>& out,
               std::vector<std::string>& plain_words) {
  auto add = [&](std::string token) {
    if (!token.empty() && std::find(out.begin(), out.end(), token) == out.end()) {
      out.push_back(std::move(token));
    }
  };
  std::size_t i = 0;
  auto word_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '-' || ch == '_' ||
           ch == '.' || ch == ':' || ch == '#';
  };
  while (i < message.size()) {
    const char ch = message[i];
    if (ch == '[') {
      const auto end = message.find(']', i);
      if (end == std::string::npos) break;
      std::string tag;
      for (auto k = i; k <= end; ++k) {
        if (message[k] != ' ') tag += message[k];
      }
      add(tag);
      i = end + 1;
      continue;
    }
    if (ch == '\'' || ch == '"' || ch == '`') {
      const auto end = message.find(ch, i + 1);
      if (end != std::string::npos && end > i + 1 && end - i < 80) {
        add(message.substr(i + 1, end - i - 1));
        i = end + 1;
        continue;
      }
    }
    if (!word_char(ch)) {
      ++i;
      continue;
    }
    auto j = i;
    while (j < message.size() && word_char(message[j])) ++j;
    std::string word = message.substr(i, j - i);
    while (!word.empty() && (word.back() == '.' || word.back() == '-' || word.back() == ':')) {
      word.pop_back();
    }
    if (word.size() > 2 && word.compare(word.size() - 2, 2, "'s") == 0)
      word.resize(word.size() - 2);
    if (std::any_of(word.begin(), word.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      add(word);
    } else if (word.size() >= 3) {
      plain_words.push_back(word);
    }
    i = j;
  }
}

}  // namespace

std::vector<std::string> entities_named(const std::string& message, const Trace& trace) {
  std::vector<std::string> out;
  std::vector<std::string> plain_words;
  tokens_of(message, out, plain_words);
  if (plain_words.empty()) return out;
  // A plain word is an entity only if the run's data uses it as a whole key, label or value.
  std::set<std::string> vocabulary;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kViolation) continue;
    for (const char* field : {"key", "payload", "value"}) {
      const auto it = e.line.find(field);
      if (it != e.line.end()) collect_strings(*it, vocabulary);
    }
  }
  for (const auto& w : plain_words) {
    if (vocabulary.count(w) && std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  }
  return out;
}

namespace {

// The entities the check listed itself (Finding::entities), empty names left out.
std::set<std::string> listed_entities(const nlohmann::json& violation) {
  std::set<std::string> out;
  for (const auto& e : violation.value("entities", nlohmann::json::array())) {
    if (e.is_string() && !e.get_ref<const std::string&>().empty()) out.insert(e.get<std::string>());
  }
  return out;
}

}  // namespace

std::set<std::string> violation_entities(const Trace& trace) {
  const auto& v = trace.violation();
  if (!v.is_object()) return {};
  auto out = listed_entities(v);
  // Every word of the message: one that is no string of the trace's data cannot equal a value
  // the caller compares it with, so the data is not scanned for the vocabulary.
  std::vector<std::string> tokens;
  std::vector<std::string> plain_words;
  tokens_of(v.value("message", std::string()), tokens, plain_words);
  out.insert(tokens.begin(), tokens.end());
  out.insert(plain_words.begin(), plain_words.end());
  return out;
}

std::set<std::string> checked_entities(const Trace& trace) {
  const auto& v = trace.violation();
  if (!v.is_object()) return {};
  auto out = listed_entities(v);
  if (!out.empty()) return out;
  for (auto& e : entities_named(v.value("message", std::string()), trace)) {
    out.insert(std::move(e));
  }
  return out;
}

std::set<std::string> violated_names(const DetectContext& c) {
  if (c.violated) return {c.violated->begin(), c.violated->end()};
  return checked_entities(c.trace);
}

std::vector<std::uint64_t> sends_naming(const DetectContext& c,
                                        const std::set<std::string>& named) {
  std::vector<std::uint64_t> out;
  if (named.empty()) return out;
  for (const auto& e : c.trace.events) {
    if (e.seq > c.horizon) break;
    if (e.kind != EventKind::kSend || e.lane == kSimLane || e.peer == kSimLane) continue;
    if (data_names_any(e.line.value("payload", nlohmann::json()), named)) out.push_back(e.seq);
  }
  return out;
}

bool data_names(const nlohmann::json& data, const std::string& entity) {
  if (entity.empty()) return false;
  return names_value(data, entity, numeric(entity));
}

bool data_names_any(const nlohmann::json& data, const std::set<std::string>& entities) {
  return std::any_of(entities.begin(), entities.end(),
                     [&](const std::string& n) { return data_names(data, n); });
}

bool event_names(const TraceEvent& e, const std::string& entity) {
  if (e.kind == EventKind::kViolation) return false;
  for (const char* field : {"key", "payload", "value", "keys"}) {
    const auto it = e.line.find(field);
    if (it != e.line.end() && data_names(*it, entity)) return true;
  }
  const auto& oracle = e.oracle();
  if (!oracle.is_object()) return false;
  // What the oracle recorded about the data (a service's key or rows, the latest value), not its
  // own bookkeeping: its counters are numbers, so a number is looked for only in data fields.
  if (!numeric(entity)) return data_names(oracle, entity);
  return oracle_data_names(oracle, entity, 0);
}

bool event_names_any(const TraceEvent& e, const std::set<std::string>& entities) {
  return std::any_of(entities.begin(), entities.end(),
                     [&](const std::string& n) { return event_names(e, n); });
}

std::set<std::uint64_t> events_touching(const Trace& trace, const std::string& entity) {
  std::set<std::uint64_t> out;
  std::set<std::uint64_t> messages;  // ids of messages whose send names the entity
  std::map<std::uint64_t, std::uint64_t> send_of;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend) send_of.emplace(e.message, e.seq);
  }
  // A SQL read's reply by (service, serial): a commit touching the entity that changed what the
  // read returned makes that read part of the entity's story (it missed the entity).
  std::map<std::pair<std::string, std::uint64_t>, std::vector<std::uint64_t>> replies;
  for (const auto& e : trace.events) {
    const auto& o = e.oracle();
    if (!o.is_object() || !o.contains("service") || !o["service"].is_object()) continue;
    const auto& f = o["service"];
    if (f.contains("serial") && f.contains("statements")) {
      replies[{f.value("name", std::string()), f.value("serial", std::uint64_t{0})}].push_back(
          e.seq);
    }
  }
  std::set<std::uint64_t> missed;
  for (const auto& e : trace.events) {
    const bool named = event_names(e, entity) || missed.count(e.seq) > 0;
    if (named) out.insert(e.seq);
    const auto& o = e.oracle();
    if (named && o.is_object() && o.contains("service") && o["service"].is_object()) {
      const auto& f = o["service"];
      for (const auto& r : f.value("overtook", nlohmann::json::array())) {
        const auto it =
            replies.find({f.value("name", std::string()), r.value("serial", std::uint64_t{0})});
        if (it == replies.end()) continue;
        for (const auto s : it->second) {
          (s < e.seq ? out : missed).insert(s);
        }
      }
    }
    if (e.kind == EventKind::kSend && named) messages.insert(e.message);
    if ((e.kind == EventKind::kDeliver || e.kind == EventKind::kDrop ||
         e.kind == EventKind::kDuplicate) &&
        e.message != 0 && messages.count(e.message)) {
      out.insert(e.seq);
    }
    // A reply (a send carrying a request number) to a request that names the entity.
    if (e.kind == EventKind::kSend && !named && e.lane != kSimLane) {
      const auto request = request_of(trace, e.seq);
      if (request != 0 && out.count(request)) {
        out.insert(e.seq);
        messages.insert(e.message);
      }
    }
  }
  return out;
}

}  // namespace seer::explain
