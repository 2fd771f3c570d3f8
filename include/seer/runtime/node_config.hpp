// Where each process of a deployment listens: a small JSON file, the same for every process.
//   {"processes": {"locks":   {"id": 0, "address": "127.0.0.1:7101"},
//                  "client1": {"id": 2, "address": "127.0.0.1:7103"}}}
// `id` is the sim::ProcessId the process has in every Env (what env.send takes); names and ids are
// unique.
#pragma once

#include "seer/sim/message.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace seer::runtime {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NodeAddress {
  std::string name;
  sim::ProcessId id = sim::kNoProcess;
  std::string host;
  std::uint16_t port = 0;
};

struct NodeConfig {
  std::vector<NodeAddress> processes;  // in name order

  // Null if absent.
  const NodeAddress* find(std::string_view name) const;
  const NodeAddress* find(sim::ProcessId id) const;
  // Throws ConfigError naming the process.
  const NodeAddress& at(std::string_view name) const;

  // Throw ConfigError with one line saying what is wrong.
  static NodeConfig parse(const nlohmann::json& j);
  static NodeConfig load(const std::string& path);
  // Every named process on 127.0.0.1 at a port free when asked (the kernel's pick), ids 0, 1, ...
  // in the given order: for tests and benchmarks that start a whole deployment in one program.
  static NodeConfig loopback(const std::vector<std::string>& names);
};

}  // namespace seer::runtime
