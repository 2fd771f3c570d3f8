#include "oracle.hpp"

#include "partition.hpp"
#include "promises/model/footprint.hpp"
#include "promises/model/invariants.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string_view>

namespace seer::promises::design {

namespace {

using json = nlohmann::json;

std::string describe(const Promise& p) {
  std::string s(state_name(p.state));
  if (p.value.data) s += " with \"" + *p.value.data + "\"";
  if (p.settled_at) s += " at " + std::to_string(*p.settled_at);
  return s;
}

// The object at `path` under `j`, or nullptr.
const json* at_path(const json& j, std::initializer_list<const char*> path) {
  const json* node = &j;
  for (const char* field : path) {
    if (!node->is_object()) return nullptr;
    const auto it = node->find(field);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node->is_object() ? node : nullptr;
}

// The string field `key` of `j`, not copied: "" if absent, as json::value's default (observe runs
// for every response of a run).
std::string_view text(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return {};
  return it->get_ref<const std::string&>();
}

// A record's "value" (null if absent), not copied.
const json& shown_value(const json& record) {
  static const json kNull;
  const auto it = record.find("value");
  return it == record.end() ? kNull : *it;
}

// The promise record a response is about: the one whose id the request converged first.
const json* primary_record(std::string_view kind, const json& response) {
  if (kind == "task.fence") return at_path(response, {"data", "action", "data", "promise"});
  if (kind == "task.suspend") return nullptr;
  return at_path(response, {"data", "promise"});
}

}  // namespace

Oracle::Oracle(TruthReader truth) : truth_(std::move(truth)) {}
Oracle::Oracle(Truth truth) : truth_(std::move(truth.read)), version_(std::move(truth.version)) {}

const Promise* Oracle::stored(const std::string& id) const {
  const auto part = latest_.find(origin_of(id));
  if (part == latest_.end()) return nullptr;
  const auto it = part->second->promises.find(id);
  return it == part->second->promises.end() ? nullptr : &it->second;
}

void Oracle::advance() {
  if (version_) {
    const std::int64_t version = version_();
    if (version_read_ == version) return;  // nothing committed since the reader was last asked
    version_read_ = version;
  }
  for (auto& stored : truth_()) {
    static const State kNone;
    auto& latest = latest_[stored.origin];
    compare(stored.origin, latest ? *latest : kNone, *stored.state, stored.revision);
    latest = std::move(stored.state);
    changed_.insert(stored.origin);
    ++revisions_;
  }
}

void Oracle::compare(const std::string& origin, const State& before, const State& after,
                     std::int64_t revision) {
  if (transition_) return;
  const std::string at = fmt::format(" (store revision {}, origin {})", revision, origin);
  for (const auto& [id, p] : before.promises) {
    const auto it = after.promises.find(id);
    if (it == after.promises.end()) {
      transition_ =
          fmt::format("T1: promise {} ({}) disappeared from the store{}", id, describe(p), at);
      return;
    }
    const auto& q = it->second;
    if (p.param != q.param || p.tags != q.tags || p.timeout_at != q.timeout_at ||
        p.created_at != q.created_at) {
      transition_ = fmt::format("T2: promise {} was created again with other fields{}", id, at);
      return;
    }
    if (p.state != PromiseState::pending &&
        (p.state != q.state || p.value != q.value || p.settled_at != q.settled_at)) {
      transition_ = fmt::format("T3: promise {} was settled {}, but the store now holds it {}{}",
                                id, describe(p), describe(q), at);
      return;
    }
  }
  for (const auto& [id, t] : before.tasks) {
    const auto it = after.tasks.find(id);
    if (it == after.tasks.end()) {
      transition_ = fmt::format("T1: task {} disappeared from the store{}", id, at);
      return;
    }
    if (it->second.version < t.version) {
      transition_ = fmt::format("T5: task {} went from version {} back to {}{}", id, t.version,
                                it->second.version, at);
      return;
    }
    if (t.state == TaskState::fulfilled && !(it->second == t)) {
      transition_ = fmt::format("T6: fulfilled task {} changed (now {}){}", id,
                                state_name(it->second.state), at);
      return;
    }
  }
}

std::optional<sim::Finding> Oracle::pending_past(std::int64_t due_by) {
  advance();
  const Promise* first = nullptr;
  std::string first_origin;
  int overdue = 0;
  for (const auto& [origin, shared] : latest_) {
    const State& state = *shared;
    for (const auto& [id, p] : state.promises) {
      // Only targeted promises are the sweep's to time out (spec 3.3: the others time out lazily,
      // when a request reads them, and may stay pending in the store).
      if (p.state != PromiseState::pending || p.timeout_at > due_by || !has_target(p.tags)) {
        continue;
      }
      ++overdue;
      if (!first || p.timeout_at < first->timeout_at) {
        first = &p;
        first_origin = origin;
      }
    }
  }
  if (!first) return std::nullopt;
  auto text = fmt::format("promise {} (origin {}) is still pending, {} ms past its timeout at {}",
                          first->id, first_origin, due_by - first->timeout_at, first->timeout_at);
  if (overdue > 1) text += fmt::format("; {} other overdue promise(s) too", overdue - 1);
  return sim::Finding{std::move(text), {first->id}};
}

std::optional<sim::Finding> Oracle::leases_past(std::int64_t due_by) {
  advance();
  std::string first;
  std::int64_t first_at = 0;
  std::string holder;
  int held = 0;
  for (const auto& [origin, shared] : latest_) {
    const State& state = *shared;
    for (const auto& [id, timeout] : state.task_timeouts.entries()) {
      if (timeout.kind != TimeoutKind::lease || timeout.at > due_by) continue;
      const auto task = state.tasks.find(id);
      if (task == state.tasks.end() || task->second.state != TaskState::acquired) continue;
      ++held;
      if (first.empty() || timeout.at < first_at) {
        first = id;
        first_at = timeout.at;
        holder = task->second.pid.value_or("?");
      }
    }
  }
  if (first.empty()) return std::nullopt;
  auto text = fmt::format("task {} is still acquired by {}, {} ms after its lease expired at {}",
                          first, holder, due_by - first_at, first_at);
  if (held > 1) text += fmt::format("; {} other expired lease(s) too", held - 1);
  return sim::Finding{std::move(text), {first}};
}

namespace {

bool runs(const Task& t) {
  return t.state == TaskState::pending || t.state == TaskState::acquired;
}

std::string describe(const Task& t) {
  std::string s = fmt::format("{} at version {}", state_name(t.state), t.version);
  if (t.pid) s += " by " + *t.pid;
  return s;
}

}  // namespace

std::map<std::string, std::string> Oracle::running_tasks() {
  advance();
  std::map<std::string, std::string> out;
  for (const auto& [origin, shared] : latest_) {
    const State& state = *shared;
    for (const auto& [id, task] : state.tasks) {
      const auto p = state.promises.find(id);
      if (runs(task) && p != state.promises.end() && p->second.state == PromiseState::pending) {
        out.emplace(id, describe(task));
      }
    }
  }
  return out;
}

std::optional<sim::Finding> Oracle::unfinished(const std::map<std::string, std::string>& running) {
  return unfinished_memo(running);
}

bool Oracle::finished(const std::map<std::string, std::string>& running,
                      std::optional<sim::Finding>& awaited) {
  const auto& finding = unfinished_memo(running);
  if (!finding) return true;
  // Checked after every event of the heal phase: the finding is copied only when it changed.
  if (!awaited || unfinished_memo_.handed != unfinished_memo_.generation) {
    awaited = finding;
    unfinished_memo_.handed = unfinished_memo_.generation;
  }
  return false;
}

const std::optional<sim::Finding>& Oracle::unfinished_memo(
    const std::map<std::string, std::string>& running) {
  advance();
  // Checked after every event of the heal phase (up to 35 s of it), most often with nothing
  // written since: the answer depends only on the stored tasks and `running`.
  auto& memo = unfinished_memo_;
  if (memo.answered && memo.revisions == revisions_ && memo.running == &running &&
      memo.running_size == running.size()) {
    return memo.finding;  // nullopt when none was left
  }
  memo.answered = false;
  const std::string* first = nullptr;
  const std::string* first_then = nullptr;
  const Task* first_task = nullptr;
  int left = 0;
  for (const auto& [id, then] : running) {
    const auto part = latest_.find(origin_of(id));
    if (part == latest_.end()) throw std::out_of_range("unfinished: a task of an unknown origin");
    const auto& tasks = part->second->tasks;
    const auto task = tasks.find(id);  // tasks never disappear (T1)
    if (task == tasks.end() || !runs(task->second)) continue;
    if (left++ > 0) continue;
    first = &id;
    first_then = &then;
    first_task = &task->second;
  }
  memo.running = &running;
  memo.running_size = running.size();
  memo.revisions = revisions_;
  memo.answered = true;
  if (left == 0) {
    memo.left = 0;
    memo.finding.reset();
    return memo.finding;
  }
  // The text is formatted again only when what it says changed.
  if (!memo.finding || memo.id != *first || memo.then != *first_then ||
      !(memo.task == *first_task) || memo.left != left) {
    auto text = fmt::format("task {} is still {} (at the heal: {}), its promise pending", *first,
                            describe(*first_task), *first_then);
    if (left > 1) text += fmt::format("; {} other unfinished task(s) too", left - 1);
    memo.id = *first;
    memo.then = *first_then;
    memo.task = *first_task;
    memo.left = left;
    memo.finding = sim::Finding{std::move(text), {*first}};
    ++memo.generation;
  }
  return memo.finding;
}

std::set<std::pair<std::string, std::string>> Oracle::settled_waits(
    const std::map<std::string, std::set<std::string>>& open) {
  advance();
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [process, ids] : open) {
    for (const auto& id : ids) {
      const Promise* p = stored(id);
      if (p && p->state != PromiseState::pending) out.emplace(process, id);
    }
  }
  return out;
}

std::optional<sim::Finding> Oracle::unlearned(
    const std::set<std::pair<std::string, std::string>>& waits,
    const std::map<std::string, std::set<std::string>>& open) {
  advance();
  const std::pair<std::string, std::string>* first = nullptr;
  int left = 0;
  for (const auto& w : waits) {
    const auto it = open.find(w.first);
    if (it == open.end() || !it->second.count(w.second)) continue;
    if (left++ == 0) first = &w;
  }
  if (!first) return std::nullopt;
  const Promise* p = stored(first->second);
  auto text = fmt::format("{} still awaits promise {}, which the store holds {}", first->first,
                          first->second, describe(*p));
  if (left > 1) text += fmt::format("; {} other unlearned wait(s) too", left - 1);
  return sim::Finding{std::move(text), {first->second}};
}

std::optional<sim::InvariantFailure> Oracle::violated() {
  // Most events commit nothing and find nothing: then nothing is read or built.
  if (version_ && version_read_ == version_() && changed_.empty() && !invariant_ && !transition_ &&
      !acknowledged_ && !fencing_) [[likely]] {
    return std::nullopt;
  }
  return violated_after_change();
}

std::optional<sim::InvariantFailure> Oracle::violated_after_change() {
  advance();
  if (!changed_.empty()) {
    if (!invariant_) {
      for (const auto& origin : changed_) {
        const auto broken = check_invariants(*latest_[origin]);
        if (!broken.empty()) {
          invariant_ = broken.front() + " (origin " + origin + ")";
          break;
        }
      }
    }
    changed_.clear();
  }
  // Each finding is kept once made (the run stops at the first): reported in the invariants' order.
  if (invariant_) [[unlikely]] {
    return sim::InvariantFailure{kStateInvariants, *invariant_};
  }
  if (transition_) [[unlikely]] {
    return sim::InvariantFailure{kSettledOnce, *transition_};
  }
  if (acknowledged_) [[unlikely]] {
    return sim::InvariantFailure{kAcknowledgedDurable, *acknowledged_};
  }
  if (fencing_) [[unlikely]] {
    return sim::InvariantFailure{kOneGrantPerVersion, *fencing_};
  }
  return std::nullopt;
}

void Oracle::observe(const json& request, const json& response) {
  advance();
  const int status = response["head"].value("status", 0);
  if (status != 200) return;
  const std::string_view kind = text(request, "kind");
  if (!acknowledged_) {
    if (const json* record = primary_record(kind, response)) {
      const std::string id(text(*record, "id"));
      const Promise* p = stored(id);
      const std::string_view state = text(*record, "state");
      if (!p) {
        acknowledged_ =
            fmt::format("H5: a {} response showed promise {} ({}), but the store does not hold it",
                        kind, id, state);
      } else if (state != "pending" &&
                 (state_name(p->state) != state || value_json(p->value) != shown_value(*record))) {
        acknowledged_ =
            fmt::format("H5: a {} response showed promise {} {} with {}, but the store holds it {}",
                        kind, id, state, shown_value(*record).dump(), describe(*p));
      }
    }
  }
  if (fencing_ || (kind != "task.acquire" && kind != "task.create")) return;
  const auto& data = response["data"];
  if (data.is_object() && data.contains("task") && text(data["task"], "state") == "acquired") {
    const auto& task = data["task"];
    const std::pair<std::string, std::int64_t> grant{task.value("id", ""),
                                                     task.value("version", std::int64_t{0})};
    const std::string pid = task.value("pid", "");
    const auto [it, first] = grants_.emplace(grant, pid);
    if (!first) {
      fencing_ = "H6: version " + std::to_string(grant.second) + " of task " + grant.first +
                 " was granted twice, to " + it->second + " and to " + pid;
    }
  }
}

}  // namespace seer::promises::design
