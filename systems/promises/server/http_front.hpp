// The HTTP side of seer-resonate (the wire protocol of @resonatehq/sdk's HttpNetwork):
//   POST /                      a request envelope {kind, head, data}; the answer is the response
//                               envelope with HTTP status = head.status, always application/json,
//                               and the `now` it was applied at in the X-Seer-Now header;
//   GET /poll/{group}/{pid}     server-sent events: one `data:` line per message for that process.
// Requests become ProtocolRequest messages for a server process (the loop of the request's origin,
// loop_route.hpp), each on its LoopEnv; their ProtocolResponses come back through outbox(). A
// request the server does not answer within the request timeout (it could not make its effect
// durable) gets 503, which the SDK retries.
#pragma once

#include "mailroom.hpp"

#include "seer/runtime/loop_env.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace httplib {
class Server;
}

namespace seer::promises::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8001;    // 0: any free port
  int threads = 128;  // each open connection (a poll stream too) holds one while it is open
  std::chrono::milliseconds request_timeout{5000};    // below the SDK's 10 s
  std::chrono::milliseconds keep_alive_every{15000};  // an SSE comment on idle poll streams
  // If set, called with one line per request, poll stream and delivered message (--verbose).
  std::function<void(const std::string&)> log;
};

class HttpFront {
 public:
  // `servers`: the loops, at least one; they outlive the front.
  HttpFront(std::vector<runtime::LoopEnv*> servers, sim::ProcessId self, Mailroom& mailroom,
            HttpOptions options);
  ~HttpFront();

  // Binds the socket; the port bound. Throws std::runtime_error if it cannot.
  int bind();
  // Serves until stop(); on the calling thread.
  void listen();
  // Returns once listen() has started on another thread (only then can stop() end it).
  void wait_until_listening() const;
  void stop();
  // Thread-safe (every loop calls it). What a server process sends: responses to waiting requests,
  // messages to poll streams.
  void outbox(sim::ProcessId to, const sim::PayloadPtr& body);
  // Answers every request still waiting with 503 (the server is going away), and every later one
  // at once.
  void fail_waiting();

 private:
  struct Answer {
    nlohmann::json response;
    std::int64_t now = 0;
  };
  void serve_post(const std::string& body, int& status, std::string& out, std::string& now);

  std::vector<runtime::LoopEnv*> servers_;
  sim::ProcessId self_;
  Mailroom& mailroom_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<std::uint64_t> next_call_{1};
  std::mutex mutex_;
  std::map<std::uint64_t, std::promise<std::optional<Answer>>> waiting_;
  bool closing_ = false;  // fail_waiting() was called
};

}  // namespace seer::promises::server
