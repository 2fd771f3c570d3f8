#include "group_commit.hpp"

namespace seer::promises::server {

GroupCommit::GroupCommit(std::unique_ptr<sqlite::Connection> writer)
    : sqlite_(std::move(writer)),
      together_([db = sqlite_.get()](const Transactions& t) { return db->transact_together(t); }) {}

GroupCommit::GroupCommit(std::unique_ptr<postgres::Connection> writer)
    : postgres_(std::move(writer)), together_([db = postgres_.get()](const Transactions& t) {
        return db->transact_together(t);
      }) {}

sql::Outcome GroupCommit::write(const std::vector<sql::Statement>& statements) {
  Waiting mine{&statements, {}, false};
  std::unique_lock lock(mutex_);
  queued_.push_back(&mine);
  while (!mine.done) {
    if (leading_) {
      finished_.wait(lock);
      continue;
    }
    // Lead the next group: everything queued, ours among it (a previous leader would have
    // taken ours and marked it done).
    leading_ = true;
    std::vector<Waiting*> group;
    group.swap(queued_);
    lock.unlock();
    Transactions transactions;
    transactions.reserve(group.size());
    for (const auto* w : group) transactions.push_back(w->statements);
    std::vector<sql::Outcome> outcomes;
    try {
      outcomes = together_(transactions);
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
    leading_ = false;
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
  return leading_;
}

std::size_t GroupCommit::writes_waiting() const {
  std::lock_guard lock(mutex_);
  return queued_.size();
}

}  // namespace seer::promises::server
