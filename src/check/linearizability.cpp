#include "seer/check/linearizability.hpp"

#include "keyed_history.hpp"
#include "rounds.hpp"
#include "seer/assert.hpp"
#include "visited_set.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
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

using Clock = std::chrono::steady_clock;

// How far a call to Search::advance got.
enum class Progress { kDecided, kOutOfSteps, kOutOfTime };

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
    state_ = history_.initial();
    entry_ = entries_[0].next;
  }

  // Searches on until the verdict is known, `budget` steps have been taken in all (counted from
  // the start, across calls) or `deadline` has passed; a later call carries on where this one
  // stopped, as if there had been one call.
  Progress advance(std::uint64_t budget, Clock::time_point deadline) {
    while (!decided_) {
      if (entry_ == -1) {
        verdict_ = Verdict::kLinearizable;
        decided_ = true;
        break;
      }
      if (steps_ == budget) return Progress::kOutOfSteps;
      if (((steps_ + 1) & 0xfff) == 0 && Clock::now() > deadline) return Progress::kOutOfTime;
      ++steps_;
      const Entry& e = entries_[entry_];
      if (e.call) {
        step_call(e);
        continue;
      }
      if (ops_[e.op].unknown()) {  // only outcome-unknown ops remain: they may never happen
        entry_ = -1;
        continue;
      }
      if (!step_return(e)) {
        verdict_ = Verdict::kNotLinearizable;
        decided_ = true;
      }
    }
    return Progress::kDecided;
  }

  std::uint64_t steps() const { return steps_; }

  // Once decided: the witness (linearizable), or the longest linearizable prefix and the op that
  // could not follow it.
  CheckResult result(bool witness_states) const {
    SEER_ASSERT(decided_, "a result is asked of a decided search");
    CheckResult result;
    result.verdict = verdict_;
    result.states_explored = steps_;
    if (verdict_ == Verdict::kNotLinearizable) {
      result.failing_op = best_failing_;
      result.witness = best_prefix_;
      return result;
    }
    for (const auto& f : stack_) {
      result.witness.push_back(entries_[f.call].op);
      if (witness_states) {
        result.witness_states.push_back(history_.describe_state_of(
            next_pool_[f.next_begin + f.chosen], static_cast<std::size_t>(entries_[f.call].op)));
      }
    }
    return result;
  }

 private:
  // A linearized call, the state before it, and the states it may lead to (one for a
  // deterministic model; `chosen` indexes the one taken, the rest are tried on backtracking).
  // The states are next_pool_[next_begin, next_end): the frames' ranges are stacked in one
  // vector, so linearizing a call allocates nothing.
  struct Frame {
    int call;
    StateId state_before;
    std::size_t next_begin;
    std::size_t next_end;
    std::size_t chosen;
    bool unknown_pass;
  };

  // Linearizes `call` from the current state with its first not yet explored successor at or
  // after `from` among next_pool_[begin, end), the top of the pool; false if there is none (and
  // the range is dropped from the pool).
  bool try_linearize(int call, std::size_t begin, std::size_t end, std::size_t from) {
    const int op = entries_[call].op;
    set_bit(op, true);
    for (std::size_t i = from; begin + i < end; ++i) {
      const StateId chosen = next_pool_[begin + i];
      if (!visited_.insert(linearized_, chosen)) continue;
      stack_.push_back({call, state_, begin, end, i, unknown_pass_});
      state_ = chosen;
      lift(call);
      return true;
    }
    set_bit(op, false);
    next_pool_.resize(begin);
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
    const std::size_t begin = next_pool_.size();
    next_pool_.insert(next_pool_.end(), successors_.begin(), successors_.end());
    if (!successors_.empty() && try_linearize(entry_, begin, next_pool_.size(), 0)) {
      entry_ = entries_[0].next;
      unknown_pass_ = false;
      return;
    }
    entry_ = e.next;
  }

  // The return of an op of known outcome before its call was linearized: nothing fits here. Try
  // the calls of unknown outcome, then backtrack. False when there is nothing left to undo (the
  // history is not linearizable; best_prefix_ and best_failing_ say where it got furthest).
  bool step_return(const Entry& e) {
    if (!unknown_pass_) {  // no call of known outcome fits here: try the others
      unknown_pass_ = true;
      entry_ = entries_[0].next;
      return true;
    }
    if (stack_.size() >= best_) {
      best_ = stack_.size();
      best_failing_ = e.op;
      best_prefix_.clear();
      for (const auto& f : stack_) best_prefix_.push_back(entries_[f.call].op);
    }
    if (stack_.empty()) return false;
    const Frame top = stack_.back();
    stack_.pop_back();
    state_ = top.state_before;
    set_bit(entries_[top.call].op, false);
    unlift(top.call);
    // The same call with another of its possible effects, before moving past it.
    unknown_pass_ = top.unknown_pass;
    if (top.next_begin + top.chosen + 1 < top.next_end) {
      if (try_linearize(top.call, top.next_begin, top.next_end, top.chosen + 1)) {
        entry_ = entries_[0].next;
        unknown_pass_ = false;
        return true;
      }
    } else {
      next_pool_.resize(top.next_begin);
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
  int best_failing_ = -1;
  std::vector<int> best_prefix_;
  std::vector<StateId> successors_;
  std::vector<StateId> next_pool_;  // the frames' successor states, stacked
  std::uint64_t steps_ = 0;
  bool decided_ = false;
  Verdict verdict_ = Verdict::kUnknown;
};

// One partition's search, from its operations to its verdict, in as many calls to advance() as
// it takes. Leaves out what the model says cannot matter, then searches over the rest with ids
// renumbered; the result names the partition's own ids.
class PartitionSearch {
 public:
  // `movable`: the same vector as `ops`, whose kept ops may be moved out while the search runs
  // (they are moved back when it ends), or null: they are copied.
  PartitionSearch(const std::vector<Operation>& ops, std::unique_ptr<CompiledHistory> history,
                  const AnyModel& model, std::vector<Operation>* movable = nullptr)
      : ops_(ops), movable_(movable), model_(model), history_(std::move(history)) {
    keep_what_can_matter();
    search_ = std::make_unique<Search>(*searched_, *history_);
  }
  PartitionSearch(const PartitionSearch&) = delete;
  PartitionSearch& operator=(const PartitionSearch&) = delete;
  ~PartitionSearch() {
    search_.reset();
    history_.reset();
    if (!moved_) return;
    for (std::size_t k = 0; k < kept_.size(); ++k) {
      auto& op = (*movable_)[static_cast<std::size_t>(original_[k])];
      op = std::move(kept_[k]);
      op.id = original_ids_[k];
    }
  }

  Progress advance(std::uint64_t budget, Clock::time_point deadline) {
    return last_ = search_->advance(budget, deadline);
  }
  std::uint64_t steps() const { return search_->steps(); }
  bool decided() const { return last_ == Progress::kDecided; }

  // The verdict, or unknown: CheckOptions::max_steps or the time limit ran out (or the search was
  // left paused).
  CheckResult result(const CheckOptions& options) const {
    if (!decided()) {
      CheckResult result;
      result.verdict = Verdict::kUnknown;
      result.states_explored = steps();
      result.explanation = "gave up after the time limit";
      if (options.max_steps != 0 && steps() + 1 >= options.max_steps) {
        result.states_explored = options.max_steps;
        result.explanation = "gave up after " + std::to_string(options.max_steps) + " search steps";
      }
      return result;
    }
    CheckResult result = search_->result(options.witness_states);
    if (result.verdict == Verdict::kNotLinearizable) {
      result.explanation = explain(result.failing_op);
      result.failing_op = original_[static_cast<std::size_t>(result.failing_op)];
    }
    for (auto& id : result.witness) id = original_[static_cast<std::size_t>(id)];
    return result;
  }

 private:
  void keep_what_can_matter() {
    auto prune = history_->prunable();
    SEER_ASSERT(prune.size() == ops_.size(), "prunable names every operation");
    // An outcome-unknown op invoked after every known outcome was returned cannot have shaped any
    // of them: it may as well never have happened.
    std::int64_t last_return = std::numeric_limits<std::int64_t>::min();
    for (const auto& op : ops_)
      if (!op.unknown()) last_return = std::max(last_return, op.complete);
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].unknown() && ops_[i].invoke > last_return) prune[i] = true;
    }
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (!prune[i]) original_.push_back(static_cast<int>(i));
    }
    // With every op kept and numbered by its place, the search reads the caller's ops: copying
    // each op's values would cost more than a small history's search.
    bool in_place = original_.size() == ops_.size();
    for (std::size_t i = 0; in_place && i < ops_.size(); ++i) {
      in_place = ops_[i].id == static_cast<int>(i);
    }
    if (!in_place) {
      // Moved if the caller allows (the search reads each op's times only, the model its values
      // through kept_), else copied.
      moved_ = movable_ != nullptr;
      kept_.reserve(original_.size());
      for (const int i : original_) {
        auto& op = ops_[static_cast<std::size_t>(i)];
        if (moved_) {
          original_ids_.push_back(op.id);
          kept_.push_back(std::move((*movable_)[static_cast<std::size_t>(i)]));
        } else {
          kept_.push_back(op);
        }
        kept_.back().id = static_cast<int>(kept_.size() - 1);
      }
    }
    searched_ = in_place ? &ops_ : &kept_;
    history_->keep(original_, *searched_);
  }

  // Why the kept op `failing` could not be placed: the model's sentence, or a general one.
  std::string explain(int failing) const {
    if (moved_) {  // the model reads every op: copies of the kept ones go back (a rare path)
      for (std::size_t k = 0; k < kept_.size(); ++k) {
        auto& op = (*movable_)[static_cast<std::size_t>(original_[k])];
        op = kept_[k];
        op.id = original_ids_[k];
      }
    }
    const auto& op = ops_[static_cast<std::size_t>(original_[static_cast<std::size_t>(failing)])];
    if (auto why = model_.explain_failure(ops_, op)) return *why;
    return "process " + std::to_string(op.process) + " " +
           history_->describe_operation(static_cast<std::size_t>(failing)) + " during " +
           operation_interval(op) +
           ", but no order of the operations around it allows that result.";
  }

  const std::vector<Operation>& ops_;
  std::vector<Operation>* movable_;  // ops_, if its kept ops may be moved into kept_
  bool moved_ = false;               // they were: the destructor moves them back
  std::vector<int> original_ids_;    // per kept op moved, its id in ops_
  const AnyModel& model_;
  std::vector<Operation> kept_;  // the ops searched, renumbered, if some were left out
  const std::vector<Operation>* searched_ = nullptr;  // kept_ or ops_; the history refers to them
  std::vector<int> original_;                         // per kept op, its index in ops_
  std::unique_ptr<CompiledHistory> history_;
  std::unique_ptr<Search> search_;
  Progress last_ = Progress::kOutOfSteps;
};

// A step budget (steps in all) from CheckOptions::max_steps: the search gives up on reaching
// max_steps, so it may take one fewer.
std::uint64_t step_limit(const CheckOptions& options) {
  return options.max_steps == 0 ? std::numeric_limits<std::uint64_t>::max() : options.max_steps - 1;
}

CheckResult search_history(const std::vector<Operation>& ops,
                           std::unique_ptr<CompiledHistory> history, const AnyModel& model,
                           const CheckOptions& options) {
  PartitionSearch search(ops, std::move(history), model);
  search.advance(step_limit(options), Clock::now() + options.timeout);
  return search.result(options);
}

CheckResult check_one(const std::vector<Operation>& ops, const AnyModel& model,
                      const CheckOptions& options) {
  return search_history(ops, model.compile(ops), model, options);
}

// A paused search past this many steps is dropped, unless its key was alone in its round, and
// starts over on its next turn (a search is deterministic: it retraces its steps). Between rounds
// the memo of every pending key is held at once, where keys checked one after another held one at
// a time; a memo of this many steps takes about 0.35 GB (c50-bad's key "0"), so ten hard keys
// hold a few GB at most. Starting over costs a key that needs S steps at most 3 S (the rounds
// since the drop, then S), and about 2 S when the drop comes early.
constexpr std::uint64_t kKeepPausedSteps = std::uint64_t{1} << 23;

// P-compositionality: a history of independent keys is linearizable iff each key's sub-history is.
// Keys are searched in rounds (rounds.hpp): each key not settled gets a step budget that doubles
// every round, and the rounds stop after the first round that finds a key broken. The key reported
// is the one broken at the smallest budget, the first in key order among those of that round: the
// same for any --jobs. A key that needs hours does not hide one that breaks in a millisecond.
// `owned`: the history's ops may be moved into their keys' (it is `ops`); they are moved back
// before it returns.
CheckResult check_partitioned(const std::vector<Operation>& ops, const AnyModel& model,
                              const CheckOptions& options, std::vector<Operation>* owned) {
  struct Part {
    nlohmann::json key;
    std::vector<Operation> ops;
    std::vector<int> original;
    std::unique_ptr<PreparedCalls> prepared;  // for its first compile (split's, or null)
    std::unique_ptr<PartitionSearch> search;  // under way: null before its first turn, or dropped
    std::optional<CheckResult> result;        // once settled (its search is then let go)
    std::uint64_t reached = 0;                // the most steps its search has taken
  };
  KeyedParts split = model.split(ops);
  std::vector<Part> parts(split.keys.size());
  std::map<std::string, std::size_t> index_of;  // key (as JSON text) -> partition
  for (std::size_t k = 0; k < parts.size(); ++k) {
    Part& part = parts[k];
    part.key = std::move(split.keys[k]);
    index_of.emplace(to_text(part.key), k);
    const auto& members = split.members[k];
    part.original.reserve(members.size());
    for (const int i : members) part.original.push_back(ops[static_cast<std::size_t>(i)].id);
    if (k < split.prepared.size()) part.prepared = std::move(split.prepared[k]);
    if (!split.inner.empty()) {
      part.ops = std::move(split.inner[k]);
      continue;
    }
    // The per-key ops are the history's: moved if the caller lets go of them, else copied.
    part.ops.reserve(members.size());
    for (const int i : members) {
      const auto at = static_cast<std::size_t>(i);
      if (owned) {
        part.ops.push_back(std::move((*owned)[at]));
      } else {
        part.ops.push_back(ops[at]);
      }
      part.ops.back().id = static_cast<int>(part.ops.size() - 1);
    }
  }
  std::vector<Part*> by_key;  // the rounds' tasks, in key order
  for (const auto& [name, i] : index_of) by_key.push_back(&parts[i]);

  // The time limit is the whole history's (`--timeout` is per history), shared by every key. A
  // HistoryError from compiling a key's operations reaches the caller (run_in_rounds).
  RoundsOptions rounds;
  rounds.jobs = options.jobs;
  rounds.deadline = Clock::now() + options.timeout;
  const std::uint64_t limit = step_limit(options);
  run_in_rounds(by_key.size(), rounds, [&](std::size_t task, const Round& round) {
    const std::uint64_t budget = round.budget;
    Part& part = *by_key[task];
    if (!part.search) {
      // The prepared calls serve the first compile only; a dropped search's next compiles anew.
      auto history = part.prepared ? model.compile_prepared(part.ops, std::move(part.prepared))
                                   : model.compile(part.ops);
      part.search =
          std::make_unique<PartitionSearch>(part.ops, std::move(history), model, &part.ops);
    }
    const Progress progress = part.search->advance(std::min(budget, limit), rounds.deadline);
    part.reached = std::max(part.reached, part.search->steps());
    const bool gave_up = progress == Progress::kOutOfSteps && budget >= limit;  // max_steps
    if (progress == Progress::kDecided || gave_up) {
      part.result = part.search->result(options);
      part.search.reset();
      return part.result->verdict == Verdict::kNotLinearizable ? Turn::kDecisive : Turn::kSettled;
    }
    if (round.tasks > 1 && part.search->steps() > kKeepPausedSteps) part.search.reset();
    return Turn::kPending;
  });

  CheckResult result;
  result.verdict = Verdict::kLinearizable;
  result.partitions = parts.size();
  for (Part* part : by_key) {
    // Not settled: the time ran out, or another key was found broken.
    CheckResult part_result;
    if (part->result) {
      part_result = std::move(*part->result);
    } else if (part->search) {
      part_result = part->search->result(options);
    } else {
      part_result.explanation = "gave up after the time limit";
    }
    result.states_explored += std::max(part_result.states_explored, part->reached);
    auto map_ids = [&](std::vector<int> ids) {
      for (auto& id : ids) id = part->original[static_cast<std::size_t>(id)];
      return ids;
    };
    if (part_result.verdict == Verdict::kNotLinearizable &&
        result.verdict != Verdict::kNotLinearizable) {
      result.verdict = Verdict::kNotLinearizable;
      result.partition = part->key;
      result.witness = map_ids(part_result.witness);
      result.failing_op = part->original[static_cast<std::size_t>(part_result.failing_op)];
      result.explanation = "key " + to_text(part->key) + ": " + part_result.explanation;
    } else if (part_result.verdict == Verdict::kUnknown &&
               result.verdict == Verdict::kLinearizable) {
      result.verdict = Verdict::kUnknown;
      result.partition = part->key;
      result.explanation = "key " + to_text(part->key) + ": " + part_result.explanation;
    } else if (result.verdict == Verdict::kLinearizable) {
      const auto ids = map_ids(part_result.witness);
      result.witness.insert(result.witness.end(), ids.begin(), ids.end());
      result.witness_states.insert(result.witness_states.end(), part_result.witness_states.begin(),
                                   part_result.witness_states.end());
    }
  }
  if (result.verdict != Verdict::kLinearizable) result.witness_states.clear();
  if (result.verdict != Verdict::kLinearizable && result.verdict != Verdict::kNotLinearizable) {
    result.witness.clear();
  }
  // The ops moved into their keys' go back where they were (a caller may take their values back):
  // a search still holding some gives them back to its key's first.
  if (owned && split.inner.empty()) {
    for (std::size_t k = 0; k < parts.size(); ++k) {
      Part& part = parts[k];
      part.search.reset();
      const auto& members = split.members[k];
      for (std::size_t j = 0; j < members.size(); ++j) {
        Operation& op = part.ops[j];
        op.id = part.original[j];
        (*owned)[static_cast<std::size_t>(members[j])] = std::move(op);
      }
    }
  }
  return result;
}

// `owned`: as in check_partitioned.
CheckResult check(const std::vector<Operation>& ops, const AnyModel& model,
                  const CheckOptions& options, std::vector<Operation>* owned) {
  if (options.special) {
    if (auto fast = model.check_special(ops)) return *fast;
  }
  if (!model.partitioned()) return check_one(ops, model, options);
  if (options.partition) return check_partitioned(ops, model, options, owned);
  // One search over every key's operations with the tuple of every key's state.
  CheckResult result = search_history(ops, compile_keyed_history(ops, model), model, options);
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

}  // namespace

CheckResult check_linearizable(const std::vector<Operation>& ops, const AnyModel& model,
                               const CheckOptions& options) {
  return check(ops, model, options, nullptr);
}

CheckResult check_linearizable(std::vector<Operation>&& ops, const AnyModel& model,
                               const CheckOptions& options) {
  return check(ops, model, options, &ops);
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
