#include "group_commit.hpp"

#include <algorithm>
#include <numeric>

namespace seer::promises::server {

GroupCommit::GroupCommit(std::unique_ptr<sqlite::Connection> writer) : sqlite_(std::move(writer)) {
  writers_.push_back(
      [db = sqlite_.get()](const Transactions& t) { return db->transact_together(t); });
  free_ = {0};
}

GroupCommit::GroupCommit(std::unique_ptr<postgres::Connection> writer) {
  postgres_.push_back(std::move(writer));
  writers_.push_back(
      [db = postgres_[0].get()](const Transactions& t) { return db->transact_together(t); });
  free_ = {0};
}

GroupCommit::GroupCommit(std::vector<std::unique_ptr<postgres::Connection>> writers)
    : postgres_(std::move(writers)) {
  for (auto& db : postgres_) {
    writers_.push_back([db = db.get()](const Transactions& t) { return db->transact_together(t); });
  }
  free_.resize(writers_.size());
  std::iota(free_.rbegin(), free_.rend(), std::size_t{0});  // writer 0 first
}

sql::Outcome GroupCommit::write(const std::vector<sql::Statement>& statements,
                                std::string lock_order) {
  Waiting mine{&statements, std::move(lock_order), {}, false, false};
  std::unique_lock lock(mutex_);
  queued_.push_back(&mine);
  while (!mine.done) {
    if (mine.taken || free_.empty()) {
      finished_.wait(lock);
      continue;
    }
    // Lead the next group on a free writer: everything queued, ours among it.
    const std::size_t writer = free_.back();
    free_.pop_back();
    std::vector<Waiting*> group;
    group.swap(queued_);
    for (auto* w : group) w->taken = true;
    lock.unlock();
    std::stable_sort(group.begin(), group.end(), [](const Waiting* a, const Waiting* b) {
      return a->lock_order < b->lock_order;
    });
    Transactions transactions;
    transactions.reserve(group.size());
    for (const auto* w : group) transactions.push_back(w->statements);
    std::vector<sql::Outcome> outcomes;
    try {
      outcomes = writers_[writer](transactions);
    } catch (...) {  // out of memory, say: nobody may wait for us forever
      outcomes.assign(group.size(), sql::Outcome{});
      for (auto& o : outcomes) o.error = "the group's transaction failed unexpectedly";
    }
    lock.lock();
    for (std::size_t i = 0; i < group.size(); ++i) {
      group[i]->outcome = std::move(outcomes[i]);
      group[i]->done = true;
    }
    ++groups_;
    writes_ += group.size();
    free_.push_back(writer);
    finished_.notify_all();  // the finished ones return; one of the queued leads next
  }
  return std::move(mine.outcome);
}

std::uint64_t GroupCommit::groups() const {
  std::lock_guard lock(mutex_);
  return groups_;
}

std::uint64_t GroupCommit::writes() const {
  std::lock_guard lock(mutex_);
  return writes_;
}

bool GroupCommit::committing() const {
  std::lock_guard lock(mutex_);
  return free_.size() < writers_.size();
}

std::size_t GroupCommit::writes_waiting() const {
  std::lock_guard lock(mutex_);
  return queued_.size();
}

}  // namespace seer::promises::server
