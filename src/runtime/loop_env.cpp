#include "seer/runtime/loop_env.hpp"

#include "seer/runtime/file_storage.hpp"

#include <stdexcept>

namespace seer::runtime {

namespace {

std::mt19937_64 seeded_from_the_os() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

}  // namespace

LoopEnv::LoopEnv(sim::ProcessId self, std::string name, Outbox outbox, sim::Storage* storage)
    : self_(self),
      name_(std::move(name)),
      outbox_(std::move(outbox)),
      storage_(storage),
      random_(seeded_from_the_os()) {}

const std::string& LoopEnv::name_of(sim::ProcessId id) const {
  static const std::string peer = "peer";
  if (id == self_) return name_;
  const auto it = names_.find(id);
  return it == names_.end() ? peer : it->second;
}

sim::Time LoopEnv::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start_)
      .count();
}

sim::Storage& LoopEnv::storage() {
  if (!storage_) throw std::logic_error(name_ + ": this runtime was given no local storage");
  return *storage_;
}

void LoopEnv::post(sim::ProcessId from, sim::PayloadPtr body) {
  {
    std::lock_guard lock(mutex_);
    inbox_.push_back(sim::Message{from, self_, next_message_id_++, std::move(body)});
  }
  wake_.notify_one();
}

void LoopEnv::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

std::optional<sim::Message> LoopEnv::take_admitted() {
  while (!inbox_.empty()) {
    sim::Message m = std::move(inbox_.front());
    inbox_.pop_front();
    if (!admit_ || admit_(m)) return m;
  }
  return std::nullopt;
}

bool LoopEnv::try_receive(std::optional<sim::Message>& out) {
  std::lock_guard lock(mutex_);
  auto m = take_admitted();
  if (!m) return false;
  out = std::move(m);
  return true;
}

void LoopEnv::park(std::coroutine_handle<> h, std::optional<sim::Message>* out,
                   sim::Duration timeout) {
  Parked p{h, out, timeout >= 0, {}};
  if (p.has_deadline) {
    p.deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout);
  }
  parked_ = p;
}

void LoopEnv::park_receive(std::coroutine_handle<> h, sim::Duration timeout,
                           std::optional<sim::Message>* out, sim::CodeSite) {
  park(h, out, timeout);
}

void LoopEnv::park_sleep(std::coroutine_handle<> h, sim::Duration d, sim::CodeSite) {
  park(h, nullptr, d);
}

// A real fsync, on the loop's thread: the process resumes once its writes are durable (a storage
// that cannot be made durable, like a test's map, has nothing to do).
void LoopEnv::park_sync(std::coroutine_handle<> h, sim::CodeSite) {
  if (auto* durable = dynamic_cast<DurableStorage*>(storage_)) durable->sync();
  park(h, nullptr, 0);
}

void LoopEnv::run(sim::Task<void> process) {
  process.handle().resume();
  while (!process.done()) {
    if (!parked_) throw std::logic_error(name_ + ": the process waits on something not of its Env");
    const Parked p = *parked_;
    parked_.reset();
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] { return stopping_ || (p.out && !inbox_.empty()); };
      for (;;) {
        bool woke = true;
        if (p.has_deadline) {
          woke = wake_.wait_until(lock, p.deadline, ready);
        } else {
          wake_.wait(lock, ready);
        }
        if (stopping_ || !p.out || !woke) break;
        if (auto m = take_admitted()) {
          *p.out = std::move(m);
          break;
        }
        // Every message waiting was refused: wait on, to the same deadline.
      }
      if (stopping_) break;
    }
    p.handle.resume();
  }
  process.rethrow_if_failed();
}

}  // namespace seer::runtime
