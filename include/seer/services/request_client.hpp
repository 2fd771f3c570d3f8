// The one request/await/stash loop behind every service client (KvClient, ObjectClient,
// QueueClient, SqlClient). It needs only Env: design code that includes a client cannot reach the
// simulator.
//
// Rules (docs/services.md):
// - One request at a time, no retries: retrying is the design's decision. `request` sends one
// request
//   and waits up to the timeout for the server's reply to it; nullptr means it timed out (the
//   request may or may not have been applied).
// - Replies are matched by request number, counted from `first_request`. A process that can crash
//   must start each life at a number no earlier life used (pass env.random()), or it takes a late
//   reply to its previous life's request for the answer to a new one.
// - While waiting the client consumes the process's messages. A reply of its kind that is not the
//   answer (late, or a network duplicate) is dropped; any other message goes to `stash` (oldest
//   first) when one is given, for the caller to handle after the call, and is dropped otherwise.
#pragma once

#include "seer/sim/env.hpp"
#include "seer/sim/message.hpp"
#include "seer/sim/task.hpp"
#include "seer/sim/time.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

namespace seer::services {

// `Request` is constructed as Request(request_number, args...); `Reply` carries the number in
// `req`. A service's client derives from it privately and inherits its constructor:
//   class QueueClient : private RequestClient<QueueRequest, QueueReply> {
//    public:
//     using RequestClient::RequestClient;  // (env, server, timeout, stash, first_request)
template <class Request, class Reply>
class RequestClient {
 public:
  RequestClient(sim::Env& env, sim::ProcessId server, sim::Duration timeout,
                std::deque<sim::Message>* stash = nullptr, std::uint64_t first_request = 1)
      : env_(env), server_(server), timeout_(timeout), stash_(stash), next_req_(first_request) {}

  // Sends Request(number, args...) now and returns the wait for its reply (nullptr: timed out).
  // `at`: the design's line that made the call (a client's public method takes it as a defaulted
  // last argument, CodeSite::here()), recorded on the request's send and its reply's delivery.
  template <class... Args>
  sim::Task<std::shared_ptr<const Reply>> request_at(sim::CodeSite at, Args&&... args) {
    const std::uint64_t req = next_req_++;
    // Not created const: a server that holds the only reference to a delivered request may move
    // its contents out instead of copying them (the simulated KV store does, for a write's value).
    env_.send(server_, std::make_shared<Request>(req, std::forward<Args>(args)...), at);
    return await_reply(req, at);
  }
  // request_at without a site: the trace names no line for the call.
  template <class... Args>
  sim::Task<std::shared_ptr<const Reply>> request(Args&&... args) {
    return request_at(sim::CodeSite::none(), std::forward<Args>(args)...);
  }

  // A call in one coroutine frame: sends Request(number, args...) when first awaited (as a
  // coroutine that awaits request() does), waits for the reply, and returns `then(reply)` (reply
  // nullptr: timed out). A client's call that awaited request() in a coroutine of its own to
  // convert the reply took two frames; the simulation makes ~400 store calls a run.
  template <class Result, class Then, class... Args>
  sim::Task<Result> request_then_at(sim::CodeSite at, Then then, Args... args) {
    const std::uint64_t req = next_req_++;
    env_.send(server_, std::make_shared<Request>(req, std::move(args)...), at);
    const sim::Time deadline = env_.now() + timeout_;
    for (;;) {
      const sim::Duration left = deadline - env_.now();
      if (left <= 0) break;
      auto m = co_await env_.receive_for(left, at);
      if (!m) break;
      if (auto reply = answer(*m, req)) co_return then(std::move(reply));
    }
    co_return then(nullptr);
  }
  // request_then_at without a site.
  template <class Result, class Then, class... Args>
  sim::Task<Result> request_then(Then then, Args... args) {
    return request_then_at<Result>(sim::CodeSite::none(), std::move(then), std::move(args)...);
  }

  sim::Env& env() const { return env_; }
  sim::ProcessId server() const { return server_; }

 private:
  sim::Task<std::shared_ptr<const Reply>> await_reply(std::uint64_t req, sim::CodeSite at) {
    const sim::Time deadline = env_.now() + timeout_;
    for (;;) {
      const sim::Duration left = deadline - env_.now();
      if (left <= 0) break;
      auto m = co_await env_.receive_for(left, at);
      if (!m) break;
      if (auto reply = answer(*m, req)) co_return reply;
    }
    co_return nullptr;
  }

  // The reply to request `req` if `m` is it, else nullptr: another message is stashed (if there is
  // a stash), a reply that is not the answer (late, or a duplicate) dropped.
  std::shared_ptr<const Reply> answer(sim::Message& m, std::uint64_t req) {
    const auto* reply = m.template as<Reply>();
    if (!reply) {
      if (stash_) stash_->push_back(std::move(m));
      return nullptr;
    }
    if (m.from != server_ || reply->req != req) return nullptr;  // late or duplicate reply
    return std::shared_ptr<const Reply>(std::move(m.body), reply);
  }

  sim::Env& env_;
  sim::ProcessId server_;
  sim::Duration timeout_;
  std::deque<sim::Message>* stash_;
  std::uint64_t next_req_;
};

}  // namespace seer::services
