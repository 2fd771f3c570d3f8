// One process of a deployment: a LoopEnv whose messages travel over TCP between OS processes.
// It listens on its address from the NodeConfig; sends open one connection per peer (reopened
// when it breaks, so a restarted peer is reachable again) and carry frames (length-prefixed JSON:
// from, to, payload type and body) that the receiver decodes with the payload codec (codec.hpp).
// The network may lose messages, as in the simulator: a message to a peer that cannot be reached
// (refused, reset, not answering in time) is dropped and the sender goes on; one that cannot be
// decoded is logged on one line and dropped. Messages between two processes arrive in order
// while their connection lasts, and never twice.
#pragma once

#include "seer/runtime/loop_env.hpp"
#include "seer/runtime/node_config.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace seer::runtime {

class TcpNode {
 public:
  // Where the node's one-line notes go (a dropped message and why); stderr by default.
  using Log = std::function<void(const std::string& line)>;

  // Binds and listens on `name`'s address (SO_REUSEADDR, so a restarted process gets its port
  // back at once) and starts the network thread. Throws ConfigError for a name not in the config,
  // std::runtime_error if the address cannot be bound. `storage` is the Env's local disk, if any.
  TcpNode(NodeConfig config, const std::string& name, sim::Storage* storage = nullptr,
          Log log = {});
  ~TcpNode();
  TcpNode(const TcpNode&) = delete;
  TcpNode& operator=(const TcpNode&) = delete;

  LoopEnv& env() { return env_; }
  const NodeConfig& config() const { return config_; }
  // The id of a process of the config; throws ConfigError.
  sim::ProcessId id_of(std::string_view name) const { return config_.at(name).id; }
  // Runs `process` on the calling thread (LoopEnv::run); stop() from any thread ends it.
  void run(sim::Task<void> process) { env_.run(std::move(process)); }
  void stop() { env_.stop(); }

  struct Stats {
    std::uint64_t sent = 0;         // frames fully written to a connection
    std::uint64_t received = 0;     // messages handed to the process
    std::uint64_t dropped = 0;      // sends that never left: the peer was unreachable
    std::uint64_t undecodable = 0;  // frames received that could not be decoded
  };
  Stats stats() const;

 private:
  struct Network;
  NodeConfig config_;
  NodeAddress self_;
  LoopEnv env_;
  std::unique_ptr<Network> network_;
};

}  // namespace seer::runtime
