#include "group_commit.hpp"

#include <algorithm>

namespace seer::promises::server {

GroupCommit::GroupCommit(std::unique_ptr<sqlite::Connection> writer) : sqlite_(std::move(writer)) {
  writers_.push_back(
      [db = sqlite_.get()](const Transactions& t) { return db->transact_together(t); });
  start_writers();
}

GroupCommit::GroupCommit(std::unique_ptr<postgres::Connection> writer) {
  postgres_.push_back(std::move(writer));
  writers_.push_back(
      [db = postgres_[0].get()](const Transactions& t) { return db->transact_together(t); });
  start_writers();
}

GroupCommit::GroupCommit(std::vector<std::unique_ptr<postgres::Connection>> writers)
    : postgres_(std::move(writers)) {
  for (auto& db : postgres_) {
    writers_.push_back([db = db.get()](const Transactions& t) { return db->transact_together(t); });
  }
  start_writers();
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& w : writer_states_) w->wake.notify_one();
  }
  for (auto& t : threads_) t.join();
}

void GroupCommit::start_writers() {
  for (std::size_t i = 0; i < writers_.size(); ++i) {
    writer_states_.push_back(std::make_unique<Writer>());
    free_.insert(free_.begin(), i);
  }
  for (std::size_t i = 0; i < writers_.size(); ++i) {
    threads_.emplace_back([this, i] { run_writer(i); });
  }
}

sql::Outcome GroupCommit::write(const std::vector<sql::Statement>& statements,
                                std::string lock_order) {
  Waiting mine{&statements, std::move(lock_order), {}, false, {}};
  std::unique_lock lock(mutex_);
  queued_.push_back(&mine);
  if (!free_.empty()) {  // else a busy writer takes it after its group
    Writer& writer = *writer_states_[free_.back()];
    free_.pop_back();
    writer.assigned = true;
    writer.wake.notify_one();
  }
  mine.wake.wait(lock, [&] { return mine.done; });
  return std::move(mine.outcome);
}

void GroupCommit::run_writer(std::size_t writer) {
  Writer& self = *writer_states_[writer];
  std::unique_lock lock(mutex_);
  while (true) {
    self.wake.wait(lock, [&] { return stopping_ || self.assigned; });
    if (!self.assigned) return;  // stopping
    while (!queued_.empty()) {   // group after group, as long as writes wait
      std::vector<Waiting*> group;
      group.swap(queued_);
      ++busy_;
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
      --busy_;
      ++groups_;
      writes_ += group.size();
      // Under the lock: a woken write returns, and its Waiting is gone, once the lock is free.
      for (std::size_t i = 0; i < group.size(); ++i) {
        group[i]->outcome = std::move(outcomes[i]);
        group[i]->done = true;
        group[i]->wake.notify_one();
      }
    }
    self.assigned = false;
    free_.push_back(writer);
  }
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
  return busy_ > 0;
}

std::size_t GroupCommit::writes_waiting() const {
  std::lock_guard lock(mutex_);
  return queued_.size();
}

}  // namespace seer::promises::server
