// How clients and workers talk to the servers: one request at a time to a server chosen at random,
// waiting up to kRequestTimeout, and recorded in the history as one operation. A timeout leaves
// the operation's outcome unknown (info), as an HTTP timeout does; retrying is the caller's
// decision, and a retry is a new operation.
#pragma once

#include "design.hpp"

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace seer::promises::design {

struct ProtocolRequest;

struct Answer {
  // {kind, head: {corrId, status, version}, data}: the server's message's own, shared, not copied
  std::shared_ptr<const nlohmann::json> response;
  std::int64_t now = 0;
  int status() const { return (*response)["head"]["status"].get<int>(); }
  const nlohmann::json& data() const { return (*response)["data"]; }
};

class Caller {
 public:
  // Messages that are not the awaited response (execute, unblock) are kept in `inbox`.
  Caller(sim::Env& env, std::shared_ptr<const Deployment> deployment, sim::HistoryRecorder& history,
         std::shared_ptr<HistoryIds> ids, ResponseObserver observer,
         std::deque<sim::Message>& inbox);
  // Sends `request` (corrId filled in) and records it; nullopt on timeout (or, fenced, when the
  // server refused it as another life's). `sent`, if given, receives the request as recorded
  // (shared with the message, never changed once sent): a caller that may send it again takes it
  // back from there instead of copying each request before its first attempt (a call sets the
  // corrId anew).
  sim::Task<std::optional<Answer>> call(nlohmann::json request,
                                        std::shared_ptr<const nlohmann::json>* sent = nullptr);

 private:
  // Records the call's outcome as unknown and forgets the server's life.
  std::optional<Answer> unknown(const std::string& kind, const char* why, sim::ProcessId server);

  sim::Env& env_;
  std::shared_ptr<const Deployment> deployment_;
  sim::HistoryRecorder& history_;
  std::shared_ptr<HistoryIds> ids_;
  ResponseObserver observer_;
  std::deque<sim::Message>& inbox_;
  int process_;
  // Random like the SDK's randomUUID corrIds: a restarted process must never take a late answer
  // to a call of its previous life for one of its own.
  std::uint64_t next_call_;
  // The life of each server this process has a connection to (fenced variants).
  std::map<sim::ProcessId, std::uint64_t> lives_;
};

}  // namespace seer::promises::design
