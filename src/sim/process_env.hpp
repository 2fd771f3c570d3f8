// The Env a simulated process sees. Every call is recorded as a trace event and routed to the
// simulator.
#pragma once

#include "simulator_impl.hpp"

namespace seer::sim {

class ProcessEnv final : public Env, public Storage {
 public:
  ProcessEnv(Simulator::Impl& sim, ProcessId id) : sim_(sim), id_(id) {}

  ProcessId self() const override { return id_; }
  const std::string& name_of(ProcessId id) const override { return sim_.processes.at(id).name; }
  Time now() const override { return sim_.local_time(slot()); }
  std::uint64_t random() override { return sim_.process_prng.next(); }
  void send(ProcessId to, PayloadPtr body) override;
  Storage& storage() override { return *this; }

  // Storage
  std::optional<std::string> get(const std::string& key) override;
  void put(const std::string& key, std::string value) override;
  void erase(const std::string& key) override;
  std::vector<std::string> keys(const std::string& prefix) override;

 protected:
  bool try_receive(std::optional<Message>& out) override;
  void park_receive(std::coroutine_handle<> h, Duration timeout,
                    std::optional<Message>* out) override;
  void park_sleep(std::coroutine_handle<> h, Duration d) override;
  void park_sync(std::coroutine_handle<> h) override;

 private:
  ProcessSlot& slot() const { return sim_.processes[id_]; }
  Simulator::Impl& sim_;
  ProcessId id_;
};

}  // namespace seer::sim
