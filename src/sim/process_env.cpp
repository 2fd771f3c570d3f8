#include "process_env.hpp"

#include "seer/assert.hpp"

namespace seer::sim {

void ProcessEnv::send_from(CodeSite at, ProcessId to, PayloadPtr body) {
  sim_.send(id_, to, std::move(body), at);
}

std::optional<std::string> ProcessEnv::read_at(CodeSite at, const std::string& key) {
  bool from_buffer = false;
  auto value = slot().disk.read(key, &from_buffer);
  auto pooled_e = sim_.make_event(id_, EventKind::kStorageRead);
  auto& e = *pooled_e;
  e.site = at;
  if (sim_.sim.tracing()) {
    e.detail = {{"key", key}, {"found", value.has_value()}};
    // Forbidden fact: a read served from unsynced data returns something a crash may still take
    // back.
    e.oracle = {{"unsynced", from_buffer}};
  }
  sim_.emit(e);
  return value;
}

void ProcessEnv::write_at(CodeSite at, const std::string& key, std::string value) {
  auto pooled_e = sim_.make_event(id_, EventKind::kStorageWrite);
  auto& e = *pooled_e;
  e.site = at;
  if (sim_.sim.tracing()) e.detail = {{"key", key}, {"bytes", value.size()}};
  slot().disk.write(key, std::move(value));
  sim_.emit(e);
}

void ProcessEnv::erase_at(CodeSite at, const std::string& key) {
  auto pooled_e = sim_.make_event(id_, EventKind::kStorageWrite);
  auto& e = *pooled_e;
  e.site = at;
  if (sim_.sim.tracing()) e.detail = {{"key", key}, {"erase", true}};
  slot().disk.write(key, std::nullopt);
  sim_.emit(e);
}

std::vector<std::string> ProcessEnv::keys_at(CodeSite at, const std::string& prefix) {
  auto result = slot().disk.keys(prefix);
  auto pooled_e = sim_.make_event(id_, EventKind::kStorageRead);
  auto& e = *pooled_e;
  e.site = at;
  if (sim_.sim.tracing()) e.detail = {{"prefix", prefix}, {"count", result.size()}};
  sim_.emit(e);
  return result;
}

bool ProcessEnv::try_receive(std::optional<Message>& out) {
  auto& s = slot();
  if (s.mailbox.empty()) return false;
  out = std::move(s.mailbox.front().message);
  s.mailbox.pop_front();
  return true;
}

ProcessSlot& ProcessEnv::begin_wait(Wait kind, std::coroutine_handle<> h, CodeSite at) {
  auto& s = slot();
  SEER_ASSERT(sim_.current == id_, "only the running process waits");
  SEER_ASSERT(s.wait == Wait::kNone && !s.waiter, "a process waits for one thing at a time");
  s.wait = kind;
  s.waiter = h;
  s.wait_cause = s.last_event;
  s.wait_site = at;
  return s;
}

void ProcessEnv::park_receive(std::coroutine_handle<> h, Duration timeout,
                              std::optional<Message>* out, CodeSite at) {
  auto& s = begin_wait(Wait::kReceive, h, at);
  s.receive_out = out;
  s.wait_token = timeout >= 0 ? sim_.schedule_wake(id_, sim_.true_duration(s, timeout)) : 0;
}

void ProcessEnv::park_sleep(std::coroutine_handle<> h, Duration d, CodeSite at) {
  auto& s = begin_wait(Wait::kSleep, h, at);
  s.wait_token = sim_.schedule_wake(id_, sim_.true_duration(s, d));
}

void ProcessEnv::park_sync(std::coroutine_handle<> h, CodeSite at) {
  auto& s = begin_wait(Wait::kSync, h, at);
  s.wait_token = sim_.schedule_wake(id_, sim_.profile.sync_latency);
}

}  // namespace seer::sim
