// The HTTP side of seer-resonate (the wire protocol of @resonatehq/sdk's HttpNetwork):
//   POST /                      a request envelope {kind, head, data}; the answer is the response
//                               envelope with HTTP status = head.status, always application/json,
//                               and the `now` it was applied at in the X-Seer-Now header;
//   GET /poll/{group}/{pid}     server-sent events: one `data:` line per message for that process.
// Event-driven (Boost.Beast on Asio): a few I/O threads serve every connection, so an open
// connection, an idle poll stream included, costs a socket and a few kilobytes, not a thread.
// Requests become ProtocolRequest messages for a server process (the loop of the request's origin,
// loop_route.hpp), each on its LoopEnv; their ProtocolResponses come back through outbox(). A
// request the server has not started on within the request timeout is withdrawn (never applied)
// and answered 503, which the SDK retries; one it has started on gets its answer, or 503 (outcome
// unknown) if a second timeout passes without one (its store could not make it durable).
#pragma once

#include "mailroom.hpp"

#include "seer/runtime/loop_env.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seer::promises::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8001;                                    // 0: any free port
  int io_threads = 2;                                 // threads serving every connection
  std::chrono::milliseconds request_timeout{5000};    // below the SDK's 10 s
  std::chrono::milliseconds keep_alive_every{15000};  // an SSE comment on idle poll streams
  // A keep-alive connection with no request for this long is closed (the SDK's fetch closes its
  // own idle connections after 4 s; `Keep-Alive: timeout=` tells it ours).
  std::chrono::milliseconds idle_timeout{60000};
  // From a request's first byte to its last (and a TLS handshake, and a write to a client): a
  // slow sender is cut off after this and holds nothing but its socket meanwhile.
  std::chrono::milliseconds read_timeout{10000};
  std::size_t max_connections = 100000;    // beyond: accepted and closed at once
  std::size_t max_body = 8 * 1024 * 1024;  // a larger request body gets 413, unread
  std::size_t max_id_bytes = 4096;         // a longer promise or task id gets 400
  std::size_t max_tag_bytes = 4096;        // a longer tag key or value gets 400
  // Request bodies being read or served at once, in bytes (a body counts its Content-Length from
  // its header on, or max_body if chunked): a request beyond gets 503 at once, unread, so many
  // concurrent large requests cannot take the memory.
  std::size_t body_budget = 64 * 1024 * 1024;
  // Bearer tokens (--auth-token-file): empty, no authentication. Each line of the file is a token,
  // optionally followed by the id prefixes it is limited to (its tenant): `TOKEN [PREFIX ...]`.
  std::string auth_token_file;
  // HTTPS (--tls-cert, --tls-key: PEM files); both empty: plain HTTP.
  std::string tls_cert, tls_key;
  // If set, called with one line per request, poll stream and delivered message (--verbose).
  // Tokens never appear in it (a request's head.auth is shown as "<redacted>").
  std::function<void(const std::string&)> log;
  // Always called: one line for what an operator must know (accept failing, say).
  std::function<void(const std::string&)> warn;
};

// Counters for tests and benches (thread-safe reads).
struct HttpStats {
  std::size_t connections = 0;  // open now
  std::size_t poll_streams = 0;
  std::uint64_t withdrawn = 0;  // requests answered 503 before the server started on them
  std::size_t body_bytes = 0;   // of body_budget, in use now
};

class HttpFront {
 public:
  // `servers`: the loops, at least one; they outlive the front. Installs an admit filter on each
  // (LoopEnv::set_admit) that withdraws requests already answered 503.
  HttpFront(std::vector<runtime::LoopEnv*> servers, sim::ProcessId self, Mailroom& mailroom,
            HttpOptions options);
  ~HttpFront();

  // Binds the socket; the port bound. Throws std::runtime_error if it cannot.
  int bind();
  // Serves until stop(); on the calling thread (and io_threads - 1 more).
  void listen();
  // Returns once listen() has started on another thread.
  void wait_until_listening() const;
  // Stops accepting, closes poll streams and idle connections, lets answers being written finish
  // (at most a second), and makes listen() return.
  void stop();
  // Thread-safe (every loop calls it). What a server process sends: responses to waiting requests,
  // messages to poll streams.
  void outbox(sim::ProcessId to, const sim::PayloadPtr& body);
  // Answers every request still waiting with 503 (the server is going away), and every later one
  // at once.
  void fail_waiting();
  HttpStats stats() const;
  // Reads --auth-token-file again (SIGHUP). A summary without tokens ("3 tokens, 1 limited to id
  // prefixes"); throws std::runtime_error (the old tokens stay) if the file is unreadable or
  // has none.
  std::string reload_tokens();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace seer::promises::server
