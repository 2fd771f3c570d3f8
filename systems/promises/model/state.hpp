// The abstract state σ of the promises specification (spec §2), as plain value types.
//
// Everything here is copyable and comparable, and every container iterates in a deterministic
// order: ordered maps keyed by id, or insertion-ordered sets where the spec says "ordered set" (the
// order fixes the order of emitted messages, so it is real state).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seer::promises {

// spec §2.3: pending tasks are re-dispatched every RETRY ms.
inline constexpr std::int64_t kRetry = 30000;

using Tags = std::map<std::string, std::string>;

// spec §1.1 Value. Both fields are optional and "absent" differs from "empty" on the wire.
struct Value {
  std::optional<std::map<std::string, std::string>> headers;
  std::optional<std::string> data;
  bool operator==(const Value&) const = default;
};

enum class PromiseState { pending, resolved, rejected, rejected_canceled, rejected_timedout };
enum class TaskState { pending, acquired, suspended, halted, fulfilled };

// A set that remembers first-insertion order (spec §0 "ordered set"): adding a present element
// changes nothing; removing then re-adding moves it to the end. Linear, since these sets are small
// (callbacks of one promise, listeners, resumes of one task).
template <class T>
class OrderedSet {
 public:
  OrderedSet() = default;
  OrderedSet(std::initializer_list<T> items) {
    for (const T& item : items) add(item);
  }
  bool contains(const T& item) const {
    return std::find(items_.begin(), items_.end(), item) != items_.end();
  }
  void add(const T& item) {
    if (!contains(item)) items_.push_back(item);
  }
  bool remove(const T& item) {
    const auto it = std::find(items_.begin(), items_.end(), item);
    if (it == items_.end()) return false;
    items_.erase(it);
    return true;
  }
  void clear() { items_.clear(); }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  const std::vector<T>& items() const { return items_; }
  bool operator==(const OrderedSet&) const = default;

 private:
  std::vector<T> items_;
};

// spec §2.1
struct Promise {
  std::string id;
  std::int64_t seq = 0;  // creation order, 1-based
  PromiseState state = PromiseState::pending;
  Value param;
  Value value;
  Tags tags;
  std::int64_t timeout_at = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> settled_at;
  OrderedSet<std::string> callbacks;  // awaiter ids
  OrderedSet<std::string> listeners;  // addresses
  bool operator==(const Promise&) const = default;
};

// spec §2.2
struct Task {
  std::string id;
  TaskState state = TaskState::pending;
  std::int64_t version = 0;
  std::optional<std::string> pid;
  std::optional<std::int64_t> ttl;
  OrderedSet<std::string> resumes;
  bool operator==(const Task&) const = default;
};

// spec §2.3: wire `type` 0 (retry) and 1 (lease).
enum class TimeoutKind { retry = 0, lease = 1 };

struct TaskTimeout {
  TimeoutKind kind = TimeoutKind::retry;
  std::int64_t at = 0;
  bool operator==(const TaskTimeout&) const = default;
};

// σ.TT, an "ordered map" (spec §0): upsert replaces a present key in place, appends an absent one.
// Its order orders the messages of a sweep, so equality compares the ordered entries.
class TaskTimeouts {
 public:
  using Entry = std::pair<std::string, TaskTimeout>;

  void upsert(const std::string& id, TaskTimeout timeout);
  void erase(const std::string& id);
  const TaskTimeout* find(const std::string& id) const;
  // Where the entry stands in this map's order (upserts keep it, an erase and re-add moves it to
  // the end), or nullopt. Lets a store tell an entry kept in place from one appended.
  std::optional<std::uint64_t> position(const std::string& id) const;
  std::vector<Entry> entries() const;  // in map order
  // Whether pred(id, timeout) holds for some entry, without building entries() (any order).
  template <class Pred>
  bool any_of(Pred pred) const {
    for (const auto& [id, slot] : by_id_) {
      if (pred(id, slot.timeout)) return true;
    }
    return false;
  }
  std::size_t size() const { return by_id_.size(); }
  void clear();
  // entries() == other.entries(), without building them: states are compared often (the server
  // after every step, the history checker at every search step).
  bool operator==(const TaskTimeouts& other) const;

 private:
  struct Slot {
    TaskTimeout timeout;
    std::uint64_t position = 0;
  };
  std::map<std::string, Slot> by_id_;
  std::map<std::uint64_t, std::string> by_position_;
  std::uint64_t next_position_ = 0;
};

// σ (spec §2). Schedules (module S) are not implemented by this model, so σ.S and σ.ST are absent.
struct State {
  std::map<std::string, Promise> promises;
  std::vector<std::string> creation_order;  // promise ids by seq: creation_order[seq - 1]
  std::map<std::string, Task> tasks;
  TaskTimeouts task_timeouts;
  // A store that loads only the rows a request touches (../concrete/README.md) holds part of an
  // origin: these are the origin's promises it did not load, so a new promise still gets the next
  // seq (creation_order then lists the loaded ones, by seq). 0 for a whole σ.
  std::int64_t unloaded_promises = 0;
  bool operator==(const State&) const = default;
};

}  // namespace seer::promises
