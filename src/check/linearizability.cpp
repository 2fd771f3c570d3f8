#include "seer/check/linearizability.hpp"

#include "keyed_history.hpp"
#include "seer/assert.hpp"
#include "visited_set.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <limits>
#include <map>
#include <thread>
#include <tuple>

namespace seer::check {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not-linearizable";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

// One call or return in the doubly linked list the search walks (index 0 is the head sentinel).
struct Entry {
  int op = -1;
  bool call = false;
  std::int64_t time = 0;
  int match = -1;  // the call's return entry, or the return's call entry
  int prev = -1;
  int next = -1;
};

class Search {
 public:
  Search(const std::vector<Operation>& ops, CompiledHistory& history)
      : ops_(ops), history_(history) {
    before_ = history.required_before();
    component_ = history.components();
    SEER_ASSERT(history.size() == ops.size(), "one compiled op per operation");
    SEER_ASSERT(before_.size() == ops.size(), "required_before lists one set per operation");
    SEER_ASSERT(component_.empty() || component_.size() == ops.size(),
                "components names one component per operation, or none");
    for (std::size_t i = 0; i < component_.size(); ++i) {
      if (component_[i] < 0) continue;
      const auto c = static_cast<std::size_t>(component_[i]);
      if (remaining_.size() <= c) remaining_.resize(c + 1, 0);
      if (!ops[i].unknown()) ++remaining_[c];
    }
    entries_.resize(1 + 2 * ops.size());
    std::vector<int> order;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const int call = static_cast<int>(1 + 2 * i);
      entries_[call] = {static_cast<int>(i), true, ops[i].invoke, call + 1};
      entries_[call + 1] = {static_cast<int>(i), false, ops[i].complete, call};
      order.push_back(call);
      order.push_back(call + 1);
    }
    // By time; at equal times calls first, so touching intervals count as concurrent.
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      if (entries_[a].time != entries_[b].time) return entries_[a].time < entries_[b].time;
      return entries_[a].call && !entries_[b].call;
    });
    int prev = 0;
    for (int e : order) {
      entries_[prev].next = e;
      entries_[e].prev = prev;
      prev = e;
    }
    entries_[prev].next = -1;
    SEER_ASSERT(linearized_.size_in_words() * 64 >= ops.size(),
                "the linearized bitset covers every operation");
  }

  CheckResult run(const CheckOptions& options) {
    CheckResult result;
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    state_ = history_.initial();
    entry_ = entries_[0].next;
    std::uint64_t steps = 0;
    while (entry_ != -1) {
      if (++steps == options.max_steps) {
        return gave_up("gave up after " + std::to_string(steps) + " search steps", steps);
      }
      if ((steps & 0xfff) == 0 && std::chrono::steady_clock::now() > deadline) {
        return gave_up("gave up after the time limit", steps);
      }
      const Entry& e = entries_[entry_];
      if (e.call) {
        step_call(e);
        continue;
      }
      if (ops_[e.op].unknown()) break;  // only outcome-unknown ops remain: they may never happen
      if (!step_return(e, result)) {
        result.verdict = Verdict::kNotLinearizable;
        result.states_explored = steps;
        return result;
      }
    }
    result.verdict = Verdict::kLinearizable;
    result.failing_op = -1;
    result.witness.clear();
    for (const auto& f : stack_) {
      result.witness.push_back(entries_[f.call].op);
      if (options.witness_states) {
        result.witness_states.push_back(history_.describe_state_of(
            f.next[f.chosen], static_cast<std::size_t>(entries_[f.call].op)));
      }
    }
    result.states_explored = steps;
    return result;
  }

 private:
  // A linearized call, the state before it, and the states it may lead to (one for a
  // deterministic model; `chosen` indexes the one taken, the rest are tried on backtracking).
  struct Frame {
    int call;
    StateId state_before;
    std::vector<StateId> next;
    std::size_t chosen;
    bool unknown_pass;
  };

  static CheckResult gave_up(std::string why, std::uint64_t steps) {
    CheckResult result;
    result.verdict = Verdict::kUnknown;
    result.explanation = std::move(why);
    result.states_explored = steps;
    return result;
  }

  // Linearizes `call` from the current state with its first not yet explored successor at or
  // after `from`; false if there is none.
  bool try_linearize(int call, std::vector<StateId> next, std::size_t from) {
    const int op = entries_[call].op;
    set_bit(op, true);
    for (std::size_t i = from; i < next.size(); ++i) {
      if (!visited_.insert(linearized_, next[i])) continue;
      const StateId chosen = next[i];
      stack_.push_back({call, state_, std::move(next), i, unknown_pass_});
      state_ = chosen;
      lift(call);
      return true;
    }
    set_bit(op, false);
    return false;
  }

  // A call: linearize it here if it is this pass's kind and the model allows it, and start over
  // from the first entry; else move on.
  void step_call(const Entry& e) {
    if (ops_[e.op].unknown() != unknown_pass_ || !ready(e.op) || unobserved(e.op)) {
      entry_ = e.next;
      return;
    }
    successors_.clear();
    history_.successors(state_, static_cast<std::size_t>(e.op), successors_);
    // An outcome-unknown op that would change nothing here is dominated by leaving it out: from
    // the same state with it still pending, every continuation remains open.
    if (ops_[e.op].unknown()) std::erase(successors_, state_);
    if (!successors_.empty() && try_linearize(entry_, successors_, 0)) {
      entry_ = entries_[0].next;
      unknown_pass_ = false;
      return;
    }
    entry_ = e.next;
  }

  // The return of an op of known outcome before its call was linearized: nothing fits here. Try
  // the calls of unknown outcome, then backtrack. False when there is nothing left to undo (the
  // history is not linearizable; `result` holds the longest prefix and the op that failed).
  bool step_return(const Entry& e, CheckResult& result) {
    if (!unknown_pass_) {  // no call of known outcome fits here: try the others
      unknown_pass_ = true;
      entry_ = entries_[0].next;
      return true;
    }
    if (stack_.size() >= best_) {
      best_ = stack_.size();
      result.failing_op = e.op;
      result.witness.clear();
      for (const auto& f : stack_) result.witness.push_back(entries_[f.call].op);
    }
    if (stack_.empty()) return false;
    Frame top = std::move(stack_.back());
    stack_.pop_back();
    state_ = top.state_before;
    set_bit(entries_[top.call].op, false);
    unlift(top.call);
    // The same call with another of its possible effects, before moving past it.
    unknown_pass_ = top.unknown_pass;
    if (top.chosen + 1 < top.next.size() &&
        try_linearize(top.call, std::move(top.next), top.chosen + 1)) {
      entry_ = entries_[0].next;
      unknown_pass_ = false;
      return true;
    }
    entry_ = entries_[top.call].next;
    return true;
  }

  void set_bit(int op, bool on) {
    SEER_ASSERT(op >= 0 && static_cast<std::size_t>(op) < ops_.size(), "op index in range");
    SEER_ASSERT(bit(op) != on, "an operation is linearized, and taken back, once at a time");
    linearized_.set(op, on);
    if (component_.empty() || ops_[op].unknown()) return;
    if (const int c = component_[static_cast<std::size_t>(op)]; c >= 0) {
      remaining_[static_cast<std::size_t>(c)] += on ? -1 : 1;
      SEER_ASSERT(remaining_[static_cast<std::size_t>(c)] >= 0,
                  "a component never has fewer than zero operations left");
    }
  }
  // An outcome-unknown op whose component has no known op left to place: nothing can observe it
  // any more, so leaving it out is as good as placing it (Model::components).
  bool unobserved(int op) const {
    if (component_.empty() || !ops_[op].unknown()) return false;
    const int c = component_[static_cast<std::size_t>(op)];
    return c >= 0 && remaining_[static_cast<std::size_t>(c)] == 0;
  }
  bool bit(int op) const { return linearized_.has(op); }
  // Every operation the model requires before `op` is linearized.
  bool ready(int op) const {
    const auto& required = before_[static_cast<std::size_t>(op)];
    return std::all_of(required.begin(), required.end(), [&](int r) { return bit(r); });
  }
  void unlink(int i) {
    entries_[entries_[i].prev].next = entries_[i].next;
    if (entries_[i].next != -1) entries_[entries_[i].next].prev = entries_[i].prev;
  }
  void relink(int i) {
    entries_[entries_[i].prev].next = i;
    if (entries_[i].next != -1) entries_[entries_[i].next].prev = i;
  }
  void lift(int call) {
    unlink(call);
    unlink(entries_[call].match);
  }
  void unlift(int call) {
    relink(entries_[call].match);
    relink(call);
  }

  const std::vector<Operation>& ops_;
  CompiledHistory& history_;
  std::vector<Entry> entries_;
  LinearizedSet linearized_{ops_.size()};
  std::vector<std::vector<int>> before_;
  std::vector<int> component_;  // per op, or empty: the model names no components
  std::vector<int> remaining_;  // per component: its known ops not yet linearized
  VisitedSet visited_;
  // The walk: the current state and entry, the linearized calls, the longest prefix so far. Each
  // node tries the calls of known outcome first and those of unknown outcome after (most never
  // took effect, so a witness usually leaves them out); both passes together try every call, so
  // the search stays complete.
  StateId state_ = 0;
  int entry_ = -1;
  bool unknown_pass_ = false;
  std::vector<Frame> stack_;
  std::size_t best_ = 0;
  std::vector<StateId> successors_;
};

// Searches one partition's compiled history. Leaves out what the model says cannot matter, then
// searches over the rest with ids renumbered.
CheckResult search_history(const std::vector<Operation>& ops, CompiledHistory& history,
                           const AnyModel& model, const CheckOptions& options) {
  auto prune = history.prunable();
  SEER_ASSERT(prune.size() == ops.size(), "prunable names every operation");
  // An outcome-unknown op invoked after every known outcome was returned cannot have shaped any
  // of them: it may as well never have happened.
  std::int64_t last_return = std::numeric_limits<std::int64_t>::min();
  for (const auto& op : ops)
    if (!op.unknown()) last_return = std::max(last_return, op.complete);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].unknown() && ops[i].invoke > last_return) prune[i] = true;
  }
  std::vector<Operation> kept;
  std::vector<int> original;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (prune[i]) continue;
    kept.push_back(ops[i]);
    kept.back().id = static_cast<int>(original.size());
    original.push_back(static_cast<int>(i));
  }
  history.keep(original, kept);
  Search search(kept, history);
  CheckResult result = search.run(options);
  if (result.verdict == Verdict::kNotLinearizable && result.failing_op >= 0) {
    const auto& failing =
        ops[static_cast<std::size_t>(original[static_cast<std::size_t>(result.failing_op)])];
    auto why = model.explain_failure(ops, failing);
    result.explanation =
        why ? *why
            : "process " + std::to_string(failing.process) + " " +
                  history.describe_operation(static_cast<std::size_t>(result.failing_op)) +
                  " during " + operation_interval(failing) +
                  ", but no order of the operations around it allows that result.";
  }
  for (auto& id : result.witness) id = original[static_cast<std::size_t>(id)];
  if (result.failing_op >= 0)
    result.failing_op = original[static_cast<std::size_t>(result.failing_op)];
  return result;
}

CheckResult check_one(const std::vector<Operation>& ops, const AnyModel& model,
                      const CheckOptions& options) {
  auto history = model.compile(ops);
  return search_history(ops, *history, model, options);
}

// P-compositionality: a history of independent keys is linearizable iff each key's sub-history is.
// Keys are checked in parallel; the reported failure is the first failing key in key order,
// whatever the timing.
CheckResult check_partitioned(const std::vector<Operation>& ops, const AnyModel& model,
                              const CheckOptions& options) {
  std::map<std::string, std::size_t> index_of;  // key (as JSON text) -> partition, in key order
  struct Part {
    nlohmann::json key;
    std::vector<Operation> ops;
    std::vector<int> original;
    CheckResult result;
  };
  std::vector<Part> parts;
  std::vector<std::pair<std::string, std::size_t>> order;
  for (const auto& op : ops) {
    auto [key, inner] = model.partition(op);
    const std::string name = to_text(key);
    auto [it, added] = index_of.emplace(name, parts.size());
    if (added) parts.push_back(Part{key, {}, {}, {}});
    auto& part = parts[it->second];
    inner.id = static_cast<int>(part.ops.size());
    part.ops.push_back(std::move(inner));
    part.original.push_back(op.id);
  }
  // An exception (a HistoryError from compiling a key's operations) must not escape a thread: each
  // part keeps its own, no part is started after one, and the joining thread rethrows the first in
  // part order. Parts are claimed in order, so that is the one a single job would have thrown.
  // The time limit is the whole history's (`--timeout` is per history): each part gets what is
  // left of it when it starts.
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::exception_ptr> errors(parts.size());
  auto worker = [&] {
    for (std::size_t i; !failed.load() && (i = next.fetch_add(1)) < parts.size();) {
      try {
        CheckOptions part_options = options;
        part_options.timeout = std::max(std::chrono::milliseconds{0},
                                        std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now()));
        parts[i].result = check_one(parts[i].ops, model, part_options);
      } catch (...) {
        errors[i] = std::current_exception();
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> threads;
  const unsigned jobs =
      std::max(1u, std::min<unsigned>(options.jobs, static_cast<unsigned>(parts.size())));
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }

  CheckResult result;
  result.verdict = Verdict::kLinearizable;
  result.partitions = parts.size();
  for (const auto& [name, i] : index_of) {  // key order
    auto& part = parts[i];
    result.states_explored += part.result.states_explored;
    auto map_ids = [&](std::vector<int> ids) {
      for (auto& id : ids) id = part.original[static_cast<std::size_t>(id)];
      return ids;
    };
    if (part.result.verdict == Verdict::kNotLinearizable &&
        result.verdict != Verdict::kNotLinearizable) {
      result.verdict = Verdict::kNotLinearizable;
      result.partition = part.key;
      result.witness = map_ids(part.result.witness);
      result.failing_op = part.original[static_cast<std::size_t>(part.result.failing_op)];
      result.explanation = "key " + to_text(part.key) + ": " + part.result.explanation;
    } else if (part.result.verdict == Verdict::kUnknown &&
               result.verdict == Verdict::kLinearizable) {
      result.verdict = Verdict::kUnknown;
      result.partition = part.key;
      result.explanation = "key " + to_text(part.key) + ": " + part.result.explanation;
    } else if (result.verdict == Verdict::kLinearizable) {
      const auto ids = map_ids(part.result.witness);
      result.witness.insert(result.witness.end(), ids.begin(), ids.end());
      result.witness_states.insert(result.witness_states.end(), part.result.witness_states.begin(),
                                   part.result.witness_states.end());
    }
  }
  if (result.verdict != Verdict::kLinearizable) result.witness_states.clear();
  if (result.verdict != Verdict::kLinearizable && result.verdict != Verdict::kNotLinearizable) {
    result.witness.clear();
  }
  return result;
}

}  // namespace

CheckResult check_linearizable(const std::vector<Operation>& ops, const AnyModel& model,
                               const CheckOptions& options) {
  if (options.special) {
    if (auto fast = model.check_special(ops)) return *fast;
  }
  if (!model.partitioned()) return check_one(ops, model, options);
  if (options.partition) return check_partitioned(ops, model, options);
  // One search over every key's operations with the tuple of every key's state.
  auto whole = compile_keyed_history(ops, model);
  CheckResult result = search_history(ops, *whole, model, options);
  if (result.verdict == Verdict::kNotLinearizable && result.failing_op >= 0) {
    // Explained within its key, as when keys are checked apart.
    const auto [key, failing] = model.partition(ops[static_cast<std::size_t>(result.failing_op)]);
    std::vector<Operation> same_key;
    Operation inner_failing;
    for (const auto& op : ops) {
      auto [k, inner] = model.partition(op);
      if (k != key) continue;
      inner.id = static_cast<int>(same_key.size());
      if (op.id == result.failing_op) inner_failing = inner;
      same_key.push_back(std::move(inner));
    }
    result.partition = key;
    if (auto why = model.explain_failure(same_key, inner_failing)) {
      result.explanation = "key " + to_text(key) + ": " + *why;
    }
  }
  return result;
}

nlohmann::json CheckResult::to_json(const std::vector<Operation>& ops) const {
  nlohmann::json j = {{"verdict", verdict_name(verdict)},
                      {"states_explored", states_explored},
                      {"operations", ops.size()},
                      {"partitions", partitions}};
  if (!partition.is_null()) j["partition"] = partition;
  if (verdict == Verdict::kLinearizable) {
    j["witness"] = witness;
  } else if (verdict == Verdict::kNotLinearizable) {
    j["longest_prefix"] = witness;
    if (failing_op >= 0) {
      const auto& op = ops[static_cast<std::size_t>(failing_op)];
      j["failing_op"] = {
          {"id", op.id},
          {"process", op.process},
          {"f", op.f},
          {"input", op.input},
          {"output", op.output},
          {"invoke", op.invoke},
          {"complete", op.unknown() ? nlohmann::json() : nlohmann::json(op.complete)}};
    }
    j["explanation"] = explanation;
  } else {
    j["explanation"] = explanation;
  }
  return j;
}

}  // namespace seer::check
