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
  Storage& storage() override { return *this; }

 protected:
  void send_from(CodeSite at, ProcessId to, PayloadPtr body) override;
  bool try_receive(std::optional<Message>& out) override;
  void park_receive(std::coroutine_handle<> h, Duration timeout, std::optional<Message>* out,
                    CodeSite at) override;
  void park_sleep(std::coroutine_handle<> h, Duration d, CodeSite at) override;
  void park_sync(std::coroutine_handle<> h, CodeSite at) override;

  // Storage
  std::optional<std::string> read_at(CodeSite at, const std::string& key) override;
  void write_at(CodeSite at, const std::string& key, std::string value) override;
  void erase_at(CodeSite at, const std::string& key) override;
  std::vector<std::string> keys_at(CodeSite at, const std::string& prefix) override;

 private:
  ProcessSlot& slot() const { return sim_.processes[id_]; }
  // Marks the running process as parked on `kind`; the caller sets what ends the wait.
  ProcessSlot& begin_wait(Wait kind, std::coroutine_handle<> h, CodeSite at);
  Simulator::Impl& sim_;
  ProcessId id_;
};

}  // namespace seer::sim
