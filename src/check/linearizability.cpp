#include "seer/check/linearizability.hpp"

#include "seer/assert.hpp"
#include "special_checkers.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <map>
#include <thread>
#include <tuple>
#include <unordered_set>

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

struct CacheKey {
  std::vector<std::uint64_t> bits;
  State state;
  bool operator==(const CacheKey&) const = default;
};

struct CacheKeyHash {
  std::size_t operator()(const CacheKey& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.state) * 0x9E3779B97F4A7C15ULL;
    for (auto w : k.bits) h = (h ^ w) * 0x100000001b3ULL + (h >> 29);
    return static_cast<std::size_t>(h);
  }
};

class Search {
 public:
  Search(const std::vector<Operation>& ops, std::vector<CompiledOp> compiled, const Model& model)
      : ops_(ops), model_(model), compiled_(std::move(compiled)) {
    before_ = model.required_before(compiled_, ops);
    component_ = model.components(compiled_);
    SEER_ASSERT(compiled_.size() == ops.size(), "one compiled op per operation");
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
    bits_.assign((ops.size() + 63) / 64, 0);
    SEER_ASSERT(bits_.size() * 64 >= ops.size(), "the linearized bitset covers every operation");
  }

  CheckResult run(const CheckOptions& options) {
    CheckResult result;
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    State state = model_.initial();
    // A linearized call, the state before it, and the states it may lead to (one for a
    // deterministic model; `chosen` indexes the one taken, the rest are tried on backtracking).
    struct Frame {
      int call;
      State state_before;
      std::vector<State> next;
      std::size_t chosen;
      bool unknown_pass;
    };
    std::vector<Frame> stack;
    std::size_t best = 0;
    int entry = entries_[0].next;
    // Each node tries the calls of known outcome first and those of unknown outcome after (most
    // never took effect, so a witness usually leaves them out); both passes together try every
    // call, so the search stays complete.
    bool unknown_pass = false;
    std::uint64_t steps = 0;
    // Linearizes `call` from `state` with its first not yet explored successor at or after
    // `from`; false if there is none.
    auto try_linearize = [&](int call, std::vector<State> next, std::size_t from) {
      const int op = entries_[call].op;
      set_bit(op, true);
      for (std::size_t i = from; i < next.size(); ++i) {
        if (!cache_.insert(CacheKey{bits_, next[i]}).second) continue;
        const State chosen = next[i];
        stack.push_back({call, state, std::move(next), i, unknown_pass});
        state = chosen;
        lift(call);
        return true;
      }
      set_bit(op, false);
      return false;
    };
    std::vector<State> successors;
    while (entry != -1) {
      if (++steps == options.max_steps) {
        result.verdict = Verdict::kUnknown;
        result.explanation = "gave up after " + std::to_string(steps) + " search steps";
        result.states_explored = steps;
        return result;
      }
      if ((steps & 0xfff) == 0 && std::chrono::steady_clock::now() > deadline) {
        result.verdict = Verdict::kUnknown;
        result.explanation = "gave up after the time limit";
        result.states_explored = steps;
        return result;
      }
      const Entry& e = entries_[entry];
      if (e.call) {
        if (ops_[e.op].unknown() != unknown_pass || !ready(e.op) || unobserved(e.op)) {
          entry = e.next;
          continue;
        }
        successors.clear();
        model_.successors(state, compiled_[e.op], successors);
        // An outcome-unknown op that would change nothing here is dominated by leaving it out:
        // from the same state with it still pending, every continuation remains open.
        if (ops_[e.op].unknown()) std::erase(successors, state);
        if (!successors.empty() && try_linearize(entry, successors, 0)) {
          entry = entries_[0].next;
          unknown_pass = false;
          continue;
        }
        entry = e.next;
      } else {
        if (ops_[e.op].unknown()) break;  // only outcome-unknown ops remain: they may never happen
        if (!unknown_pass) {              // no call of known outcome fits here: try the others
          unknown_pass = true;
          entry = entries_[0].next;
          continue;
        }
        if (stack.size() >= best) {
          best = stack.size();
          result.failing_op = e.op;
          result.witness.clear();
          for (const auto& f : stack) result.witness.push_back(entries_[f.call].op);
        }
        if (stack.empty()) {
          result.verdict = Verdict::kNotLinearizable;
          result.states_explored = steps;
          return result;
        }
        Frame top = std::move(stack.back());
        stack.pop_back();
        state = top.state_before;
        set_bit(entries_[top.call].op, false);
        unlift(top.call);
        // The same call with another of its possible effects, before moving past it.
        unknown_pass = top.unknown_pass;
        if (top.chosen + 1 < top.next.size() &&
            try_linearize(top.call, std::move(top.next), top.chosen + 1)) {
          entry = entries_[0].next;
          unknown_pass = false;
          continue;
        }
        entry = entries_[top.call].next;
      }
    }
    result.verdict = Verdict::kLinearizable;
    result.failing_op = -1;
    result.witness.clear();
    for (const auto& f : stack) {
      result.witness.push_back(entries_[f.call].op);
      result.witness_states.push_back(f.next[f.chosen]);
    }
    result.states_explored = steps;
    return result;
  }

 private:
  void set_bit(int op, bool on) {
    SEER_ASSERT(op >= 0 && static_cast<std::size_t>(op) < ops_.size(), "op index in range");
    SEER_ASSERT(bit(op) != on, "an operation is linearized, and taken back, once at a time");
    auto& w = bits_[static_cast<std::size_t>(op) / 64];
    const std::uint64_t mask = 1ULL << (op % 64);
    w = on ? (w | mask) : (w & ~mask);
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
  bool bit(int op) const {
    return (bits_[static_cast<std::size_t>(op) / 64] >> (op % 64) & 1ULL) != 0;
  }
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
  const Model& model_;
  std::vector<CompiledOp> compiled_;
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> bits_;
  std::vector<std::vector<int>> before_;
  std::vector<int> component_;  // per op, or empty: the model names no components
  std::vector<int> remaining_;  // per component: its known ops not yet linearized
  std::unordered_set<CacheKey, CacheKeyHash> cache_;
};

std::string interval(const Operation& op) {
  return "[" + std::to_string(op.invoke) + ", " +
         (op.unknown() ? std::string("unknown") : std::to_string(op.complete)) + "]";
}

// One or two sentences on why `op` cannot be placed, for register-like histories.
// `initial`: the model's initial value as JSON text ("" when nil), so a stale read of it is named
// as such.
std::string explain(const std::vector<Operation>& ops, const Operation& op,
                    const std::string& initial) {
  std::string what = "process " + std::to_string(op.process) + " " + op.f;
  if (op.f == "read") {
    what += " returned " + (op.output.is_null() ? std::string("nil") : to_text(op.output));
  } else {
    what += " " + to_text(op.input);
    if (!op.output.is_null() && op.output != op.input) what += " returned " + to_text(op.output);
  }
  what += " during " + interval(op);
  if (op.f != "read")
    return what + ", but no order of the operations around it allows that result.";
  // A key that is appended to holds what no single operation wrote.
  if (std::any_of(ops.begin(), ops.end(), [](const Operation& o) { return o.f == "append"; })) {
    return what +
           ", but no order of the operations around it (appends included) lets the key "
           "hold " +
           to_text(op.output) + " then.";
  }
  // Who wrote the value read, and what overwrote it before the read began?
  const Operation* writer = nullptr;
  for (const auto& w : ops) {
    const bool writes =
        (w.f == "write" && w.input == op.output) ||
        (w.f == "cas" && w.input.is_array() && w.input.size() == 2 && w.input[1] == op.output);
    if (writes && w.invoke <= op.complete) writer = &w;
  }
  if (!writer) {
    if (op.output.is_null()) return what + ", but a write had completed before the read began.";
    if (!initial.empty() && to_text(op.output) == initial) {
      // A stale read of the initial value: name the write that had replaced it.
      for (const auto& w : ops) {
        const nlohmann::json* written = w.f == "write" ? &w.input
                                        : w.f == "cas" && w.input.is_array() && w.input.size() == 2
                                            ? &w.input[1]
                                            : nullptr;
        if (written && !w.unknown() && w.complete < op.invoke && *written != op.output) {
          return what + ", but that is the initial value, and " + w.f + " " + to_text(w.input) +
                 " (process " + std::to_string(w.process) + ", " + interval(w) +
                 ") had replaced it before the read began; nothing wrote " + initial + " again.";
        }
      }
      return what +
             ", but no order of the operations around it lets the register still hold "
             "the initial value " +
             initial + " then.";
    }
    return what + ", but no operation that could precede it ever wrote " + to_text(op.output) + ".";
  }
  for (const auto& w : ops) {
    if ((w.f == "write" || w.f == "cas") && &w != writer && !w.unknown() &&
        w.invoke > writer->complete && w.complete < op.invoke && w.input != op.output) {
      return what + ", but the write of " + to_text(op.output) + " by process " +
             std::to_string(writer->process) + " " + interval(*writer) + " was overwritten by " +
             w.f + " " + to_text(w.input) + " (process " + std::to_string(w.process) + ", " +
             interval(w) + "), which completed before the read began, and nothing wrote " +
             to_text(op.output) + " again.";
    }
  }
  return what + ", but no order of the operations around it lets the register hold " +
         to_text(op.output) + " then.";
}

}  // namespace

namespace {

CheckResult check_one(const std::vector<Operation>& ops, const Model& model,
                      const CheckOptions& options) {
  // Leave out what the model says cannot matter, then search over the rest with ids renumbered.
  const std::vector<CompiledOp> compiled = model.compile_all(ops);
  std::vector<bool> unknown;
  for (const auto& op : ops) unknown.push_back(op.unknown());
  auto prune = model.prunable(compiled, unknown);
  // An outcome-unknown op invoked after every known outcome was returned cannot have shaped any
  // of them: it may as well never have happened.
  std::int64_t last_return = std::numeric_limits<std::int64_t>::min();
  for (const auto& op : ops)
    if (!op.unknown()) last_return = std::max(last_return, op.complete);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].unknown() && ops[i].invoke > last_return) prune[i] = true;
  }
  std::vector<Operation> kept;
  std::vector<CompiledOp> kept_compiled;
  std::vector<int> original;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (prune[i]) continue;
    kept.push_back(ops[i]);
    kept.back().id = static_cast<int>(original.size());
    kept_compiled.push_back(compiled[i]);
    original.push_back(static_cast<int>(i));
  }
  Search search(kept, std::move(kept_compiled), model);
  CheckResult result = search.run(options);
  for (auto& id : result.witness) id = original[static_cast<std::size_t>(id)];
  if (result.failing_op >= 0)
    result.failing_op = original[static_cast<std::size_t>(result.failing_op)];
  if (result.verdict == Verdict::kNotLinearizable && result.failing_op >= 0) {
    const std::string initial =
        model.initial() == kNil ? std::string() : model.describe_state(model.initial());
    result.explanation = explain(ops, ops[static_cast<std::size_t>(result.failing_op)], initial);
  }
  return result;
}

// P-compositionality: a history of independent keys is linearizable iff each key's sub-history is.
// Keys are checked in parallel; the reported failure is the first failing key in key order,
// whatever the timing.
CheckResult check_partitioned(const std::vector<Operation>& ops, const Model& model,
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
    auto split = model.split(op);
    const std::string name = to_text(split->first);
    auto [it, added] = index_of.emplace(name, parts.size());
    if (added) parts.push_back(Part{split->first, {}, {}, {}});
    auto& part = parts[it->second];
    split->second.id = static_cast<int>(part.ops.size());
    part.ops.push_back(std::move(split->second));
    part.original.push_back(op.id);
  }
  // An exception (a HistoryError from compiling a key's operations) must not escape a thread: each
  // part keeps its own, no part is started after one, and the joining thread rethrows the first in
  // part order. Parts are claimed in order, so that is the one a single job would have thrown.
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::exception_ptr> errors(parts.size());
  auto worker = [&] {
    for (std::size_t i; !failed.load() && (i = next.fetch_add(1)) < parts.size();) {
      try {
        parts[i].result = check_one(parts[i].ops, model, options);
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

// A keyed model checked without partitioning (--no-partition): one state for the whole map, the
// tuple of every key's state, interned. Slower than checking keys apart (the search interleaves
// every key's operations), and the same verdict by locality; it is what Porcupine's
// non-partitioned kv model does, for comparison.
class Unpartitioned : public Model {
 public:
  Unpartitioned(const Model& inner, const std::vector<Operation>& ops) : inner_(inner) {
    std::map<std::string, std::size_t> index_of;
    int ids = 0;
    for (const auto& op : ops) ids = std::max(ids, op.id + 1);
    key_of_.resize(static_cast<std::size_t>(ids));
    inner_ops_.resize(static_cast<std::size_t>(ids));
    for (const auto& op : ops) {
      auto split = inner.split(op);
      const auto [it, added] = index_of.emplace(to_text(split->first), keys_.size());
      if (added) keys_.push_back(split->first);
      key_of_[static_cast<std::size_t>(op.id)] = it->second;
      inner_ops_[static_cast<std::size_t>(op.id)] = std::move(split->second);
    }
    set_initial(map_id(std::vector<State>(keys_.size(), inner.initial())));
  }
  std::string name() const override { return inner_.name(); }
  bool partitioned() const override { return false; }

  CompiledOp compile(const Operation& op) const override {
    return compile_all({op}).front();  // (not used by the search, which compiles all at once)
  }
  // Each key's operations are compiled together by the keyed model, as when partitioned.
  std::vector<CompiledOp> compile_all(const std::vector<Operation>& ops) const override {
    std::vector<std::vector<std::size_t>> by_key(keys_.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      by_key[key_of_[static_cast<std::size_t>(ops[i].id)]].push_back(i);
    }
    std::vector<CompiledOp> out(ops.size());
    for (std::size_t k = 0; k < by_key.size(); ++k) {
      std::vector<Operation> part;
      for (const auto i : by_key[k]) {
        part.push_back(inner_ops_[static_cast<std::size_t>(ops[i].id)]);
        part.back().id = static_cast<int>(part.size() - 1);
      }
      const auto compiled = inner_.compile_all(part);
      for (std::size_t j = 0; j < compiled.size(); ++j) {
        const auto& c = compiled[j];
        const std::tuple key{k, c.kind, c.a, c.b, c.has_output, c.output};
        const auto [it, added] = op_ids_.emplace(key, entries_.size());
        if (added) entries_.push_back({k, c});
        CompiledOp whole;
        whole.a = static_cast<std::int64_t>(it->second);  // one id per distinct (key, op)
        whole.has_output = c.has_output;
        out[by_key[k][j]] = whole;
      }
    }
    return out;
  }
  std::optional<State> step(State s, const CompiledOp& op) const override {
    const auto& [k, inner_op] = entries_[static_cast<std::size_t>(op.a)];
    auto values = maps_[static_cast<std::size_t>(s)];
    const auto next = inner_.step(values[k], inner_op);
    if (!next) return std::nullopt;
    values[k] = *next;
    return map_id(values);
  }
  void successors(State s, const CompiledOp& op, std::vector<State>& out) const override {
    const auto& [k, inner_op] = entries_[static_cast<std::size_t>(op.a)];
    auto values = maps_[static_cast<std::size_t>(s)];
    std::vector<State> next;
    inner_.successors(values[k], inner_op, next);
    for (const auto v : next) {
      values[k] = v;
      out.push_back(map_id(values));
    }
  }
  // What the keyed model may leave out of a key's history it may leave out of the whole.
  std::vector<bool> prunable(const std::vector<CompiledOp>& ops,
                             const std::vector<bool>& unknown) const override {
    std::vector<std::vector<std::size_t>> by_key(keys_.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      by_key[entries_[static_cast<std::size_t>(ops[i].a)].first].push_back(i);
    }
    std::vector<bool> out(ops.size(), false);
    for (const auto& members : by_key) {
      std::vector<CompiledOp> part;
      std::vector<bool> part_unknown;
      for (const auto i : members) {
        part.push_back(entries_[static_cast<std::size_t>(ops[i].a)].second);
        part_unknown.push_back(unknown[i]);
      }
      const auto keep = inner_.prunable(part, part_unknown);
      for (std::size_t j = 0; j < members.size(); ++j) out[members[j]] = keep[j];
    }
    return out;
  }
  std::string describe_state(State s) const override {
    std::string out = "{";
    const auto& values = maps_[static_cast<std::size_t>(s)];
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      out += (k ? ", " : "") + to_text(keys_[k]) + ": " + inner_.describe_state(values[k]);
    }
    return out + "}";
  }
  // The state of op `id`'s key within the map state `s` (for witness states per key).
  State key_state(State s, int id) const {
    return maps_[static_cast<std::size_t>(s)][key_of_[static_cast<std::size_t>(id)]];
  }

 private:
  State map_id(const std::vector<State>& values) const {
    const auto [it, added] = map_ids_.emplace(values, static_cast<State>(maps_.size()));
    if (added) maps_.push_back(values);
    return it->second;
  }

  const Model& inner_;
  std::vector<nlohmann::json> keys_;
  std::vector<std::size_t> key_of_;   // per op id
  std::vector<Operation> inner_ops_;  // per op id, as split for the keyed model
  mutable std::map<std::tuple<std::size_t, int, std::int64_t, std::int64_t, bool, std::int64_t>,
                   std::size_t>
      op_ids_;
  mutable std::vector<std::pair<std::size_t, CompiledOp>> entries_;
  mutable std::map<std::vector<State>, State> map_ids_;
  mutable std::vector<std::vector<State>> maps_;
};

}  // namespace

CheckResult check_linearizable(const std::vector<Operation>& ops, const Model& model,
                               const CheckOptions& options) {
  if (options.special && model.name() == "set") {
    if (auto fast = check_set_special(ops)) return *fast;
  }
  if (!model.partitioned()) return check_one(ops, model, options);
  if (options.partition) return check_partitioned(ops, model, options);
  const Unpartitioned whole(model, ops);
  CheckResult result = check_one(ops, whole, options);
  // Witness states per key, as a partitioned check gives them.
  for (std::size_t i = 0; i < result.witness_states.size(); ++i) {
    result.witness_states[i] = whole.key_state(result.witness_states[i], result.witness[i]);
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
