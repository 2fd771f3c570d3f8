// A TCP proxy on loopback for the live fault test: clients connect to it, it forwards to the
// server's current port, and cut() drops every connection it carries at once, mid-request or
// mid-response, the way a failing network or load balancer does.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace seer::promises::live {

class FaultProxy {
 public:
  FaultProxy();  // listens on a free loopback port
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void forward_to(int server_port) { target_ = server_port; }
  // Shuts down every connection through the proxy; the number cut.
  int cut();

 private:
  void accept_loop();
  void pump(int client, int server);

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> target_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::set<int> open_;  // sockets of live connections, both ends
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace seer::promises::live
