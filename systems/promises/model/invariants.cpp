#include "promises/model/invariants.hpp"

#include <optional>

#include "promises/model/predicates.hpp"

namespace seer::promises {

namespace {
class Checker {
 public:
  explicit Checker(const State& s) : s_(s) {}

  std::vector<std::string> run() {
    structure();
    for (const auto& [id, p] : s_.promises) promise(p);
    for (const auto& [id, t] : s_.tasks) task(t);
    timeouts();
    creation_order();
    return std::move(violations_);
  }

 private:
  // The message is built only when the check fails: the oracle checks every written partition,
  // and building "I1: ... " + id for every check of every promise cost more than the checks.
  void expect(bool ok, const char* what) {
    if (!ok) violations_.emplace_back(what);
  }
  void expect(bool ok, const char* what, const std::string& id) {
    if (!ok) violations_.push_back(what + id);
  }

  const Promise* find_promise(const std::string& id) const {
    const auto it = s_.promises.find(id);
    return it == s_.promises.end() ? nullptr : &it->second;
  }
  const Task* find_task(const std::string& id) const {
    const auto it = s_.tasks.find(id);
    return it == s_.tasks.end() ? nullptr : &it->second;
  }

  // The model's own bookkeeping: keys are ids, creation_order lists each promise once by seq.
  void structure() {
    expect(s_.creation_order.size() == s_.promises.size(), "creation_order size != promises size");
    for (std::size_t i = 0; i < s_.creation_order.size(); ++i) {
      const Promise* p = find_promise(s_.creation_order[i]);
      if (p == nullptr || p->seq != static_cast<std::int64_t>(i) + 1) {
        violations_.push_back("creation_order[" + std::to_string(i) + "] does not match seq");
      }
    }
    for (const auto& [id, p] : s_.promises) expect(p.id == id, "promise key != id ", id);
    for (const auto& [id, t] : s_.tasks) expect(t.id == id, "task key != id ", id);
  }

  void promise(const Promise& p) {
    const std::string& id = p.id;
    const bool settled = is_settled(p);
    expect(settled == p.settled_at.has_value(), "I1: pending iff settledAt absent: ", id);
    expect(settled || p.value == Value{}, "I1: pending promise has a value: ", id);
    expect(p.created_at <= p.timeout_at, "I2: createdAt > timeoutAt: ", id);
    if (settled && p.settled_at) {
      const std::int64_t at = *p.settled_at;
      expect(p.created_at <= at && at <= p.timeout_at, "I2: settledAt out of range: ", id);
      if (at == p.timeout_at) {
        expect(p.state == timeout_state(p.tags) && p.value == Value{},
               "I3: timed out with the wrong state or a value: ", id);
      }
      expect(p.state != PromiseState::rejected_timedout || at == p.timeout_at,
             "I3: rejected_timedout before the deadline: ", id);
      expect(p.callbacks.empty() && p.listeners.empty(), "I10: settled with callbacks: ", id);
    }
    expect(has_target(p.tags) == (find_task(id) != nullptr), "I5: task iff target: ", id);
    for (const std::string& a : p.callbacks) callback(p, a);
  }

  // I9
  void callback(const Promise& p, const std::string& a) {
    const Promise* awaiter = find_promise(a);
    const Task* t = find_task(a);
    if (!(!is_settled(p) && a != p.id && awaiter != nullptr && !is_settled(*awaiter) &&
          has_target(awaiter->tags) && t != nullptr && t->state != TaskState::fulfilled)) {
      violations_.push_back("I9: bad callback " + a + " on " + p.id);
    }
  }

  bool awaited_by_someone(const std::string& id) const {
    for (const auto& [qid, q] : s_.promises)
      if (q.callbacks.contains(id)) return true;
    return false;
  }

  void task(const Task& t) {
    const std::string& id = t.id;
    const Promise* p = find_promise(id);
    expect(p != nullptr, "I4: task without promise: ", id);
    if (p == nullptr) return;
    expect((t.state == TaskState::fulfilled) == is_settled(*p), "I6: fulfilled iff settled: ", id);
    const bool acquired = t.state == TaskState::acquired;
    expect(t.pid.has_value() == acquired && t.ttl.has_value() == acquired,
           "I7: pid/ttl iff acquired: ", id);
    if (t.state == TaskState::suspended) {
      expect(awaited_by_someone(id) && t.resumes.empty(), "I11: suspended task not awaiting: ", id);
    }
    expect(t.state != TaskState::fulfilled || t.resumes.empty(),
           "I12: fulfilled with resumes: ", id);
    expect(!acquired || t.version >= 1, "I12: acquired at version 0: ", id);
    for (const std::string& r : t.resumes) {
      const Promise* q = find_promise(r);
      expect(q != nullptr && is_settled(*q), "I13: resume names a non-settled promise: ", r);
    }
  }

  // I8
  void timeouts() {
    for (const auto& [id, t] : s_.tasks) {
      const TaskTimeout* tt = s_.task_timeouts.find(id);
      const bool lease = tt != nullptr && tt->kind == TimeoutKind::lease;
      const bool retry = tt != nullptr && tt->kind == TimeoutKind::retry;
      expect(lease == (t.state == TaskState::acquired), "I8: lease iff acquired: ", id);
      expect(retry == (t.state == TaskState::pending), "I8: retry iff pending: ", id);
    }
    // In map order (entries()'s), so that the first violation named is the same.
    if (s_.task_timeouts.any_of(
            [&](const std::string& id, const TaskTimeout&) { return find_task(id) == nullptr; })) {
      for (const auto& [id, tt] : s_.task_timeouts.entries())
        expect(find_task(id) != nullptr, "I8: timeout without task: ", id);
    }
  }

  // I14: born-expired promises (createdAt = timeoutAt) are exempt.
  void creation_order() {
    std::optional<std::int64_t> last;
    for (const std::string& id : s_.creation_order) {
      const Promise* p = find_promise(id);
      if (p == nullptr || p->created_at == p->timeout_at) continue;
      expect(!last || *last <= p->created_at, "I14: createdAt decreases at ", id);
      last = p->created_at;
    }
  }

  const State& s_;
  std::vector<std::string> violations_;
};
}  // namespace

std::vector<std::string> check_invariants(const State& state) {
  return Checker(state).run();
}

}  // namespace seer::promises
