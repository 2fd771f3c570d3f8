// A write made from a partial answer (lost_response, `how: written_without_answer`): a process
// asked a service something that changed nothing there (a read), gave up waiting for the answer
// (its receive timeout on that request fired while the answer was dropped or still on its way, or
// after the request itself was lost), and then wrote something about what it had asked (a name
// with a digit that both carry: a round, an order) without asking again: the write was built from
// the answers that did arrive, the silence counted as an answer. A fan-out read that publishes
// the whole from some of its parts, or a check that takes no answer for "none".
#include "causes.hpp"
#include "entities.hpp"
#include "silence.hpp"
#include "sql_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// The strings a payload names (not a statement's text, an operation or a status), at most 32.
void names_in(const nlohmann::json& j, std::vector<std::string>& out, int depth = 0) {
  if (depth > 8 || out.size() >= 32) return;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k != "sql" && k != "op" && k != "type" && k != "status") names_in(v, out, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) names_in(v, out, depth + 1);
  }
}

bool has_digit(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

// The words of a name: its runs of letters, digits, '-' and '_' ("sum shard_b r-28" -> "sum",
// "shard_b", "r-28"; "report/r-28" -> "report", "r-28").
std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  std::string word;
  for (const char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') {
      word += ch;
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// A word with a digit (an id: a round, an order) that `asked_names` and `written_names` both
// carry; empty if none. The requester's own name is no data.
std::string shared_id(const std::vector<std::string>& asked_names,
                      const std::vector<std::string>& written_names, const std::string& own) {
  std::vector<std::string> asked_words;
  for (const auto& n : asked_names) {
    for (auto& w : words_of(n)) {
      if (w.size() >= 3 && w != own && has_digit(w)) asked_words.push_back(std::move(w));
    }
  }
  for (const auto& n : written_names) {
    for (const auto& w : words_of(n)) {
      if (std::find(asked_words.begin(), asked_words.end(), w) != asked_words.end()) return w;
    }
  }
  return "";
}

// What a request asks, less what it is about: its type, its operation and its statements' text
// ("kv_request get", "sql_request SELECT ..."). Two requests of one shape do the same to
// different things.
std::string shape_of(const TraceEvent& send) {
  std::string out = send.type;
  const auto payload = send.line.find("payload");
  if (payload == send.line.end() || !payload->is_object()) return out;
  if (const auto op = payload->find("op"); op != payload->end() && op->is_string()) {
    out += ' ';
    out += op->get_ref<const std::string&>();
  }
  const auto statements = payload->find("statements");
  if (statements != payload->end() && statements->is_array()) {
    for (const auto& st : *statements) {
      if (!st.is_object()) continue;
      if (const auto sql = st.find("sql"); sql != st.end() && sql->is_string()) {
        out += '|';
        out += sql->get_ref<const std::string&>();
      }
    }
  }
  return out;
}

// Whether a request only reads, by the services' own vocabulary (docs/services.md): a KV or
// object store `get` or `list`, or SQL statements that are each a plain SELECT.
bool reads_only(const nlohmann::json& request) {
  if (!request.is_object()) return false;
  const auto op = request.value("op", std::string());
  if (op == "get" || op == "list") return true;
  const auto statements = request.find("statements");
  if (statements == request.end() || !statements->is_array() || statements->empty()) return false;
  return std::all_of(statements->begin(), statements->end(), [](const nlohmann::json& st) {
    if (!st.is_object()) return false;
    const auto sql = st.value("sql", std::string());
    return sql_verb(sql) == "SELECT" && upper_ascii(sql).find(" FOR UPDATE") == std::string::npos;
  });
}

constexpr int kActLooked = 64;       // of the requester's events after the give-up
constexpr int kShapesCompared = 16;  // requests of the same shape looked at

}  // namespace

std::string shared_id_word(const nlohmann::json& asked, const nlohmann::json& written,
                           const std::string& own) {
  std::vector<std::string> asked_names;
  std::vector<std::string> written_names;
  names_in(asked, asked_names);
  names_in(written, written_names);
  return shared_id(asked_names, written_names, own);
}

std::vector<Cause> detect_writes_without_answer(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto services = service_lanes(c.index);
  if (services.empty()) return out;
  // Each requester's accesses by server and request number (the number its reply, or the
  // service's note of it, carries), for its reads and its acts: built for a requester when a
  // request of its given up on is found.
  using Key = std::pair<int, std::int64_t>;
  std::map<int, std::map<Key, const Access*>> requests;
  const auto number_of = [&](const TraceEvent& e) -> std::optional<std::int64_t> {
    for (const auto* j : {&e.line, &e.oracle()}) {
      const auto payload = j->find("payload");
      const auto* holder = payload != j->end() && payload->is_object() ? &*payload : j;
      if (!holder->is_object()) continue;
      const auto req = holder->find("req");
      if (req != holder->end() && req->is_number_integer()) return req->get<std::int64_t>();
    }
    return std::nullopt;
  };
  const auto requests_of = [&](int lane) -> const std::map<Key, const Access*>& {
    const auto found = requests.find(lane);
    if (found != requests.end()) return found->second;
    auto& mine = requests[lane];
    for (const auto& a : c.index.accesses) {
      if (a.client != lane || a.served > c.horizon || !t.has(a.served)) continue;
      if (const auto req = number_of(t.at(a.served))) mine.emplace(Key{a.server, *req}, &a);
    }
    return mine;
  };
  // The access a send of the requester's asked for, if any.
  const auto access_of = [&](const std::map<Key, const Access*>& mine,
                             const TraceEvent& send) -> const Access* {
    const auto req = number_of(send);
    if (!req) return nullptr;
    const auto found = mine.find(Key{send.peer, *req});
    return found == mine.end() ? nullptr : found->second;
  };
  for (const auto& timeout : t.events) {
    if (timeout.seq > c.horizon) break;
    if (!is_receive_timeout(timeout)) continue;
    const int lane = timeout.lane;
    // The request it waited on: its send among the timeout's parents.
    std::uint64_t request = 0;
    for (const auto p : timeout.parents) {
      if (t.has(p) && t.at(p).lane == lane && t.at(p).kind == EventKind::kSend) request = p;
    }
    if (request == 0) continue;
    const auto& sent = t.at(request);
    if (!services.count(sent.peer)) continue;
    const auto payload = sent.line.value("payload", nlohmann::json());
    if (!payload.is_object() || !payload.contains("req")) continue;
    const auto req = payload["req"];
    // Its answer: the server's send back carrying the request's number before the give-up, and
    // whether it arrived before the give-up (then nothing was given up on). An answer sent only
    // after the give-up came from a slow server, not a silent one.
    std::uint64_t answer = 0;
    bool answered = false;
    for (auto s = request + 1; s < timeout.seq && t.has(s) && !answered; ++s) {
      const auto& e = t.at(s);
      const bool back = e.kind == EventKind::kSend && e.lane == sent.peer && e.peer == lane;
      const bool in = e.kind == EventKind::kDeliver && e.lane == lane && e.peer == sent.peer;
      if (!back && !in) continue;
      const auto p = e.line.find("payload");
      if (p == e.line.end() || !p->is_object()) continue;
      if (const auto r = p->find("req"); r == p->end() || *r != req) continue;
      if (back && answer == 0) answer = s;
      answered = in;
    }
    if (answered) continue;
    // Asked again at once (its next send after the give-up is the same request to the same
    // server, or a send naming nothing it asked): a retry, no act on the silence. Looked at
    // before the requester's accesses are indexed.
    std::vector<std::string> asked_names;
    names_in(asked(t, request), asked_names);
    const auto own = t.lane_name(lane);
    bool named_after = false;
    bool retried = false;
    int scanned = 0;
    for (auto s = timeout.seq + 1; s <= c.horizon && t.has(s) && scanned < kActLooked; ++s) {
      const auto& e = t.at(s);
      if (e.lane != lane) continue;
      ++scanned;
      if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart) break;
      if (e.kind != EventKind::kSend) continue;
      if (e.peer == sent.peer && asked(t, s) == asked(t, request)) {
        retried = true;
        break;
      }
      std::vector<std::string> names;
      names_in(asked(t, s), names);
      if (!shared_id(asked_names, names, own).empty()) {
        named_after = true;
        break;
      }
    }
    if (retried || !named_after) continue;
    const auto& by_request = requests_of(lane);
    const auto request_drop = c.index.drop_of.find(sent.message);
    const bool request_lost =
        request_drop != c.index.drop_of.end() && request_drop->second <= c.horizon;
    const auto delivered = c.index.deliver_of.find(sent.message);
    std::uint64_t answer_drop = 0;
    if (answer) {
      // A read: it changed nothing at the server (a write that took effect is the other forms').
      const auto* found = access_of(by_request, sent);
      if (!found || found->write || !found->read) continue;
      const auto d = c.index.drop_of.find(t.at(answer).message);
      if (d != c.index.drop_of.end() && d->second <= c.horizon) answer_drop = d->second;
    } else if (!request_lost && delivered != c.index.deliver_of.end() &&
               delivered->second < timeout.seq) {
      continue;  // received and not answered yet: slow, not silent
    } else if (!reads_only(asked(t, request))) {
      // A request that never arrived changed nothing, but was it a read? By the services'
      // vocabulary, or else its requester's other requests of the same shape to the same server
      // (the first kShapesCompared) were all reads, some answered.
      const auto shape = shape_of(sent);
      bool read = false;
      bool wrote = false;
      int compared = 0;
      for (const auto& [key, a] : by_request) {
        if (key.first != sent.peer || a == access_of(by_request, sent)) continue;
        const auto send = request_sent(t, c.index, *a);
        if (send == request || !t.has(send) || shape_of(t.at(send)) != shape) continue;
        read = read || (a->read && a->delivered);
        wrote = wrote || a->write;
        if (wrote || ++compared >= kShapesCompared) break;
      }
      if (wrote || !read) continue;
    }
    // The act: its first write to a service after the give-up that took effect (reads of other
    // servers and their answers may come between: the parts it still gathered), before it asked
    // the same server again, crashed or restarted, within its next kActLooked events.
    std::uint64_t act = 0;
    int looked = 0;
    for (auto s = timeout.seq + 1; s <= c.horizon && t.has(s) && looked < kActLooked; ++s) {
      const auto& e = t.at(s);
      if (e.lane != lane) continue;
      ++looked;
      if (e.kind == EventKind::kCrash || e.kind == EventKind::kRestart) break;
      if (e.kind != EventKind::kSend) continue;
      if (e.peer == sent.peer) {
        act = s;  // asked the same server again: the act only if it is a write, not a retry
        break;
      }
      const auto* w = access_of(by_request, e);
      if (w && w->write) {
        act = s;
        break;
      }
      if (!w || !w->read) break;  // a message of another kind
    }
    if (act == 0) continue;
    if (t.at(act).peer == sent.peer && asked(t, act) == asked(t, request)) continue;  // a retry
    const auto* effect = access_of(by_request, t.at(act));
    if (!effect || !effect->write) continue;
    const auto& w = *effect;
    std::vector<std::string> written_names;
    names_in(asked(t, act), written_names);
    const auto shared = shared_id(asked_names, written_names, own);
    if (shared.empty()) continue;
    Cause cause;
    cause.kind = "lost_response";
    cause.process = own;
    cause.events = {answer ? answer : request};
    if (answer_drop) cause.events.push_back(answer_drop);
    if (request_lost) cause.events.push_back(request_drop->second);
    cause.events.push_back(timeout.seq);
    cause.events.push_back(w.served);
    cause.events.push_back(act);
    cause.facts = {{"how", "written_without_answer"}, {"request_event", request},
                   {"timeout_event", timeout.seq},    {"act_event", act},
                   {"act_effect_event", w.served},    {"shared", shared}};
    if (answer) cause.facts["answer_event"] = answer;
    if (answer_drop) cause.facts["drop_event"] = answer_drop;
    if (request_lost) cause.facts["request_drop_event"] = request_drop->second;
    std::string what;
    if (answer_drop) {
      what = fmt::format("its answer (#{}) was dropped at #{}", answer, answer_drop);
    } else if (answer) {
      what = fmt::format("its answer (#{}) was still on its way", answer);
    } else if (request_lost) {
      what = fmt::format("the request was dropped at #{}", request_drop->second);
    } else {
      what = "the request was still on its way";
    }
    cause.summary = fmt::format(
        "{} asked {} at #{} ({}), but {} when {} gave up waiting at #{} ({}); it then wrote {} at "
        "#{} ({}), about {} as the request was, without that answer and without asking again: "
        "the write counted the silence as an answer",
        own, t.lane_name(sent.peer), request, format_time(sent.time), what, own, timeout.seq,
        format_time(timeout.time), access_named(t, w), w.served, format_time(t.at(w.served).time),
        shared);
    out.push_back(std::move(cause));
  }
  return out;
}

}  // namespace seer::explain
