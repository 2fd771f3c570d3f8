#include "promises/checker/history_model.hpp"

#include "promises/checker/candidate_times.hpp"
#include "promises/checker/observations.hpp"
#include "promises/checker/request_reading.hpp"
#include "promises/model/footprint.hpp"
#include "promises/model/model.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/state_codec.hpp"
#include "promises/model/state_hash.hpp"
#include "promises/model/validate.hpp"
#include "seer/check/model_registry.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

namespace seer::promises {

namespace {

using check::HistoryError;
using check::Operation;
using json = nlohmann::json;

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

std::string where(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + "): ";
}

// The member `name` of `j`, if `j` is an object that has it: found in the object's map (no JSON
// iterators), by the name's known length (a `const char*` is measured again at every key passed).
const json* member_of(const json& j, std::string_view name) {
  if (!j.is_object()) return nullptr;
  const auto& map = j.get_ref<const json::object_t&>();
  const auto it = map.find(name);
  return it != map.end() ? &it->second : nullptr;
}

// The invocation's request as recorded, if it needs nothing filled in (as the simulated clients'
// never do): read in place, not copied.
const json* recorded_request(const Operation& op) {
  const json* request = member_of(op.input, "request");
  if (request == nullptr || !request->is_object()) return nullptr;
  if (!member_of(*request, "kind") || !member_of(*request, "head")) return nullptr;
  return request;
}

json request_of(const Operation& op) {
  if (op.input.is_object() && op.input.contains("request") && op.input["request"].is_object()) {
    json request = op.input["request"];
    if (!request.contains("kind")) request["kind"] = op.f;
    if (!request.contains("head")) request["head"] = {{"corrId", ""}, {"version", ""}};
    return request;
  }
  throw HistoryError(where(op) + "invocation value needs {\"request\": {kind, head, data}}");
}

std::optional<std::int64_t> integer_field(const json& j, std::string_view name) {
  const json* field = member_of(j, name);  // looked up once
  if (field == nullptr || !field->is_number_integer()) return std::nullopt;
  return field->get<std::int64_t>();
}

const json kNull;

// The response a request was seen to give. Its data is read in place in the completion value (a
// call's operations outlive it, and moving one keeps its values' contents in place): a copy of
// every response would cost more than the search of a small history.
struct Response {
  int status = 0;
  const json* data = &kNull;
  bool operator==(const Response& other) const {
    return status == other.status && *data == *other.data;
  }
};

// What the search steps with: the parsed request and when the server applied it (if known).
struct CompiledRequest {
  // The request as recorded, read in place (compile's operations outlive the compiled history),
  // or `filled`, when request_of had to fill in its kind or head.
  const json* request = nullptr;
  std::shared_ptr<const json> filled;
  // Null: malformed, the model answers 400. Held apart: a call is moved a few times on its way to
  // the search (split by origin, then kept), and a request is costly to move. Shared: it may be
  // the recording client's own parse (RequestReading).
  std::shared_ptr<const Request> parsed;
  std::vector<std::string> ids;  // the promises it names
  std::optional<std::int64_t> now;
  std::vector<std::int64_t> candidates;  // for an unrecorded `now`
  std::vector<std::int64_t> replays;     // for an answer that may replay an earlier execution
  std::int64_t earliest = 0;             // before every time its partition shows
  std::int64_t invoke = 0;
  std::int64_t complete = 0;
  std::shared_ptr<const Observations> observations;  // its partition's
  std::string absent;                                // a promise its response shows missing (404)
  std::string only;  // the one promise it names, if one (see only_promise)
  // A valid debug.tick's own time (it runs at it): applying it where tick_finds_due says nothing is
  // due is known without the model's step.
  std::optional<std::int64_t> tick;
};

// The promise a response shows missing (spec PG1, PS1, RC1, RC2, RL1), if any.
std::string absent_promise(const json& request, int status, const json& response) {
  const std::string kind = request.value("kind", "");
  const json& data = request["data"];
  const char* field = nullptr;
  if (status == 404 && (kind == "promise.get" || kind == "promise.settle")) field = "id";
  if (status == 404 &&
      (kind == "promise.register_callback" || kind == "promise.register_listener")) {
    field = "awaited";
  }
  if (status == 422 && kind == "promise.register_callback" &&
      response == "Awaiter promise not found") {
    field = "awaiter";
  }
  if (field == nullptr || !data.is_object() || !data.contains(field) || !data[field].is_string()) {
    return {};
  }
  return data[field].get<std::string>();
}

// The one promise a request names, if it names exactly one. From a state without that promise such
// a request either creates it (a create) or changes nothing (every other kind answers 404 and its
// converge finds nothing); from a state with it, the promise stays (promises are never deleted).
// `ids`: the request's named_ids.
std::string only_promise(const std::vector<std::string>& ids) {
  return ids.size() == 1 ? ids.front() : std::string();
}

// Union-find over promise ids: ids an operation names together are one component.
class IdComponents {
 public:
  void link(const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    const std::size_t first = find(ids[0]);
    for (std::size_t i = 1; i < ids.size(); ++i) parent_[find(ids[i])] = root(first);
  }
  // The component's number (its root's); stable until the next link.
  std::size_t find(const std::string& id) {
    const auto [it, added] = index_.try_emplace(id, parent_.size());
    if (added) parent_.push_back(it->second);
    return root(it->second);
  }

 private:
  std::size_t root(std::size_t i) {
    while (parent_[i] != i) {
      parent_[i] = parent_[parent_[i]];  // path halving
      i = parent_[i];
    }
    return i;
  }
  std::unordered_map<std::string, std::size_t> index_;  // id -> its node
  std::vector<std::size_t> parent_;
};

// A checker state: the spec's σ and the latest `now` applied so far (spec §3.1: non-decreasing).
struct CheckedState {
  State state;
  std::int64_t last_now = kNoTime;
  bool operator==(const CheckedState&) const = default;
};

using Call = check::Call<CompiledRequest, Response>;

class PromisesHistoryModel {
 public:
  using State = CheckedState;
  using Input = CompiledRequest;
  using Output = Response;
  // Backtracking repeats (state, op) pairs: each transition is computed once.
  static constexpr bool kMemoizeSteps = true;

  State init() const { return {}; }
  void set_init(const std::string& text) {
    if (text.empty() || text == "nil" || text == "null" || text == "{}") return;
    throw std::invalid_argument("the promises model starts empty (--init nil)");
  }
  std::size_t hash(const State& s) const {
    return hash_state(s.state) * 31 + std::hash<std::int64_t>()(s.last_now);
  }
  std::string describe_state(const State& s) const {
    return state_to_json(s.state).dump() +
           (s.last_now == kNoTime ? "" : " @" + std::to_string(s.last_now));
  }

  // spec §10: partition by origin, valid when every operation stays inside one. The request is
  // parsed here once, for the key and for the call (compile_all(ops, calls) finishes it).
  std::pair<json, Call> partition_call(const Operation& op) const {
    Call call;
    CompiledRequest& c = call.input;
    if (const json* recorded = recorded_request(op)) {
      c.request = recorded;
      c.parsed = client_parse(op, *recorded);
    } else {
      c.filled = std::make_shared<const json>(request_of(op));
      c.request = c.filled.get();
    }
    if (!c.parsed) {
      auto parsed = parse_request(*c.request);
      if (auto* r = std::get_if<Request>(&parsed))
        c.parsed = std::make_shared<const Request>(std::move(*r));
    }
    std::string origin;
    if (c.parsed) {
      c.ids = named_ids(*c.parsed);
      const auto& ids = c.ids;
      if (!ids.empty()) origin = std::string(origin_of(ids.front()));
      for (const auto& id : ids) {
        if (origin_of(id) != origin) {
          throw HistoryError(where(op) + "names promises of two origins ('" + origin + "' and '" +
                             std::string(origin_of(id)) +
                             "'); the promises checker partitions the history by origin");
        }
      }
      if (ids.empty()) {
        const json* o = member_of(op.input, "origin");
        if (o != nullptr && o->is_string()) {
          origin = o->get<std::string>();
        } else if (c.parsed->kind == Kind::debug_tick) {
          throw HistoryError(where(op) +
                             "debug.tick needs \"origin\" in its invocation value (the origin it "
                             "swept)");
        }
      }
    }
    // A completion the model cannot read is reported by compile_all, naming the op as its
    // partition numbers it.
    if (!op.unknown()) {
      const json* status = member_of(op.output, "status");
      if (status != nullptr && status->is_number_integer()) {
        const json* data = member_of(op.output, "data");
        call.output = Response{status->get<int>(), data != nullptr ? data : &kNull};
      }
    }
    c.now = integer_field(op.input, "now");
    if (!c.now && call.output) c.now = integer_field(op.output, "now");
    if (c.parsed && c.parsed->kind == Kind::debug_tick) {
      c.now = std::get<DebugTickReq>(c.parsed->data).time;  // a sweep runs at its own time
      if (!validate(*c.parsed)) c.tick = c.now;
    }
    c.invoke = op.invoke;
    c.complete = op.complete;
    if (call.output) {
      c.absent = absent_promise(*c.request, call.output->status, *call.output->data);
    } else if (c.parsed) {
      c.only = only_promise(c.ids);
    }
    return {json(origin), std::move(call)};
  }

  // The recording client's parse of the request (a simulated run's), if it is a parse of this
  // very request: identical to the one it parsed. Else none, and the request is parsed here.
  static std::shared_ptr<const Request> client_parse(const Operation& op, const json& recorded) {
    const auto* reading = dynamic_cast<const RequestReading*>(op.reading.get());
    if (reading == nullptr || reading->parsed == nullptr || !reading->reads(recorded)) return {};
    return reading->parsed;
  }

  std::vector<Call> compile_all(const std::vector<Operation>& ops) const {
    std::vector<Call> calls;
    calls.reserve(ops.size());
    for (const auto& op : ops) calls.push_back(partition_call(op).second);
    return compile_all(ops, std::move(calls));
  }

  // One partition's calls, each compiled alone by partition_call, completed with what the
  // partition shows as a whole: its observations and the candidate times they give.
  std::vector<Call> compile_all(const std::vector<Operation>& ops, std::vector<Call> calls) const {
    CandidateTimes times;
    auto observed = std::make_shared<Observations>();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const Operation& op = ops[i];
      Call& call = calls[i];
      if (!op.unknown() && !call.output) {
        throw HistoryError(where(op) + "completion value needs the response's status and data");
      }
      if (call.input.parsed) times.add_request(*call.input.parsed);
      if (call.output) observed->add_response(*call.output->data);
      call.input.observations = observed;
    }
    // Before every time the partition records or shows, and every deadline it names.
    std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
    for (auto& call : calls) {
      CompiledRequest& c = call.input;
      if (!c.now && c.parsed) c.candidates = times.for_request(*c.parsed, c.ids, *observed);
      if (c.now && call.output && c.parsed && c.parsed->kind != Kind::debug_tick) {
        c.replays = times.for_request(*c.parsed, c.ids, *observed, *c.now);  // those before it
      }
      if (c.now) earliest = std::min(earliest, *c.now);
      if (!c.candidates.empty()) earliest = std::min(earliest, c.candidates.front());
      if (!c.replays.empty()) earliest = std::min(earliest, c.replays.front());
    }
    earliest = earliest == std::numeric_limits<std::int64_t>::max() ? 0 : add_time(earliest, -1);
    for (auto& call : calls) call.input.earliest = earliest;
    return calls;
  }

  // An outcome-unknown operation can matter only through a known operation on one of the promises
  // it could have touched: the ids it names and those linked to them by any operation (callbacks,
  // a fence's action, ...). If no known operation naming any of them ends after it began, leaving
  // it out changes no verdict (sweeps name no ids: one that changed σ did so either way, and a
  // change only moves `now` to the sweep's own time).
  std::vector<bool> prunable(const std::vector<Call>& calls,
                             const std::vector<Operation>& ops) const {
    IdComponents components;
    for (const auto& call : calls) components.link(call.input.ids);
    // For each component, the latest completion of a known operation that observes it.
    std::map<std::size_t, std::int64_t> observed_until;
    // Every known operation counts, even one whose response is fixed (a heartbeat's): whether it
    // changed σ decides which times may follow it (`now` never goes back).
    for (const auto& call : calls) {
      if (!call.output) continue;
      for (const auto& id : call.input.ids) {
        auto& until = observed_until[components.find(id)];
        until = std::max(until, call.input.complete);
      }
    }
    std::vector<bool> out(calls.size(), false);
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const auto& c = calls[i].input;
      if (!ops[i].unknown() || c.ids.empty()) continue;
      const auto it = observed_until.find(components.find(c.ids.front()));
      out[i] = it == observed_until.end() || it->second < c.invoke;
    }
    return out;
  }

  // Twins (identical requests of unknown outcome, whatever their corrId), and: an operation of
  // unknown outcome that names one promise comes after every operation that saw it missing. Placed
  // before one, it found the promise existing (then the 404 is impossible), created it (equally
  // impossible), or changed nothing (then leaving it out is the same witness).
  std::vector<std::vector<int>> required_before(const std::vector<Call>& calls,
                                                const std::vector<Operation>& ops) const {
    // Twins share their kind and `now`: only an operation that shares both with another has its
    // data dumped (the costly part of its key); any other has no twin (an empty key).
    std::vector<std::string> keys(calls.size());
    std::vector<std::string> kinds(calls.size());
    std::map<std::string, int> sharing;  // "kind now" -> the unknown operations that have them
    auto now_of = [](const CompiledRequest& c) {
      return c.now ? std::to_string(*c.now) : std::string("?");
    };
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].output) continue;
      kinds[i] = calls[i].input.request->value("kind", "");
      keys[i] = kinds[i] + " " + now_of(calls[i].input);
      ++sharing[keys[i]];
    }
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (keys[i].empty()) continue;
      if (sharing[keys[i]] < 2) {
        keys[i].clear();
        continue;
      }
      const auto& c = calls[i].input;
      const auto data = c.request->find("data");  // dumped in place: a copy costs more
      keys[i] = kinds[i] + " " + (data != c.request->end() ? data->dump() : json().dump()) + " " +
                now_of(c);
    }
    auto before = check::twin_orderings(ops, keys);
    std::map<std::string, std::vector<int>> missing_at;  // promise -> the ops that saw it missing
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (!calls[i].input.absent.empty()) {
        missing_at[calls[i].input.absent].push_back(static_cast<int>(i));
      }
    }
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].input.only.empty()) continue;
      const auto it = missing_at.find(calls[i].input.only);
      if (it != missing_at.end()) {
        before[i].insert(before[i].end(), it->second.begin(), it->second.end());
      }
    }
    return before;
  }

  // Ids an operation names are one component, and so are promises of one branch (PRELOAD shows
  // them together). An operation bears on another only through σ of its component or through
  // time: an unknown change can only raise the `now` later changes must reach (its promises' seq is
  // never shown). A sweep or a search names no ids and shows nothing of σ (-1). Any other kind
  // that names no ids (debug.snap, ...) may show all of σ: then there are no components.
  std::vector<int> components(const std::vector<Call>& calls,
                              const std::vector<Operation>& ops) const {
    (void)ops;
    IdComponents components;
    // Members are read in place (member_of): a copy costs more.
    // A promise's branch (its tags' resonate:branch), looked for before its id is read: most
    // promises have none.
    auto link_branch = [&](const json* object) {
      if (object == nullptr) return;
      const json* id = member_of(*object, "id");
      if (id != nullptr && !id->is_string()) (void)id->get<std::string>();  // a type error, as ever
      const json* tags = member_of(*object, "tags");
      const json* branch = tags != nullptr ? member_of(*tags, "resonate:branch") : nullptr;
      if (branch == nullptr || !branch->is_string()) return;
      components.link({id != nullptr ? id->get<std::string>() : std::string(),
                       "\x01branch " + branch->get<std::string>()});
    };
    for (const auto& call : calls) {
      const auto& c = call.input;
      if (c.ids.empty() && c.parsed) {
        const Kind kind = c.parsed->kind;
        const bool inert = kind == Kind::debug_tick || kind == Kind::promise_search ||
                           kind == Kind::task_search || kind == Kind::task_heartbeat;
        if (!inert) return {};
      }
      components.link(c.ids);
      const json* data = member_of(*c.request, "data");
      if (c.parsed && c.parsed->kind == Kind::promise_create) link_branch(data);
      if (const json* action = data != nullptr ? member_of(*data, "action") : nullptr) {
        link_branch(member_of(*action, "data"));
      }
      if (call.output) link_branch(member_of(*call.output->data, "promise"));
    }
    std::map<std::size_t, int> numbers;
    std::vector<int> out;
    for (const auto& call : calls) {
      const auto& ids = call.input.ids;
      if (ids.empty()) {
        out.push_back(-1);
        continue;
      }
      out.push_back(numbers.emplace(components.find(ids.front()), static_cast<int>(numbers.size()))
                        .first->second);
    }
    return out;
  }

  void step(const State& from, const CompiledRequest& c, const std::optional<Response>& seen,
            check::NextStates<State>& next) const {
    if (c.now) {
      push(next, apply_at(from, c, seen, *c.now));
      for (auto& to : replayed(from, c, seen)) {
        bool known = false;
        for (std::size_t k = 0; k < next.size() && !known; ++k) {
          known = (next.at(k) ? *next.at(k) : from) == to;
        }
        if (!known) next.push(std::move(to));
      }
      return;
    }
    // Every distinguishable time at or after the last one; of those giving the same σ, the
    // earliest, which constrains the operations after it least.
    // The earliest time allowed (the last one applied, or before anything the partition shows),
    // then the start of every later interval the history distinguishes.
    const std::int64_t bottom = from.last_now != kNoTime ? from.last_now : c.earliest;
    std::vector<std::int64_t> times{bottom};
    for (auto t : c.candidates) {
      if (t > bottom) times.push_back(t);
    }
    for (auto t : times) {
      auto to = apply_at(from, c, seen, t);
      if (!to.possible) continue;
      // σ seen at an earlier time: `next` holds this step's effects only.
      const promises::State& sigma = to.changed ? to.changed->state : from.state;
      bool known = false;
      for (std::size_t k = 0; k < next.size() && !known; ++k) {
        known = (next.at(k) ? next.at(k)->state : from.state) == sigma;
      }
      if (!known) push(next, std::move(to));
    }
  }

 private:
  // What applying a request at one time gave: impossible, `from` itself, or a changed state.
  struct Effect {
    bool possible = false;
    std::optional<State> changed;  // none: the state it came from, unchanged
  };
  static Effect impossible() { return {}; }
  static Effect unchanged() { return {true, std::nullopt}; }

  static void push(check::NextStates<State>& next, Effect effect) {
    if (!effect.possible) return;
    if (effect.changed) {
      next.push(std::move(*effect.changed));
    } else {
      next.push_unchanged();
    }
  }

  // At-least-once delivery (a duplicated request, a proxy's retry, a server that crashed after
  // its write and before its reply): the answer may come from a second execution of the request,
  // the first having taken effect, unanswered, at an earlier time. Accepted only where the second
  // execution succeeds (2xx), as the requests idempotent by id do (spec §5.0). Seed 35552 of
  // `final`: a create's answer showing createdAt 120 ms before the answer's `now`.
  static std::vector<State> replayed(const State& from, const CompiledRequest& c,
                                     const std::optional<Response>& seen) {
    std::vector<State> out;
    if (c.replays.empty() || !seen || seen->status < 200 || seen->status >= 300) return out;
    const std::int64_t bottom = from.last_now != kNoTime ? from.last_now : c.earliest;
    std::vector<std::int64_t> times{bottom};
    for (auto t : c.replays) {
      if (t > bottom) times.push_back(t);
    }
    for (auto t : times) {
      if (t >= *c.now) continue;
      auto first = apply_at(from, c, std::nullopt, t);
      if (!first.changed) continue;  // impossible, or no earlier effect to replay
      auto second = apply_at(*first.changed, c, seen, *c.now);
      if (!second.possible) continue;
      State to = second.changed ? std::move(*second.changed) : std::move(*first.changed);
      if (std::find_if(out.begin(), out.end(),
                       [&](const State& s) { return s.state == to.state; }) == out.end()) {
        out.push_back(std::move(to));
      }
    }
    return out;
  }

  // Applies the request at `now`, checking the response `seen` if there is one. `now` never goes
  // back (spec §3.1), but an operation that leaves σ unchanged does not move it either: such an
  // operation answers the same at every time between the last change and its own (converging is
  // monotone in `now`), so it is re-timed to the last change's time, which constrains the
  // operations after it least. One applied before the last change's time is accepted only if it
  // answers the same, and changes nothing, at that time.
  static Effect apply_at(const State& from, const CompiledRequest& c,
                         const std::optional<Response>& seen, std::int64_t now) {
    const bool retimed = from.last_now != kNoTime && now < from.last_now;
    const std::int64_t at = retimed ? from.last_now : now;
    if (c.tick && !tick_finds_due(from.state, *c.tick)) {
      // A valid sweep that finds nothing due answers 200 [] and changes nothing (what answer()
      // gives, without copying σ): the server skips such ticks the same way.
      static const json kNothing = json::array();
      if (seen && (seen->status != 200 || *seen->data != kNothing)) return impossible();
      return unchanged();
    }
    if (c.parsed && reads_only(from.state, *c.parsed, at)) {  // a read: σ needs no copy
      if (seen && !answers_unchanged(from.state, *c.parsed, at, seen->status, *seen->data)) {
        return impossible();
      }
      return unchanged();
    }
    State to = from;
    if (c.parsed) {
      // Only the status and data are compared (in place): no envelope, no messages.
      if (!seen) {
        apply_effect(to.state, *c.parsed, at);
      } else if (!answers(to.state, *c.parsed, at, seen->status, *seen->data)) {
        return impossible();
      }
    } else {
      const auto result = apply(to.state, *c.request, at);
      if (seen) {
        const auto& response = result.response;
        static const json kNoData;
        const auto data = response.find("data");  // compared in place: a copy costs more
        if (response["head"]["status"] != seen->status ||
            (data != response.end() ? *data : kNoData) != *seen->data) {
          return impossible();
        }
      }
    }
    // last_now unchanged. `from` is consistent (the initial σ is empty; every other state passed
    // the test below), and so is the same σ.
    if (to.state == from.state) return unchanged();
    if (!c.observations->consistent_after(from.state, to.state)) return impossible();
    if (retimed) return impossible();  // a change at a time before the last change's
    to.last_now = at;
    return {true, std::move(to)};
  }
};

}  // namespace

void register_history_model() {
  static const bool once = [] {
    check::register_model<PromisesHistoryModel>(
        "promises",
        "Resonate's promises API, one request per operation, checked per origin (see "
        "systems/promises)");
    return true;
  }();
  (void)once;
}

}  // namespace seer::promises
