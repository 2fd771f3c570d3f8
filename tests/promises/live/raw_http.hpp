// Plain sockets for the live front-end tests: many connections from one thread (poll streams held
// open, clients driven by poll()), bytes sent exactly as written (pipelining, slow senders) and
// answers read as they come. Loopback only.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seer::promises::live {

// Raises this process's open-file limit to its hard limit (many connections in one test).
void raise_file_limit();

// A blocking connection to 127.0.0.1:`port`. Throws std::runtime_error.
int connect_loopback(int port);
void send_all(int fd, std::string_view bytes);  // throws std::runtime_error

struct RawResponse {
  int status = 0;
  std::string headers;  // the status line and headers
  std::string body;
};

// Takes one whole response (Content-Length framed) off the front of `buffer`, if there is one.
std::optional<RawResponse> take_response(std::string& buffer);
// Reads from `fd` into `buffer` until one response is whole; nullopt if the connection ends or
// `timeout` passes first.
std::optional<RawResponse> read_response(int fd, std::string& buffer,
                                         std::chrono::milliseconds timeout);

// "POST / HTTP/1.1" with `body`, keep-alive.
std::string post_request(std::string_view body, std::string_view extra_headers = "");

// The SDK's promise.create (no timeout to speak of) and promise.get of `id`, corrId = id.
nlohmann::json promise_create(const std::string& id);
nlohmann::json promise_get(const std::string& id);

// Whether the peer has closed `fd` (a read returns end of file or an error) within `wait`.
bool closed_by_peer(int fd, std::chrono::milliseconds wait);

// The server's resident set in kB (VmRSS of /proc/PID/status), or -1.
long rss_kb(int pid);

}  // namespace seer::promises::live
