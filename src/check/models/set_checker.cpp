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

}  // namespace

std::optional<CheckResult> check_set_special(const std::vector<Operation>& ops) {
  std::map<std::int64_t, int> adder;  // value -> op id of its (only) add
  std::vector<std::vector<std::int64_t>> seen(ops.size());
  std::vector<bool> is_read(ops.size(), false);
  std::vector<bool> kept(ops.size(), true);  // ops that constrain the order
  for (const auto& op : ops) {
    const auto i = static_cast<std::size_t>(op.id);
    if (op.f == "add") {
      if (!op.input.is_number_integer()) return std::nullopt;  // the general path names the error
      if (!adder.emplace(op.input.get<std::int64_t>(), op.id).second) return std::nullopt;
    } else if (op.f == "read") {
      is_read[i] = true;
      if (op.unknown() || !op.output.is_array()) {
        kept[i] = false;  // saw nothing
        continue;
      }
      for (const auto& v : op.output) {
        if (!v.is_number_integer()) return std::nullopt;
        seen[i].push_back(v.get<std::int64_t>());
      }
      if (!std::is_sorted(seen[i].begin(), seen[i].end()))
        std::sort(seen[i].begin(), seen[i].end());
      seen[i].erase(std::unique(seen[i].begin(), seen[i].end()), seen[i].end());
    } else {
      return std::nullopt;
    }
  }

  CheckResult result;
  result.states_explored = ops.size();
  // Values that no add wrote (looked up in a sorted array: a read may hold thousands of values).
  std::vector<std::int64_t> added_values;
  added_values.reserve(adder.size());
  for (const auto& [v, id] : adder) added_values.push_back(v);
  for (const auto& op : ops) {
    for (auto v : seen[static_cast<std::size_t>(op.id)]) {
      if (!std::binary_search(added_values.begin(), added_values.end(), v)) {
        result.verdict = Verdict::kNotLinearizable;
        result.failing_op = op.id;
        result.explanation = who(op) + " returned " + std::to_string(v) + ", which nothing added.";
        return result;
      }
    }
  }
  // Distinct read sets, smallest first; they must form a chain.
  std::vector<int> reads;
  for (const auto& op : ops) {
    if (is_read[static_cast<std::size_t>(op.id)] && kept[static_cast<std::size_t>(op.id)])
      reads.push_back(op.id);
  }
  auto set_of = [&](int id) -> const std::vector<std::int64_t>& {
    return seen[static_cast<std::size_t>(id)];
  };
  std::stable_sort(reads.begin(), reads.end(), [&](int a, int b) {
    return set_of(a).size() != set_of(b).size() ? set_of(a).size() < set_of(b).size()
                                                : set_of(a) < set_of(b);
  });
  std::vector<int> level_of(ops.size(), -1);
  std::vector<std::vector<std::int64_t>> fresh;  // values first seen at each level
  std::vector<std::vector<int>> level_reads;
  for (std::size_t r = 0; r < reads.size(); ++r) {
    const auto& s = set_of(reads[r]);
    if (r > 0 && s == set_of(reads[r - 1])) {
      level_of[static_cast<std::size_t>(reads[r])] = static_cast<int>(level_reads.size() - 1);
      level_reads.back().push_back(reads[r]);
      continue;
    }
    std::vector<std::int64_t> added;
    if (r > 0) {
      const auto& prev = set_of(reads[r - 1]);
      if (!std::includes(s.begin(), s.end(), prev.begin(), prev.end())) {
        const int a = reads[r - 1];
        const int b = reads[r];
        std::vector<std::int64_t> only_a;
        std::vector<std::int64_t> only_b;
        std::set_difference(prev.begin(), prev.end(), s.begin(), s.end(),
                            std::back_inserter(only_a));
        std::set_difference(s.begin(), s.end(), prev.begin(), prev.end(),
                            std::back_inserter(only_b));
        const auto& first = ops[static_cast<std::size_t>(a)];
        const auto& second = ops[static_cast<std::size_t>(b)];
        const bool a_later = first.invoke > second.invoke;
        result.verdict = Verdict::kNotLinearizable;
        result.failing_op = a_later ? a : b;
        result.explanation = who(first) + " saw " + std::to_string(only_a.front()) + " but not " +
                             std::to_string(only_b.front()) + ", and " + who(second) + " saw " +
                             std::to_string(only_b.front()) + " but not " +
                             std::to_string(only_a.front()) +
                             ": adds are never undone, so no order of the two adds explains both "
                             "reads.";
        return result;
      }
      std::set_difference(s.begin(), s.end(), prev.begin(), prev.end(), std::back_inserter(added));
    } else {
      added = s;
    }
    fresh.push_back(added);
    level_reads.push_back({reads[r]});
    level_of[static_cast<std::size_t>(reads[r])] = static_cast<int>(level_reads.size() - 1);
  }
  // Adds no read saw: an unknown one may never have happened, so it drops out; a completed one must
  // follow every read.
  std::vector<std::int64_t> unseen;
  std::set<std::int64_t> observed;
  for (const auto& f : fresh) observed.insert(f.begin(), f.end());
  for (const auto& [v, id] : adder) {
    if (observed.count(v) != 0) continue;
    if (ops[static_cast<std::size_t>(id)].unknown()) {
      kept[static_cast<std::size_t>(id)] = false;
    } else {
      unseen.push_back(v);
    }
  }
  fresh.push_back(unseen);  // level k+1 has no reads

  // Graph: op nodes first (node id = op id), then the time chain, then the level chains.
  Graph g;
  g.out.resize(ops.size());
  struct Event {
    std::int64_t time;
    int complete;  // invocations sort before completions at the same instant (they overlap)
    int op;
  };
  std::vector<Event> events;
  for (const auto& op : ops) {
    if (!kept[static_cast<std::size_t>(op.id)]) continue;
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
  const std::size_t levels = fresh.size();  // reads occupy levels 0..levels-2
  std::vector<int> before(levels);  // before[j]: after every read of level < j, before adds of j
  std::vector<int> after(levels);   // after[j]: after the adds of level j, before reads of >= j
  for (std::size_t j = 0; j < levels; ++j) {
    before[j] = g.add_node();
    after[j] = g.add_node();
    if (j > 0) {
      g.edge(before[j - 1], before[j]);
      g.edge(after[j - 1], after[j]);
      for (int r : level_reads[j - 1]) g.edge(r, before[j]);
    }
    for (auto v : fresh[j]) {
      g.edge(before[j], adder[v]);
      g.edge(adder[v], after[j]);
    }
    if (j < level_reads.size()) {
      for (int r : level_reads[j]) g.edge(after[j], r);
    }
  }

  // Kahn's algorithm, smallest node first so the witness is deterministic.
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
    if (static_cast<std::size_t>(v) < ops.size() && kept[static_cast<std::size_t>(v)])
      result.witness.push_back(v);
    for (int to : g.out[static_cast<std::size_t>(v)]) {
      if (--indegree[static_cast<std::size_t>(to)] == 0) ready.insert(to);
    }
  }
  if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) {
    result.verdict = Verdict::kLinearizable;
    return result;
  }

  // A cycle: walk back along in-edges inside the unfinished nodes until a node repeats.
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
  std::vector<int> cycle_ops;
  for (int u : cycle) {
    if (static_cast<std::size_t>(u) < ops.size()) cycle_ops.push_back(u);
  }
  // The op that cannot be placed: the one invoked last in the cycle.
  result.verdict = Verdict::kNotLinearizable;
  result.failing_op = *std::max_element(cycle_ops.begin(), cycle_ops.end(), [&](int a, int b) {
    return ops[static_cast<std::size_t>(a)].invoke < ops[static_cast<std::size_t>(b)].invoke;
  });
  std::string text = "No order of the operations fits: ";
  for (std::size_t i = 0; i < cycle_ops.size(); ++i) {
    const auto& a = ops[static_cast<std::size_t>(cycle_ops[i])];
    const auto& b = ops[static_cast<std::size_t>(cycle_ops[(i + 1) % cycle_ops.size()])];
    std::string why;
    if (!a.unknown() && a.complete < b.invoke) {
      why = "it ended before the other began";
    } else if (b.f == "read" && a.f == "add") {
      why = "the read saw " + to_text(a.input);
    } else if (a.f == "read" && b.f == "add") {
      why = "the read " + values_text(seen[static_cast<std::size_t>(a.id)]) + " did not see " +
            to_text(b.input);
    } else {
      why = "through the operations between them";
    }
    text += (i ? "; " : "") + who(a) + " must precede " + who(b) + " (" + why + ")";
  }
  result.explanation = text + ".";
  return result;
}

}  // namespace seer::check
