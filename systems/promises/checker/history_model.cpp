#include "promises/checker/history_model.hpp"

#include "promises/model/model.hpp"
#include "seer/check/model.hpp"

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

const std::set<std::string> kSinglePromiseKinds = {"promise.get", "promise.create",
                                                   "promise.settle", "promise.register_listener"};

std::string where(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + "): ";
}

json value_json(const Value& v) {
  json j = json::object();
  if (v.headers) j["headers"] = *v.headers;
  if (v.data) j["data"] = *v.data;
  return j;
}

// One canonical text per state, for interning (the model's State has == but no hash).
std::string state_key(const State& s) {
  json promises = json::array();
  for (const auto& [id, p] : s.promises) {
    promises.push_back({id, p.seq, static_cast<int>(p.state), value_json(p.param),
                        value_json(p.value), p.tags, p.timeout_at, p.created_at,
                        p.settled_at ? json(*p.settled_at) : json(), p.callbacks.items(),
                        p.listeners.items()});
  }
  json tasks = json::array();
  for (const auto& [id, t] : s.tasks) {
    tasks.push_back({id, static_cast<int>(t.state), t.version, t.pid ? json(*t.pid) : json(),
                     t.ttl ? json(*t.ttl) : json(), t.resumes.items()});
  }
  json timeouts = json::array();
  for (const auto& [id, t] : s.task_timeouts.entries()) {
    timeouts.push_back({id, static_cast<int>(t.kind), t.at});
  }
  return json{promises, s.creation_order, tasks, timeouts}.dump();
}

struct CompiledRequest {
  json request;
  std::int64_t now = 0;
  bool observed = false;  // an ok completion: its response must match
  int status = 0;
  json data;
};

class PromisesHistoryModel : public check::Model {
 public:
  PromisesHistoryModel() { set_initial(intern(State{})); }
  std::string name() const override { return "promises"; }
  bool partitioned() const override { return true; }

  check::State parse_initial(const std::string& text) const override {
    if (text.empty() || text == "nil" || text == "null" || text == "{}") return initial();
    throw std::invalid_argument("the promises model starts empty (--init nil)");
  }

  std::optional<std::pair<json, Operation>> split(const Operation& op) const override {
    const auto& data = request_of(op).value("data", json::object());
    const char* field = op.f == "promise.register_listener" ? "awaited" : "id";
    if (!data.is_object() || !data.contains(field) || !data[field].is_string()) {
      throw HistoryError(where(op) + "request data has no promise id (" + field + ")");
    }
    return std::make_pair(data[field], op);
  }

  CompiledOp compile(const Operation& op) const override {
    if (!kSinglePromiseKinds.count(op.f)) {
      throw HistoryError(where(op) + "kind '" + op.f +
                         "' touches more than one promise; the promises model checks promise.get, "
                         "promise.create, promise.settle and promise.register_listener");
    }
    CompiledRequest c;
    c.request = request_of(op);
    if (!c.request.contains("kind")) c.request["kind"] = op.f;
    if (!c.request.contains("head")) c.request["head"] = {{"corrId", ""}, {"version", ""}};
    if (!op.input.is_object() || !op.input.contains("now") ||
        !op.input["now"].is_number_integer()) {
      throw HistoryError(where(op) + "invocation value needs an integer \"now\"");
    }
    c.now = op.input["now"].get<std::int64_t>();
    if (!op.unknown()) {
      if (!op.output.is_object() || !op.output.contains("status") ||
          !op.output["status"].is_number_integer()) {
        throw HistoryError(where(op) + "completion value needs the response's status and data");
      }
      c.observed = true;
      c.status = op.output["status"].get<int>();
      c.data = op.output.value("data", json());
    }
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(c));
    CompiledOp compiled;
    compiled.a = static_cast<std::int64_t>(requests_.size() - 1);
    compiled.has_output = requests_.back().observed;
    return compiled;
  }

  // Backtracking repeats (state, op) pairs: each transition is computed once.
  std::optional<check::State> step(check::State s, const CompiledOp& op) const override {
    const std::pair<check::State, std::int64_t> transition{s, op.a};
    {
      std::lock_guard lock(mutex_);
      if (auto it = transitions_.find(transition); it != transitions_.end()) return it->second;
    }
    State state;
    CompiledRequest c;
    {
      std::lock_guard lock(mutex_);
      state = states_[static_cast<std::size_t>(s)];
      c = requests_[static_cast<std::size_t>(op.a)];
    }
    const auto result = apply(state, c.request, c.now);
    std::optional<check::State> next;
    const auto& response = result.response;
    if (!c.observed ||
        (response["head"]["status"] == c.status && response.value("data", json()) == c.data)) {
      next = intern(state);
    }
    std::lock_guard lock(mutex_);
    transitions_.emplace(transition, next);
    return next;
  }

  std::string describe_state(check::State s) const override {
    std::lock_guard lock(mutex_);
    return keys_[static_cast<std::size_t>(s)];
  }

 private:
  static json request_of(const Operation& op) {
    if (op.input.is_object() && op.input.contains("request") && op.input["request"].is_object()) {
      return op.input["request"];
    }
    throw HistoryError(where(op) + "invocation value needs {\"request\": {...}, \"now\": N}");
  }

  check::State intern(const State& state) const {
    auto key = state_key(state);
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
  mutable std::vector<State> states_;
  mutable std::vector<std::string> keys_;
  mutable std::vector<CompiledRequest> requests_;
  struct PairHash {
    std::size_t operator()(const std::pair<check::State, std::int64_t>& p) const {
      return std::hash<std::int64_t>()(p.first * 1'000'003 + p.second);
    }
  };
  mutable std::unordered_map<std::pair<check::State, std::int64_t>, std::optional<check::State>,
                             PairHash>
      transitions_;
};

}  // namespace

void register_history_model() {
  check::register_model("promises", [] { return std::make_unique<PromisesHistoryModel>(); });
}

}  // namespace seer::promises
