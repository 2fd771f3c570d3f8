// A linear-time linearizability checker for grow-only sets whose adds have distinct values.
//
// With distinct values every read pins down its place: it must follow the adds of the values it
// saw and precede the adds of the values it did not see. Those constraints plus real-time order
// form a graph, and the history is linearizable exactly when that graph has no cycle (any
// topological order is then a legal sequential run). Reads of incomparable sets (one saw x but not
// y, the other y but not x) can never be ordered, so the read sets must form a chain
// L1 ⊂ L2 ⊂ ... ⊂ Lk. Helper nodes keep the graph linear in size: a time chain of invocation and
// completion events encodes real-time order, and two node chains per level encode "before every
// read of level >= j" and "after every read of level < j".
#include "special_checkers.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <variant>

namespace seer::check {

namespace {

struct Graph {
  std::vector<std::vector<int>> out;
  int add_node() {
    out.emplace_back();
    return static_cast<int>(out.size() - 1);
  }
  void edge(int from, int to) { out[static_cast<std::size_t>(from)].push_back(to); }
};

std::string values_text(const std::vector<std::int64_t>& values) {
  std::string s = "[";
  for (std::size_t i = 0; i < values.size(); ++i) s += (i ? " " : "") + std::to_string(values[i]);
  return s + "]";
}

std::string who(const Operation& op) {
  return "process " + std::to_string(op.process) + "'s " + op.f +
         (op.f == "add" ? " " + to_text(op.input) : "");
}

// The adds and reads of a history that fits the special case.
struct SetHistory {
  std::map<std::int64_t, int> adder;            // value -> op id of its (only) add
  std::vector<std::int64_t> added;              // the values added, sorted
  std::vector<std::vector<std::int64_t>> seen;  // per op: a read's values, sorted
  std::vector<bool> is_read;
  std::vector<bool> kept;  // ops that constrain the order
};

// nullopt: the history falls outside the special case (a value added twice, another function).
std::optional<SetHistory> read_set_history(const std::vector<Operation>& ops) {
  SetHistory h;
  h.seen.resize(ops.size());
  h.is_read.assign(ops.size(), false);
  h.kept.assign(ops.size(), true);
  for (const auto& op : ops) {
    const auto i = static_cast<std::size_t>(op.id);
    if (op.f == "add") {
      if (!op.input.is_number_integer()) return std::nullopt;  // the general path names the error
      if (!h.adder.emplace(op.input.get<std::int64_t>(), op.id).second) return std::nullopt;
    } else if (op.f == "read") {
      h.is_read[i] = true;
      if (op.unknown() || !op.output.is_array()) {
        h.kept[i] = false;  // saw nothing
        continue;
      }
      auto& seen = h.seen[i];
      for (const auto& v : op.output) {
        if (!v.is_number_integer()) return std::nullopt;
        seen.push_back(v.get<std::int64_t>());
      }
      if (!std::is_sorted(seen.begin(), seen.end())) std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    } else {
      return std::nullopt;
    }
  }
  h.added.reserve(h.adder.size());
  for (const auto& [v, id] : h.adder) h.added.push_back(v);
  return h;
}

CheckResult violation(int failing_op, std::string explanation, std::size_t ops) {
  CheckResult result;
  result.states_explored = ops;
  result.verdict = Verdict::kNotLinearizable;
  result.failing_op = failing_op;
  result.explanation = std::move(explanation);
  return result;
}

// A read that returned a value nothing added (looked up in a sorted array: a read may hold
// thousands of values).
std::optional<CheckResult> unadded_value(const std::vector<Operation>& ops, const SetHistory& h) {
  for (const auto& op : ops) {
    for (auto v : h.seen[static_cast<std::size_t>(op.id)]) {
      if (!std::binary_search(h.added.begin(), h.added.end(), v)) {
        return violation(op.id,
                         who(op) + " returned " + std::to_string(v) + ", which nothing added.",
                         ops.size());
      }
    }
  }
  return std::nullopt;
}

// Two reads of incomparable sets (one saw x but not y, the other y but not x): adds are never
// undone, so no order explains both.
CheckResult incomparable_reads(const std::vector<Operation>& ops, int a, int b,
                               const std::vector<std::int64_t>& prev,
                               const std::vector<std::int64_t>& s) {
  std::vector<std::int64_t> only_a;
  std::vector<std::int64_t> only_b;
  std::set_difference(prev.begin(), prev.end(), s.begin(), s.end(), std::back_inserter(only_a));
  std::set_difference(s.begin(), s.end(), prev.begin(), prev.end(), std::back_inserter(only_b));
  const auto& first = ops[static_cast<std::size_t>(a)];
  const auto& second = ops[static_cast<std::size_t>(b)];
  const bool a_later = first.invoke > second.invoke;
  return violation(a_later ? a : b,
                   who(first) + " saw " + std::to_string(only_a.front()) + " but not " +
                       std::to_string(only_b.front()) + ", and " + who(second) + " saw " +
                       std::to_string(only_b.front()) + " but not " +
                       std::to_string(only_a.front()) +
                       ": adds are never undone, so no order of the two adds explains both reads.",
                   ops.size());
}

// Distinct read sets form a chain L1 ⊂ L2 ⊂ ... ⊂ Lk; level j holds the reads of Lj and the values
// first seen there, and one last level the adds no read saw.
struct Levels {
  std::vector<std::vector<std::int64_t>> fresh;  // values first seen at each level
  std::vector<std::vector<int>> reads;           // the reads of each level
};

// The levels, or the violation of two reads that saw incomparable sets.
std::variant<Levels, CheckResult> chain_levels(const std::vector<Operation>& ops,
                                               const SetHistory& h) {
  std::vector<int> reads;
  for (const auto& op : ops) {
    const auto i = static_cast<std::size_t>(op.id);
    if (h.is_read[i] && h.kept[i]) reads.push_back(op.id);
  }
  auto set_of = [&](int id) -> const std::vector<std::int64_t>& {
    return h.seen[static_cast<std::size_t>(id)];
  };
  std::stable_sort(reads.begin(), reads.end(), [&](int a, int b) {
    return set_of(a).size() != set_of(b).size() ? set_of(a).size() < set_of(b).size()
                                                : set_of(a) < set_of(b);
  });
  Levels levels;
  for (std::size_t r = 0; r < reads.size(); ++r) {
    const auto& s = set_of(reads[r]);
    if (r > 0 && s == set_of(reads[r - 1])) {
      levels.reads.back().push_back(reads[r]);
      continue;
    }
    std::vector<std::int64_t> added;
    if (r > 0) {
      const auto& prev = set_of(reads[r - 1]);
      if (!std::includes(s.begin(), s.end(), prev.begin(), prev.end())) {
        return incomparable_reads(ops, reads[r - 1], reads[r], prev, s);
      }
      std::set_difference(s.begin(), s.end(), prev.begin(), prev.end(), std::back_inserter(added));
    } else {
      added = s;
    }
    levels.fresh.push_back(added);
    levels.reads.push_back({reads[r]});
  }
  return levels;
}

// Adds no read saw: an unknown one may never have happened, so it drops out; a completed one must
// follow every read (the last level, which has no reads).
void place_unseen_adds(const std::vector<Operation>& ops, SetHistory& h, Levels& levels) {
  std::vector<std::int64_t> unseen;
  std::set<std::int64_t> observed;
  for (const auto& f : levels.fresh) observed.insert(f.begin(), f.end());
  for (const auto& [v, id] : h.adder) {
    if (observed.count(v) != 0) continue;
    if (ops[static_cast<std::size_t>(id)].unknown()) {
      h.kept[static_cast<std::size_t>(id)] = false;
    } else {
      unseen.push_back(v);
    }
  }
  levels.fresh.push_back(unseen);
}

// Op nodes first (node id = op id), then the time chain (real-time order), then the level chains.
Graph order_graph(const std::vector<Operation>& ops, const SetHistory& h, const Levels& levels) {
  Graph g;
  g.out.resize(ops.size());
  struct Event {
    std::int64_t time;
    int complete;  // invocations sort before completions at the same instant (they overlap)
    int op;
  };
  std::vector<Event> events;
  for (const auto& op : ops) {
    if (!h.kept[static_cast<std::size_t>(op.id)]) continue;
    events.push_back({op.invoke, 0, op.id});
    if (!op.unknown()) events.push_back({op.complete, 1, op.id});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.time, a.complete, a.op) < std::tie(b.time, b.complete, b.op);
  });
  int previous = -1;
  for (const auto& e : events) {
    const int node = g.add_node();
    if (previous >= 0) g.edge(previous, node);
    if (e.complete != 0) {
      g.edge(e.op, node);
    } else {
      g.edge(node, e.op);
    }
    previous = node;
  }
  const std::size_t count = levels.fresh.size();  // reads occupy levels 0..count-2
  std::vector<int> before(count);  // before[j]: after every read of level < j, before adds of j
  std::vector<int> after(count);   // after[j]: after the adds of level j, before reads of >= j
  for (std::size_t j = 0; j < count; ++j) {
    before[j] = g.add_node();
    after[j] = g.add_node();
    if (j > 0) {
      g.edge(before[j - 1], before[j]);
      g.edge(after[j - 1], after[j]);
      for (int r : levels.reads[j - 1]) g.edge(r, before[j]);
    }
    for (auto v : levels.fresh[j]) {
      const int add = h.adder.at(v);
      g.edge(before[j], add);
      g.edge(add, after[j]);
    }
    if (j < levels.reads.size()) {
      for (int r : levels.reads[j]) g.edge(after[j], r);
    }
  }
  return g;
}

// Kahn's algorithm, smallest node first so the witness is deterministic: the kept ops in order
// into `witness`; per node, whether it was placed (all are, unless there is a cycle).
std::vector<bool> topological_order(const Graph& g, const std::vector<Operation>& ops,
                                    const SetHistory& h, std::vector<int>& witness) {
  const std::size_t n = g.out.size();
  std::vector<int> indegree(n, 0);
  for (const auto& edges : g.out) {
    for (int to : edges) ++indegree[static_cast<std::size_t>(to)];
  }
  std::set<int> ready;
  for (std::size_t v = 0; v < n; ++v) {
    if (indegree[v] == 0) ready.insert(static_cast<int>(v));
  }
  std::vector<bool> done(n, false);
  while (!ready.empty()) {
    const int v = *ready.begin();
    ready.erase(ready.begin());
    done[static_cast<std::size_t>(v)] = true;
    if (static_cast<std::size_t>(v) < ops.size() && h.kept[static_cast<std::size_t>(v)])
      witness.push_back(v);
    for (int to : g.out[static_cast<std::size_t>(v)]) {
      if (--indegree[static_cast<std::size_t>(to)] == 0) ready.insert(to);
    }
  }
  return done;
}

// The ops on a cycle among the nodes not placed, in edge order: walks back along in-edges until a
// node repeats.
std::vector<int> cycle_ops(const Graph& g, const std::vector<bool>& done, std::size_t ops) {
  const std::size_t n = g.out.size();
  std::vector<std::vector<int>> in(n);
  for (std::size_t v = 0; v < n; ++v) {
    for (int to : g.out[v]) in[static_cast<std::size_t>(to)].push_back(static_cast<int>(v));
  }
  int v = static_cast<int>(std::find(done.begin(), done.end(), false) - done.begin());
  std::vector<int> position(n, -1);
  std::vector<int> walk;
  while (position[static_cast<std::size_t>(v)] < 0) {
    position[static_cast<std::size_t>(v)] = static_cast<int>(walk.size());
    walk.push_back(v);
    for (int from : in[static_cast<std::size_t>(v)]) {
      if (!done[static_cast<std::size_t>(from)]) {
        v = from;
        break;
      }
    }
  }
  std::vector<int> cycle(walk.begin() + position[static_cast<std::size_t>(v)], walk.end());
  std::reverse(cycle.begin(), cycle.end());  // walked backwards; now in edge order
  std::vector<int> out;
  for (int u : cycle) {
    if (static_cast<std::size_t>(u) < ops) out.push_back(u);
  }
  return out;
}

// No order fits: the op invoked last on the cycle cannot be placed; each step of the cycle says why
// one op must precede the next.
CheckResult cycle_violation(const std::vector<Operation>& ops, const SetHistory& h,
                            const std::vector<int>& cycle) {
  const int failing = *std::max_element(cycle.begin(), cycle.end(), [&](int a, int b) {
    return ops[static_cast<std::size_t>(a)].invoke < ops[static_cast<std::size_t>(b)].invoke;
  });
  std::string text = "No order of the operations fits: ";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    const auto& a = ops[static_cast<std::size_t>(cycle[i])];
    const auto& b = ops[static_cast<std::size_t>(cycle[(i + 1) % cycle.size()])];
    std::string why;
    if (!a.unknown() && a.complete < b.invoke) {
      why = "it ended before the other began";
    } else if (b.f == "read" && a.f == "add") {
      why = "the read saw " + to_text(a.input);
    } else if (a.f == "read" && b.f == "add") {
      why = "the read " + values_text(h.seen[static_cast<std::size_t>(a.id)]) + " did not see " +
            to_text(b.input);
    } else {
      why = "through the operations between them";
    }
    text += (i ? "; " : "") + who(a) + " must precede " + who(b) + " (" + why + ")";
  }
  return violation(failing, text + ".", ops.size());
}

}  // namespace

std::optional<CheckResult> check_set_special(const std::vector<Operation>& ops) {
  auto history = read_set_history(ops);
  if (!history) return std::nullopt;
  if (auto bad = unadded_value(ops, *history)) return bad;
  auto chained = chain_levels(ops, *history);
  if (auto* bad = std::get_if<CheckResult>(&chained)) return *bad;
  auto& levels = std::get<Levels>(chained);
  place_unseen_adds(ops, *history, levels);
  const Graph g = order_graph(ops, *history, levels);
  CheckResult result;
  result.states_explored = ops.size();
  const auto done = topological_order(g, ops, *history, result.witness);
  if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) {
    result.verdict = Verdict::kLinearizable;
    return result;
  }
  auto cycle = cycle_violation(ops, *history, cycle_ops(g, done, ops.size()));
  cycle.witness = std::move(result.witness);
  return cycle;
}

}  // namespace seer::check
