#include "promises/checker/history_model.hpp"

#include "promises/checker/candidate_times.hpp"
#include "promises/model/footprint.hpp"
#include "promises/model/model.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/state_codec.hpp"
#include "seer/check/model.hpp"

#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

namespace seer::promises {

namespace {

using check::CompiledOp;
using check::HistoryError;
using check::Operation;
using json = nlohmann::json;

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

std::string where(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + "): ";
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

std::optional<std::int64_t> integer_field(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) return std::nullopt;
  if (!j[name].is_number_integer()) return std::nullopt;
  return j[name].get<std::int64_t>();
}

// What the search steps with: the parsed request, when the server applied it (if known), and the
// response it must give (if observed).
struct CompiledRequest {
  json request;
  std::optional<Request> parsed;  // nullopt: malformed, the model answers 400
  std::optional<std::int64_t> now;
  std::shared_ptr<const std::vector<std::int64_t>> candidates;  // for an unrecorded `now`
  bool observed = false;
  int status = 0;
  json data;
};

// A checker state: the spec's σ and the latest `now` applied so far (spec §3.1: non-decreasing).
struct CheckedState {
  State state;
  std::int64_t last_now = kNoTime;
};

class PromisesHistoryModel : public check::Model {
 public:
  PromisesHistoryModel() { set_initial(intern(CheckedState{})); }
  std::string name() const override { return "promises"; }
  bool partitioned() const override { return true; }

  check::State parse_initial(const std::string& text) const override {
    if (text.empty() || text == "nil" || text == "null" || text == "{}") return initial();
    throw std::invalid_argument("the promises model starts empty (--init nil)");
  }

  // spec §10: partition by origin, valid when every operation stays inside one.
  std::optional<std::pair<json, Operation>> split(const Operation& op) const override {
    const json request = request_of(op);
    auto parsed = parse_request(request);
    std::string origin;
    if (const auto* r = std::get_if<Request>(&parsed)) {
      const auto ids = named_ids(*r);
      if (!ids.empty()) origin = std::string(origin_of(ids.front()));
      for (const auto& id : ids) {
        if (origin_of(id) != origin) {
          throw HistoryError(where(op) + "names promises of two origins ('" + origin + "' and '" +
                             std::string(origin_of(id)) +
                             "'); the promises checker partitions the history by origin");
        }
      }
      if (ids.empty()) {
        const auto o = op.input.find("origin");
        if (o != op.input.end() && o->is_string()) {
          origin = o->get<std::string>();
        } else if (r->kind == Kind::debug_tick) {
          throw HistoryError(where(op) +
                             "debug.tick needs \"origin\" in its invocation value (the origin it "
                             "swept)");
        }
      }
    }
    return std::make_pair(json(origin), op);
  }

  CompiledOp compile(const Operation& op) const override { return compile_all({op}).front(); }

  std::vector<CompiledOp> compile_all(const std::vector<Operation>& ops) const override {
    std::vector<CompiledRequest> compiled;
    CandidateTimes times;
    for (const auto& op : ops) {
      CompiledRequest c;
      c.request = request_of(op);
      auto parsed = parse_request(c.request);
      if (auto* r = std::get_if<Request>(&parsed)) c.parsed = std::move(*r);
      if (!op.unknown()) {
        if (!op.output.is_object() || !op.output.contains("status") ||
            !op.output["status"].is_number_integer()) {
          throw HistoryError(where(op) + "completion value needs the response's status and data");
        }
        c.observed = true;
        c.status = op.output["status"].get<int>();
        c.data = op.output.value("data", json());
      }
      c.now = integer_field(op.input, "now");
      if (!c.now && c.observed) c.now = integer_field(op.output, "now");
      if (c.parsed && c.parsed->kind == Kind::debug_tick) {
        c.now = std::get<DebugTickReq>(c.parsed->data).time;  // a sweep runs at its own time
      }
      if (c.parsed) times.add_request(*c.parsed);
      if (c.observed) times.add_response(c.data);
      compiled.push_back(std::move(c));
    }
    auto candidates = std::make_shared<const std::vector<std::int64_t>>(times.candidates());
    std::vector<CompiledOp> out;
    std::lock_guard lock(mutex_);
    for (auto& c : compiled) {
      if (!c.now) c.candidates = candidates;
      CompiledOp op;
      op.a = static_cast<std::int64_t>(requests_.size());
      op.has_output = c.observed;
      requests_.push_back(std::move(c));
      out.push_back(op);
    }
    return out;
  }

  std::optional<check::State> step(check::State s, const CompiledOp& op) const override {
    const auto& next = successors_of(s, op);
    if (next.empty()) return std::nullopt;
    return next.front();
  }

  void successors(check::State s, const CompiledOp& op,
                  std::vector<check::State>& out) const override {
    const auto& next = successors_of(s, op);
    out.insert(out.end(), next.begin(), next.end());
  }

  std::string describe_state(check::State s) const override {
    std::lock_guard lock(mutex_);
    return keys_[static_cast<std::size_t>(s)];
  }

 private:
  // Backtracking repeats (state, op) pairs: each transition is computed once.
  const std::vector<check::State>& successors_of(check::State s, const CompiledOp& op) const {
    const std::pair<check::State, std::int64_t> transition{s, op.a};
    CheckedState from;
    const CompiledRequest* c = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (auto it = transitions_.find(transition); it != transitions_.end()) return it->second;
      from = states_[static_cast<std::size_t>(s)];
      c = &requests_[static_cast<std::size_t>(op.a)];  // a deque: stable while others are added
    }
    std::vector<check::State> next;
    if (c->now) {
      if (auto to = apply_at(from, *c, *c->now)) next.push_back(intern(*to));
    } else {
      // Every distinguishable time at or after the last one; of those giving the same σ, the
      // earliest, which constrains the operations after it least.
      std::set<std::string> seen;
      std::vector<std::int64_t> times;
      if (from.last_now != kNoTime) times.push_back(from.last_now);
      for (auto t : *c->candidates)
        if (t > from.last_now) times.push_back(t);
      for (auto t : times) {
        auto to = apply_at(from, *c, t);
        if (!to || !seen.insert(state_to_json(to->state).dump()).second) continue;
        next.push_back(intern(*to));
      }
    }
    std::lock_guard lock(mutex_);
    return transitions_.emplace(transition, std::move(next)).first->second;
  }

  static std::optional<CheckedState> apply_at(const CheckedState& from, const CompiledRequest& c,
                                              std::int64_t now) {
    if (from.last_now != kNoTime && now < from.last_now) return std::nullopt;  // spec §3.1
    CheckedState to = from;
    to.last_now = now;
    const auto result =
        c.parsed ? apply(to.state, *c.parsed, now) : apply(to.state, c.request, now);
    if (c.observed) {
      const auto& response = result.response;
      if (response["head"]["status"] != c.status || response.value("data", json()) != c.data) {
        return std::nullopt;
      }
    }
    return to;
  }

  check::State intern(const CheckedState& state) const {
    auto key = state_to_json(state.state).dump() +
               (state.last_now == kNoTime ? "" : " @" + std::to_string(state.last_now));
    std::lock_guard lock(mutex_);
    auto [it, added] = ids_.emplace(key, static_cast<check::State>(states_.size()));
    if (added) {
      states_.push_back(state);
      keys_.push_back(std::move(key));
    }
    return it->second;
  }

  mutable std::mutex mutex_;
  mutable std::map<std::string, check::State> ids_;
  mutable std::deque<CheckedState> states_;
  mutable std::deque<std::string> keys_;
  mutable std::deque<CompiledRequest> requests_;
  struct PairHash {
    std::size_t operator()(const std::pair<check::State, std::int64_t>& p) const {
      return std::hash<std::int64_t>()(p.first * 1'000'003 + p.second);
    }
  };
  mutable std::unordered_map<std::pair<check::State, std::int64_t>, std::vector<check::State>,
                             PairHash>
      transitions_;
};

}  // namespace

void register_history_model() {
  check::register_model("promises", [] { return std::make_unique<PromisesHistoryModel>(); });
}

}  // namespace seer::promises
